import { Errors } from '../shared/error-catalog.js';
import { ID_PATTERN } from '../shared/ids.js';
import { quantitySpec, type QuantityTable } from '../shared/quantities.js';
import { parseApiTime, timeRefusal } from '../shared/timestamps.js';

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

function parseTimestamp(raw: unknown): number | Refusal {
  if (raw === undefined || raw === null) return { code: Errors.readingTsMissing.code, message: 'ts is required', field: 'ts' };
  const ms = parseApiTime(raw);
  return ms !== undefined ? ms : { code: Errors.readingTsInvalid.code, message: timeRefusal('ts', raw), field: 'ts' };
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
