/**
 * The parts a spool record's columns are built from, each made once per set of names, device or
 * second rather than once per reading (see encodeAppend in spool-store.ts).
 */
import { fieldReadingsTopic } from '../../shared/bus/index.js';
import { fieldOrder, lineSeries } from '../line-protocol.js';
import { memoByNames } from '../names-memo.js';
import type { NormalizedReading } from '../reading.js';

/**
 * How a set of quantity names, in the order a reading lists them, is written: JSON keys in that
 * order (`{"a":`, `,"b":`), line-protocol keys sorted and escaped (`a=`, `,b=`, as lineFields
 * writes them) with the position of each in the reading. A fleet sends a handful of such sets.
 */
export interface NameSet {
  jsonKeys: string[];
  lineKeys: string[];
  lineOrder: number[];
}

export const nameSetOf = memoByNames((names): NameSet => {
  const sorted = fieldOrder(names);
  return {
    jsonKeys: names.map((name, i) => `${i === 0 ? '{' : ','}${JSON.stringify(name)}:`),
    lineKeys: sorted.map(([, escaped], i) => `${i === 0 ? '' : ','}${escaped}=`),
    lineOrder: sorted.map(([name]) => names.indexOf(name)),
  };
});

const DAY_MS = 86_400_000;
/** `00` … `59`. */
const TWO_DIGITS = Array.from({ length: 60 }, (_, i) => (i < 10 ? `0${i}` : String(i)));

/**
 * `new Date(ts).toISOString()`, with the date made once per day and the time of day written from
 * numbers: a fleet's readings interleave from many seconds, so a string kept per second was made
 * again for most readings.
 */
let isoDay = Number.NaN;
let isoDate = '';
export function isoTime(time: number): string {
  // A Date keeps whole milliseconds, cut toward zero.
  const ts = Math.trunc(time);
  const day = Math.floor(ts / DAY_MS);
  if (day !== isoDay) {
    // `YYYY-MM-DDT` (or an extended year's `+YYYYYY-MM-DDT`): what precedes `00:00:00.000Z`.
    isoDate = new Date(day * DAY_MS).toISOString().slice(0, -13);
    isoDay = day;
  }
  let rest = ts - day * DAY_MS;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1000);
  const ms = rest - seconds * 1000;
  return `${isoDate}${TWO_DIGITS[hours]}:${TWO_DIGITS[minutes]}:${TWO_DIGITS[seconds]}.${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z`;
}

/** What every reading of one device starts with, in each column: made once per device, not per reading. */
export interface DeviceParts {
  farm: string;
  field: string;
  /** `{"device":…,"farm":…,"field":…` */
  json: string;
  /** The device id as a JSON string. */
  deviceJson: string;
  /** `reading,device=…,farm=…,field=…` */
  line: string;
  topic: string;
}

const deviceParts = new Map<string, DeviceParts>();
const MAX_CACHED_DEVICES = 100_000;

export function devicePartsOf(r: NormalizedReading): DeviceParts {
  const cached = deviceParts.get(r.device);
  // A device moved to another farm or field gets new parts.
  if (cached && cached.farm === r.farm && cached.field === r.field) return cached;
  if (deviceParts.size >= MAX_CACHED_DEVICES) deviceParts.clear();
  const parts: DeviceParts = {
    farm: r.farm,
    field: r.field,
    json: JSON.stringify({ device: r.device, farm: r.farm, field: r.field }).slice(0, -1),
    deviceJson: JSON.stringify(r.device),
    line: lineSeries(r.device, r.farm, r.field),
    topic: fieldReadingsTopic(r.farm, r.field),
  };
  deviceParts.set(r.device, parts);
  return parts;
}
