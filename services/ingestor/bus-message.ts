import { fieldReadingsTopic } from '../shared/topics.js';
import type { NormalizedReading } from './reading.js';

/** A reading as the predictor receives it on the bus. */
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

/**
 * The bus messages for readings acknowledged together: one per field (topic
 * `fieldhook/v1/farms/{farm}/fields/{field}/readings`), its payload a JSON array of `BusReading`s.
 */
export function busMessages(readings: readonly NormalizedReading[], correlationId: string): [topic: string, payload: string][] {
  const byTopic = new Map<string, BusReading[]>();
  for (const r of readings) {
    const topic = fieldReadingsTopic(r.farm, r.field);
    let group = byTopic.get(topic);
    if (!group) byTopic.set(topic, (group = []));
    group.push({
      device: r.device,
      farm: r.farm,
      field: r.field,
      ...(r.id !== undefined ? { id: r.id } : {}),
      ts: new Date(r.ts).toISOString(),
      values: r.values,
      correlation_id: correlationId,
    });
  }
  return [...byTopic].map(([topic, group]) => [topic, JSON.stringify(group)]);
}
