import { Errors } from '../../shared/error-catalog.js';
import { MAX_QUANTITY_NAME_LENGTH } from '../../shared/quantities.js';
import { DEFAULT_MESSAGE_LIMITS } from '../ingest.js';
import { echo, own } from '../reading.js';

/**
 * SenML (RFC 8428) JSON packs, `Content-Type: application/senml+json`, mapped onto native
 * readings: records resolve their base fields, then records of one device and one time become one
 * reading. Names are canonical quantities; the device is the base name without its trailing
 * separator (the last part of a `urn:dev:…` name), or the credential itself when there is none.
 * Values in SenML units are converted to the canonical ones; a unit that does not fit the
 * quantity refuses the pack, since it is a device's configuration, not a passing fault.
 *
 * Names and units come from the device: they are looked up in `Map`s, never as properties, so
 * `"u": "valueOf"` or `"n": "constructor"` is a unit or a name like any other (and refused as one).
 *
 * What fieldhook cannot take is refused, never dropped: a string, boolean or data value (`vs`,
 * `vb`, `vd`; quantities are numbers), a sum (`s`, `bs`: a counter since some start, not the
 * amount of one interval), a field that must be understood (a name ending in `_`, RFC 8428 §4.4)
 * and a version above 10 (`bver`). A base value `bv` is added to each value.
 */
export interface SenmlItem {
  device?: string;
  ts: number;
  values: Record<string, number>;
}

/** How much of a pack the adapter reads before it refuses it. */
export interface SenmlLimits {
  /** Longest record name `n`; a longer one cannot be a quantity. */
  maxNameLength: number;
  /**
   * Most readings a pack may make (the ingest batch limit). The pack is refused as soon as it makes
   * one more, before the rest is read: a large pack costs no more than a full batch.
   */
  maxReadings: number;
}

/** Defaults of {@link SenmlLimits}. */
export const DEFAULT_SENML_LIMITS: Readonly<SenmlLimits> = Object.freeze({
  /** Characters of a record name: the longest quantity name, {@link MAX_QUANTITY_NAME_LENGTH}. */
  maxNameLength: MAX_QUANTITY_NAME_LENGTH,
  maxReadings: DEFAULT_MESSAGE_LIMITS.maxBatchItems,
});

type Convert = (v: number) => number;

/** SenML unit → canonical value, per quantity. No unit means the canonical one. */
const CONVERSIONS: ReadonlyMap<string, ReadonlyMap<string, Convert>> = new Map(
  Object.entries({
    soil_moisture: { '/': (v) => v, '%': (v) => v / 100 },
    soil_temperature: { Cel: (v) => v, K: (v) => v - 273.15 },
    air_temperature: { Cel: (v) => v, K: (v) => v - 273.15 },
    soil_ec: { 'S/m': (v) => v * 10 },
    relative_humidity: { '%RH': (v) => v, '%': (v) => v, '/': (v) => v * 100 },
    wind_speed: { 'm/s': (v) => v },
    solar_radiation: { 'W/m2': (v) => v },
    rainfall: { m: (v) => v * 1000, mm: (v) => v },
    et0: { m: (v) => v * 1000, mm: (v) => v },
    leaf_wetness: { '%': (v) => v, '/': (v) => v * 100 },
    battery_voltage: { V: (v) => v },
    rssi: { dBm: (v) => v, dBW: (v) => v + 30 },
  } satisfies Record<string, Record<string, Convert>>).map(([quantity, units]) => [quantity, new Map(Object.entries(units))]),
);

const identity: Convert = (v) => v;

/** The SenML version this adapter implements (RFC 8428's `bver` default). */
const SENML_VERSION = 10;

/** Values fieldhook does not store, with why: the pack is refused naming the field. */
const NOT_TAKEN: ReadonlyMap<string, string> = new Map([
  ['vs', 'string values are not taken: quantities are numbers (v)'],
  ['vb', 'boolean values are not taken: quantities are numbers (v)'],
  ['vd', 'data values are not taken: quantities are numbers (v)'],
  ['s', 'sums are not taken: send the amount of each interval as v'],
  ['bs', 'sums are not taken: send the amount of each interval as v'],
]);

/** Below 2^28 s a SenML time is relative to the receiver's clock; fieldhook keeps device time only. */
const RELATIVE_TIME_LIMIT_S = 2 ** 28;

const bad = (field: string, what: string) => Errors.ingestBadEnvelope(`${field}: ${what}`, { field });

