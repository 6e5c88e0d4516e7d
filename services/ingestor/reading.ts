import { Errors } from '../shared/error-catalog.js';
import { ID_PATTERN } from '../shared/ids.js';
import type { QuantityTable } from '../shared/quantities.js';

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
/** ISO 8601 with a date, a time and an explicit offset: a time without zone is ambiguous. */
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;
/** Epoch values below this are almost surely seconds, not milliseconds (before 1973-03-03). */
const MIN_EPOCH_MS = 1e11;

const refuse = (code: string, message: string, field?: string): ParseResult =>
  field === undefined ? { ok: false, code, message } : { ok: false, code, message, field };

function parseTimestamp(raw: unknown): number | Refusal {
  if (raw === undefined || raw === null) return { code: Errors.readingTsMissing.code, message: 'ts is required', field: 'ts' };
  if (typeof raw === 'number') {
    if (!Number.isFinite(raw) || !Number.isInteger(raw)) {
      return { code: Errors.readingTsInvalid.code, message: 'ts must be whole epoch milliseconds', field: 'ts' };
    }
    if (raw < MIN_EPOCH_MS) {
      return { code: Errors.readingTsInvalid.code, message: 'ts looks like epoch seconds; send milliseconds', field: 'ts' };
    }
    return raw;
  }
  if (typeof raw === 'string' && ISO_TIMESTAMP.test(raw)) {
    const ms = Date.parse(raw);
    if (Number.isFinite(ms)) return ms;
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
  const raw = input as Record<string, unknown>;

  let device: string | undefined;
  if (raw.device !== undefined) {
    if (typeof raw.device !== 'string' || !DEVICE_ID_PATTERN.test(raw.device)) {
      return refuse(Errors.readingDeviceInvalid.code, 'device must match [A-Za-z0-9][A-Za-z0-9._:-]{0,63}', 'device');
    }
    device = raw.device;
  }

  let id: string | undefined;
  if (raw.id !== undefined && raw.id !== null) {
    const ok =
      (typeof raw.id === 'string' && raw.id.length > 0 && raw.id.length <= MAX_MESSAGE_ID_LENGTH) ||
      (typeof raw.id === 'number' && Number.isSafeInteger(raw.id));
    if (!ok) return refuse(Errors.readingIdInvalid.code, `id must be a string of 1-${MAX_MESSAGE_ID_LENGTH} characters or an integer`, 'id');
    id = String(raw.id);
  }

  const ts = parseTimestamp(raw.ts);
  if (typeof ts !== 'number') return { ok: false, ...ts };
  if (ts > nowMs + rules.maxFutureMs) {
    return refuse(Errors.readingTsFuture.code, `ts is more than ${rules.maxFutureMs / 1000} s ahead of the server clock`, 'ts');
  }
  if (ts < nowMs - rules.maxAgeMs) {
    return refuse(Errors.readingTsTooOld.code, `ts is older than the accepted age of ${rules.maxAgeMs / 1000} s`, 'ts');
  }

  if (typeof raw.values !== 'object' || raw.values === null || Array.isArray(raw.values)) {
    return refuse(Errors.readingValuesMissing.code, 'values must be an object of quantity: number', 'values');
  }
  const values: Record<string, number> = {};
  let count = 0;
  for (const [name, value] of Object.entries(raw.values as Record<string, unknown>)) {
    const spec = Object.hasOwn(rules.quantities, name) ? rules.quantities[name] : undefined;
    if (!spec) return refuse(Errors.readingUnknownQuantity.code, `Unknown quantity ${name}`, `values.${name}`);
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
    values[name] = value;
    count++;
  }
  if (count === 0) return refuse(Errors.readingValuesMissing.code, 'values must name at least one quantity', 'values');
  return { ok: true, reading: { device, id, ts, values } };
}

/** The de-duplication key within a device: its message id, else its timestamp. */
export function dedupKey(reading: Pick<NormalizedReading, 'id' | 'ts'>): string {
  return reading.id !== undefined ? `i:${reading.id}` : `t:${reading.ts}`;
}
