import { Errors } from '../shared/error-catalog.js';
import { ID_PATTERN } from '../shared/ids.js';
import { quantitySpec, type QuantityTable } from '../shared/quantities.js';

/** A reading after validation and normalisation: the unit that is spooled, written and published. */
export interface NormalizedReading {
  device: string;
  farm: string;
  field: string;
  /** The device's own message id; with `device` the de-duplication key. */
  id?: string;
  /** Device time, epoch milliseconds: never replaced by the server's clock. */
  ts: number;
  values: Record<string, number>;
}

/** The part of a reading taken from the body; farm and field come from the device registry. */
export interface ParsedReading {
  device: string | undefined;
  id: string | undefined;
  ts: number;
  values: Record<string, number>;
}

/** Why one reading was refused: a stable code, a sentence, and the offending property. */
export interface Refusal {
  code: string;
  message: string;
  field?: string;
}

export type ParseResult = { ok: true; reading: ParsedReading } | ({ ok: false } & Refusal);

export interface ReadingRules {
  quantities: QuantityTable;
  /** Readings stamped further ahead of the server's clock than this are refused. */
  maxFutureMs: number;
  /** Late and back-filled readings are accepted up to this age. */
  maxAgeMs: number;
}

export const DEVICE_ID_PATTERN = ID_PATTERN;
const MAX_MESSAGE_ID_LENGTH = 128;
/**
 * ISO 8601 with a date, a time and an explicit offset: a time without zone is ambiguous. The
 * groups are checked as a calendar afterwards (no 31 November, 29 February only in leap years).
 */
const ISO_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:Z|([+-])(\d{2}):?(\d{2}))$/;
/** Epoch values below this are almost surely seconds, not milliseconds (before 1973-03-03). */
const MIN_EPOCH_MS = 1e11;
/** The last instant a JavaScript date can hold (ECMA-262 §21.4.1.1): later epoch values are not times. */
const MAX_EPOCH_MS = 8.64e15;

/** The longest part of an untrusted name or value a refusal repeats; the rest is cut with `…`. */
export const MAX_ECHOED_LENGTH = 64;

/** An untrusted name as a refusal may repeat it: at most {@link MAX_ECHOED_LENGTH} characters. */
export function echo(name: string): string {
  return name.length <= MAX_ECHOED_LENGTH ? name : `${name.slice(0, MAX_ECHOED_LENGTH)}…`;
}

/**
 * A property of an untrusted object, own properties only: the prototype chain is never consulted,
 * so `{}` has no `constructor` and a polluted `Object.prototype` adds no field.
 */
export function own(object: object, key: string): unknown {
  return Object.hasOwn(object, key) ? (object as Record<string, unknown>)[key] : undefined;
}

const refuse = (code: string, message: string, field?: string): ParseResult =>
  field === undefined ? { ok: false, code, message } : { ok: false, code, message, field };

const isLeapYear = (year: number) => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

/**
 * Epoch ms of an ISO 8601 time with a zone, or undefined when the text is not one or names a time
 * that does not exist (month 13, 31 November, 29 February 2026, 24:00, second 60, offset +25:00).
 * `Date.parse` alone would roll an impossible day over into the next month. Each calendar field
 * is checked against the calendar (the Gregorian leap rule for February), and the instant built
 * from the fields must give the same date back. Fractions beyond milliseconds are dropped, as
 * `Date.parse` does.
 */
export function parseIsoTimestamp(text: string): number | undefined {
  const m = ISO_TIMESTAMP.exec(text);
  if (!m) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const ms = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  if (day > (month === 2 && isLeapYear(year) ? 29 : DAYS_IN_MONTH[month - 1]!)) return undefined;
  let offsetMinutes = 0;
  if (m[8] !== undefined) {
    const offsetHours = Number(m[9]);
    const offsetMins = Number(m[10]);
    if (offsetHours > 23 || offsetMins > 59) return undefined;
    offsetMinutes = (m[8] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMins);
  }
  // Date.UTC reads years 0-99 as 1900-1999: those go through setUTCFullYear, which does not.
  let local = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  if (year < 100) {
    const date = new Date(local);
    date.setUTCFullYear(year, month - 1, day);
    local = date.getTime();
  }
  // The round trip: the days since the epoch give back the day that was written.
  const days = Math.floor(local / 86_400_000);
  if (civilDay(days) !== day) return undefined;
  return local - offsetMinutes * 60_000;
}

/** Day of the month of a count of days since 1970-01-01 (H. Hinnant's civil_from_days). */
function civilDay(days: number): number {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1_460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  return doy - Math.floor((153 * mp + 2) / 5) + 1;
}

