/**
 * Every payload that travels on the bus: reading batches (ingestor -> predictor) and events
 * (anything -> dispatcher). Producers build them here and consumers parse them here, so the two
 * sides cannot drift.
 */
import { z } from 'zod';

/** One reading on `fieldReadingsTopic`; a message is a JSON array of them, all of one field. */
export interface BusReading {
  device: string;
  farm: string;
  field: string;
  id?: string;
  /** Device time, ISO 8601. */
  ts: string;
  values: Record<string, number>;
  correlation_id: string;
}

/** The readings of one field in a bus message, with time as epoch ms. */
export interface FieldReadings {
  farm: string;
  field: string;
  readings: { ts: number; values: Record<string, number>; correlationId?: string }[];
}

/**
 * Bus messages from serialised `BusReading`s and their topics: one message per topic, its payload
 * the JSON array of that topic's readings.
 */
export function groupByTopic(topics: readonly string[], items: readonly string[]): [topic: string, payload: string][] {
  const byTopic = new Map<string, string[]>();
  topics.forEach((topic, i) => {
    let group = byTopic.get(topic);
    if (!group) byTopic.set(topic, (group = []));
    group.push(items[i]!);
  });
  return [...byTopic].map(([topic, group]) => [topic, `[${group.join(',')}]`]);
}

/**
 * Parse one reading batch into readings per field key (`farm/field`). Malformed entries are
 * skipped; a payload that is not JSON throws.
 */
export function parseReadingBatch(payload: Buffer | string): Map<string, FieldReadings> {
  const out = new Map<string, FieldReadings>();
  const parsed = JSON.parse(payload.toString()) as unknown;
  const list = Array.isArray(parsed) ? (parsed as BusReading[]) : [parsed as BusReading];
  for (const r of list) {
    if (!r || typeof r.farm !== 'string' || typeof r.field !== 'string' || typeof r.values !== 'object' || r.values === null) continue;
    const ts = Date.parse(r.ts);
    if (!Number.isFinite(ts)) continue;
    const key = `${r.farm}/${r.field}`;
    let entry = out.get(key);
    if (!entry) out.set(key, (entry = { farm: r.farm, field: r.field, readings: [] }));
    entry.readings.push({ ts, values: r.values, ...(r.correlation_id ? { correlationId: r.correlation_id } : {}) });
  }
  return out;
}

/**
 * One stored irrigation record on `fieldIrrigationsTopic` (irrigations -> predictor): net depth
 * in mm, the water's start and end (ISO 8601), where it came from and who reported it.
 */
export interface BusIrrigation {
  id: string;
  farm: string;
  field: string;
  depth_mm: number;
  start: string;
  end: string;
  source: string;
  who: string;
}

/** The records in an irrigations message (one or an array); malformed entries are skipped, non-JSON throws. */
export function parseIrrigationBatch(payload: Buffer | string): BusIrrigation[] {
  const parsed = JSON.parse(payload.toString()) as unknown;
  const list = (Array.isArray(parsed) ? parsed : [parsed]) as Partial<BusIrrigation>[];
  return list.filter(
    (r): r is BusIrrigation =>
      !!r &&
      typeof r.id === 'string' &&
      typeof r.farm === 'string' &&
      typeof r.field === 'string' &&
      typeof r.depth_mm === 'number' &&
      Number.isFinite(r.depth_mm) &&
      Number.isFinite(Date.parse(r.start ?? '')) &&
      Number.isFinite(Date.parse(r.end ?? '')),
  );
}

export const EVENT_TYPE_PATTERN = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$/;

/**
 * An event as a publisher hands it to the dispatcher (`dispatcher.publish()` or `EVENTS_TOPIC`).
 *
 * - `id`: optional; publishing the same id twice is accepted once (idempotent re-publish after a
 *   publisher crash). Generated (`evt_…`) when absent.
 * - `farm` / `field`: routing keys for subscription filters; default to `data.farm` / `data.field`.
 * - `collapse_key`: a newer event with the same key replaces an older one not yet delivered to a
 *   subscription, e.g. `irrigation:<farm>:<field>`.
 * - `valid_until`: never delivered after this instant; recorded as `expired` instead.
 */
/** Deepest nesting of objects and arrays an event's `data` may have: receivers, chat formats and the outbox serialise it recursively. */
export const MAX_EVENT_DATA_DEPTH = 32;

/** Whether `value` nests objects and arrays at most `max` levels deep (walked without recursion, so no depth overflows the stack). */
export function nestedWithin(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > max) return false;
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
  }
  return true;
}

export const PublishInputSchema = z.object({
  type: z.string().regex(EVENT_TYPE_PATTERN),
  data: z.record(z.string(), z.unknown()).refine((d) => nestedWithin(d, MAX_EVENT_DATA_DEPTH), `nests objects and arrays more than ${MAX_EVENT_DATA_DEPTH} levels deep`),
  id: z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/).optional(),
  timestamp: z.iso.datetime({ offset: true }).optional(),
  farm: z.string().min(1).max(128).optional(),
  field: z.string().min(1).max(128).optional(),
  collapse_key: z.string().min(1).max(256).optional(),
  valid_until: z.iso.datetime({ offset: true }).optional(),
  correlation_id: z.string().max(128).optional(),
});

export type PublishInput = z.infer<typeof PublishInputSchema>;

/** The JSON body every webhook receiver gets (Standard Webhooks envelope). */
export interface EventEnvelope {
  type: string;
  id: string;
  timestamp: string;
  data: Record<string, unknown>;
  /** Present when the publisher set one: the receiver should not act on the event after it. */
  valid_until?: string;
}