/** The device of a base name: trailing `:` and `/` dropped (a loop: a regex here backtracks quadratically). */
function deviceOf(baseName: string): string | undefined {
  let end = baseName.length;
  while (end > 0 && (baseName[end - 1] === ':' || baseName[end - 1] === '/')) end--;
  const trimmed = baseName.slice(0, end);
  if (!trimmed) return undefined;
  const urn = /^urn:dev:[^:]+:(.+)$/.exec(trimmed);
  return urn ? urn[1] : trimmed;
}

export function fromSenml(body: unknown, limits: Readonly<SenmlLimits> = DEFAULT_SENML_LIMITS): SenmlItem[] {
  if (!Array.isArray(body)) throw bad('body', 'a SenML pack is a JSON array of records');
  let baseName = '';
  let baseTime = 0;
  let baseUnit: string | undefined;
  let baseValue = 0;
  const readings = new Map<string, { device: string | undefined; ts: number; values: Map<string, number> }>();
  body.forEach((raw: unknown, index) => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad(`[${index}]`, 'must be an object');
    for (const key of Object.keys(raw)) {
      const why = NOT_TAKEN.get(key);
      if (why !== undefined) throw bad(`[${index}].${key}`, why);
      if (key.endsWith('_')) throw bad(`[${index}].${echo(key)}`, 'a field that must be understood (RFC 8428 §4.4), which fieldhook does not know');
    }
    const bver = own(raw, 'bver');
    if (bver !== undefined && !(typeof bver === 'number' && Number.isInteger(bver) && bver >= 1 && bver <= SENML_VERSION)) {
      throw bad(`[${index}].bver`, `SenML version ${SENML_VERSION} or lower is understood`);
    }
    const bn = own(raw, 'bn');
    const bt = own(raw, 'bt');
    const bu = own(raw, 'bu');
    const bv = own(raw, 'bv');
    if (typeof bn === 'string') baseName = bn;
    if (typeof bt === 'number') baseTime = bt;
    if (typeof bu === 'string') baseUnit = bu;
    if (bv !== undefined) {
      if (typeof bv !== 'number' || !Number.isFinite(bv)) throw bad(`[${index}].bv`, 'must be a number');
      baseValue = bv;
    }
    const v = own(raw, 'v');
    const quantity = own(raw, 'n');
    if (v === undefined) {
      // A record of base fields only sets them for the records after it; one that names a
      // measurement must carry its value (RFC 8428 §4.6), else the measurement is lost unsaid.
      if (quantity !== undefined || own(raw, 't') !== undefined || own(raw, 'u') !== undefined) throw bad(`[${index}].v`, 'a record naming a measurement needs its value');
      return;
    }
    if (typeof quantity !== 'string') throw bad(`[${index}].n`, 'must name a quantity');
    if (quantity.length > limits.maxNameLength) {
      throw Errors.ingestNameTooLong(`[${index}].n: ${echo(quantity)} is longer than ${limits.maxNameLength} characters`, {
        field: `[${index}].n`,
        maxLength: limits.maxNameLength,
      });
    }
    if (typeof v !== 'number') throw bad(`[${index}].v`, 'must be a number');
    const t = own(raw, 't');
    const seconds = baseTime + (typeof t === 'number' ? t : 0);
    if (!(Math.abs(seconds) >= RELATIVE_TIME_LIMIT_S)) throw bad(`[${index}].t`, 'must be an absolute time (bt + t, seconds since 1970)');
    const u = own(raw, 'u');
    const unit = typeof u === 'string' ? u : baseUnit;
    const convert = unit === undefined ? identity : CONVERSIONS.get(quantity)?.get(unit);
    if (!convert) throw bad(`[${index}].u`, `unit ${echo(unit ?? '')} does not fit ${echo(quantity)}`);
    const device = deviceOf(baseName);
    // Not a time at all (bt + t overflowed): left to the reading rules, which refuse it as FH_ERR_READING_TS_INVALID.
    const ts = Math.round(seconds * 1000);
    const key = `${device ?? ''}@${ts}`;
    let reading = readings.get(key);
    if (!reading) {
      if (readings.size >= limits.maxReadings) {
        throw Errors.ingestBatchTooLarge(`At most ${limits.maxReadings} readings per request`, { maxBatchItems: limits.maxReadings });
      }
      readings.set(key, (reading = { device, ts, values: new Map() }));
    }
    // Two values of one quantity at one time are a contradiction the pack itself holds: which one
    // is the measurement is not ours to pick (RFC 8428 leaves it to the application).
    if (reading.values.has(quantity)) throw bad(`[${index}].n`, `${echo(quantity)} is given twice for one time`);
    reading.values.set(quantity, convert(baseValue + v));
  });
  // fromEntries defines own properties: a `__proto__` name stays a (refused) quantity name.
  return [...readings.values()].map(({ device, ts, values }) => ({ ...(device ? { device } : {}), ts, values: Object.fromEntries(values) }));
}
