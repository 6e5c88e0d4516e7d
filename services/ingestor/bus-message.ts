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

export function toBusReading(r: NormalizedReading, correlationId: string): BusReading {
  return {
    device: r.device,
    farm: r.farm,
    field: r.field,
    ...(r.id !== undefined ? { id: r.id } : {}),
    ts: new Date(r.ts).toISOString(),
    values: r.values,
    correlation_id: correlationId,
  };
}

/**
 * Bus messages from serialised `BusReading`s and their topics: one message per topic
 * (`fieldhook/v1/farms/{farm}/fields/{field}/readings`), its payload the JSON array of them.
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