function parseTimestamp(raw: unknown): number | Refusal {
  if (raw === undefined || raw === null) return { code: Errors.readingTsMissing.code, message: 'ts is required', field: 'ts' };
  if (typeof raw === 'number') {
    if (!Number.isFinite(raw) || !Number.isInteger(raw) || raw > MAX_EPOCH_MS) {
      return { code: Errors.readingTsInvalid.code, message: 'ts must be whole epoch milliseconds', field: 'ts' };
    }
    if (raw < MIN_EPOCH_MS) {
      return { code: Errors.readingTsInvalid.code, message: 'ts looks like epoch seconds; send milliseconds', field: 'ts' };
    }
    return raw;
  }
  if (typeof raw === 'string') {
    const ms = parseIsoTimestamp(raw);
    if (ms !== undefined) return ms;
    if (ISO_TIMESTAMP.test(raw)) {
      return { code: Errors.readingTsInvalid.code, message: `ts ${echo(raw)} is not a date and time that exists`, field: 'ts' };
    }
  }
  return { code: Errors.readingTsInvalid.code, message: 'ts must be ISO 8601 with a zone, or epoch milliseconds', field: 'ts' };
}

/**
 * Check one untrusted reading against the canonical quantities and the time rules. Pure: the
 * clock is passed in, so the same input always gets the same answer.
 */
export function parseReading(input: unknown, rules: ReadingRules, nowMs: number): ParseResult {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return refuse(Errors.readingNotObject.code, 'A reading must be a JSON object');
  }
  const rawDevice = own(input, 'device');
  const rawId = own(input, 'id');
  const rawValues = own(input, 'values');

  let device: string | undefined;
  if (rawDevice !== undefined) {
    if (typeof rawDevice !== 'string' || !DEVICE_ID_PATTERN.test(rawDevice)) {
      return refuse(Errors.readingDeviceInvalid.code, 'device must match [A-Za-z0-9][A-Za-z0-9._:-]{0,63}', 'device');
    }
    device = rawDevice;
  }

  let id: string | undefined;
  if (rawId !== undefined && rawId !== null) {
    const ok =
      (typeof rawId === 'string' && rawId.length > 0 && rawId.length <= MAX_MESSAGE_ID_LENGTH) ||
      (typeof rawId === 'number' && Number.isSafeInteger(rawId));
    if (!ok) return refuse(Errors.readingIdInvalid.code, `id must be a string of 1-${MAX_MESSAGE_ID_LENGTH} characters or an integer`, 'id');
    id = String(rawId);
  }

  const ts = parseTimestamp(own(input, 'ts'));
  if (typeof ts !== 'number') return { ok: false, ...ts };
  if (ts > nowMs + rules.maxFutureMs) {
    return refuse(Errors.readingTsFuture.code, `ts is more than ${rules.maxFutureMs / 1000} s ahead of the server clock`, 'ts');
  }
  if (ts < nowMs - rules.maxAgeMs) {
    return refuse(Errors.readingTsTooOld.code, `ts is older than the accepted age of ${rules.maxAgeMs / 1000} s`, 'ts');
  }

  if (typeof rawValues !== 'object' || rawValues === null || Array.isArray(rawValues)) {
    return refuse(Errors.readingValuesMissing.code, 'values must be an object of quantity: number', 'values');
  }
  let count = 0;
  // Own keys only; the table has no prototype, so `constructor` or `__proto__` is an unknown quantity.
  // Walked lazily: a reading with thousands of names is refused at the first unknown one, not
  // after listing them all.
  for (const name in rawValues) {
    if (!Object.hasOwn(rawValues, name)) continue;
    const value = (rawValues as Record<string, unknown>)[name];
    const spec = quantitySpec(rules.quantities, name);
    if (!spec) return refuse(Errors.readingUnknownQuantity.code, `Unknown quantity ${echo(name)}`, `values.${echo(name)}`);
    if (typeof value !== 'number') {
      return refuse(Errors.readingValueType.code, `${name} must be a number`, `values.${name}`);
    }
    if (!Number.isFinite(value)) return refuse(Errors.readingValueNotFinite.code, `${name} must be finite`, `values.${name}`);
    if (value < spec.min || value > spec.max) {
      return refuse(
        Errors.readingValueOutOfRange.code,
        `${name} ${value} is outside ${spec.min}..${spec.max} ${spec.unit}`,
        `values.${name}`,
      );
    }
    count++;
  }
  if (count === 0) return refuse(Errors.readingValuesMissing.code, 'values must name at least one quantity', 'values');
  // Every own property was checked, so the object is taken as it is rather than copied (one object
  // less per reading): inherited ones are left out by everything that reads it (Object.keys, JSON).
  return { ok: true, reading: { device, id, ts, values: rawValues as Record<string, number> } };
}

/** The de-duplication key within a device: its message id, else its timestamp. */
export function dedupKey(reading: Pick<NormalizedReading, 'id' | 'ts'>): string {
  return reading.id !== undefined ? `i:${reading.id}` : `t:${reading.ts}`;
}
