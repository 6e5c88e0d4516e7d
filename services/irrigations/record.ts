/**
 * An irrigation record: water applied to a field, as a valve controller, a person (chat, CLI) or
 * a farm system reports it. The one place its shape and its rules live; the API, the MQTT topic,
 * the chat answers and the CLI all build records through `parseIrrigationInput`.
 */
import { createHash } from 'node:crypto';
import { ID_PATTERN } from '../shared/ids.js';
import { Errors } from '../shared/error-catalog.js';
import { parseApiTime, timeRefusal } from '../shared/timestamps.js';

/** Where a record came from. */
export const IRRIGATION_SOURCES = ['api', 'cli', 'mqtt', 'slack', 'telegram'] as const;
export type IrrigationSource = (typeof IRRIGATION_SOURCES)[number];

/** A stored irrigation record, as the API shows it. */
export interface IrrigationRecord {
  /** `irr_…`, assigned when recorded. */
  id: string;
  farm: string;
  field: string;
  /** Net depth applied to the root zone, mm (what reached the soil, not what the pump delivered). */
  depth_mm: number;
  /** When the water started and stopped, ISO 8601 (equal for a report without a duration). */
  start: string;
  end: string;
  source: IrrigationSource;
  /** Who reported it: `device:<id>`, `admin`, `cli:<user>`, `slack:<user>`, `telegram:<user>`. */
  who: string;
  /** When fieldhook stored it, ISO 8601. */
  recorded_at: string;
}

/** What a reporter sends: times as ISO 8601 or epoch ms; `end` defaults to now, `start` to `end`. */
export interface IrrigationInput {
  farm: string;
  field: string;
  depth_mm: number;
  start?: string | number;
  end?: string | number;
}

/** The validated facts of a record, before it has an id. */
export interface IrrigationFacts {
  farm: string;
  field: string;
  depthMm: number;
  startTs: number;
  endTs: number;
  /**
   * What makes two requests "the same" for an idempotency key: the values as sent, normalised
   * (`18` and `18.0`, ISO and epoch times are one request), without the defaults filled in from
   * the clock, so a retry of a body without `end` still matches.
   */
  digest: string;
}

export interface IrrigationRules {
  /** Largest net depth one record may carry, mm. Default 500 (the rainfall ceiling). */
  maxDepthMm: number;
  /** Longest irrigation one record may span, ms. Default 7 days. */
  maxDurationMs: number;
  /** How far in the future `end` may lie (clock skew), ms. Default 5 min. */
  maxFutureMs: number;
  /** How far in the past `start` may lie, ms. Default 366 days: a season's records can be entered afterwards. */
  maxAgeMs: number;
}

export const DEFAULT_IRRIGATION_RULES: IrrigationRules = {
  maxDepthMm: 500,
  maxDurationMs: 7 * 86_400_000,
  maxFutureMs: 5 * 60_000,
  maxAgeMs: 366 * 86_400_000,
};

const INPUT_KEYS = new Set(['farm', 'field', 'depth_mm', 'start', 'end']);

/** The same time rule as readings: ISO 8601 with a zone, or epoch milliseconds. */
function time(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  const ts = parseApiTime(value);
  if (ts === undefined) throw Errors.irrigationInvalid(timeRefusal(name, value), { field: name });
  return ts;
}

/**
 * Check a reported irrigation against the rules (throws `FH_ERR_IRRIGATION_INVALID` naming the
 * field). Unknown keys are refused: a misspelled `depth` must not record nothing silently.
 */
export function parseIrrigationInput(input: unknown, now: number, rules: IrrigationRules = DEFAULT_IRRIGATION_RULES): IrrigationFacts {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw Errors.irrigationInvalid('Send a JSON object');
  const body = input as Record<string, unknown>;
  const unknown = Object.keys(body).find((k) => !INPUT_KEYS.has(k));
  if (unknown !== undefined) throw Errors.irrigationInvalid(`Unknown property ${JSON.stringify(unknown.slice(0, 64))}`, { field: unknown.slice(0, 64) });
  for (const name of ['farm', 'field'] as const) {
    const v = body[name];
    if (typeof v !== 'string' || !ID_PATTERN.test(v)) throw Errors.irrigationInvalid(`${name} must match ${ID_PATTERN.source}`, { field: name });
  }
  const depth = body.depth_mm;
  // Kept to 0.01 mm: what rounds to 0 there would be recorded (and announced) as "0 mm".
  if (typeof depth !== 'number' || !Number.isFinite(depth) || depth < 0.005 || depth > rules.maxDepthMm) {
    throw Errors.irrigationInvalid(`depth_mm must be a number of at least 0.01 and at most ${rules.maxDepthMm}`, { field: 'depth_mm' });
  }
  const endTs = time('end', body.end, now);
  const startTs = time('start', body.start, endTs);
  if (startTs > endTs) throw Errors.irrigationInvalid('start is after end', { field: 'start' });
  if (endTs - startTs > rules.maxDurationMs) throw Errors.irrigationInvalid(`An irrigation spans at most ${rules.maxDurationMs / 3_600_000} h`, { field: 'start' });
  if (endTs > now + rules.maxFutureMs) throw Errors.irrigationInvalid('end lies in the future: report water once it is applied', { field: 'end' });
  // Older records would lie outside what the predictor, a replay or InfluxDB's retention keep.
  if (startTs < now - rules.maxAgeMs) throw Errors.irrigationInvalid(`start lies more than ${Math.round(rules.maxAgeMs / 86_400_000)} days in the past`, { field: 'start' });
  const farm = body.farm as string;
  const field = body.field as string;
  const depthMm = Math.round(depth * 100) / 100;
  const sent = [farm, field, depthMm, body.start === undefined ? null : startTs, body.end === undefined ? null : endTs];
  return { farm, field, depthMm, startTs, endTs, digest: createHash('sha256').update(JSON.stringify(sent)).digest('hex') };
}
