import { Point } from '@influxdata/influxdb-client';
import type { NormalizedReading } from './reading.js';

export const READING_MEASUREMENT = 'reading';

/**
 * One `reading` point: tags farm, field, device; one float field per quantity; time = device
 * time in ms. A retried write produces the same series and time, so it overwrites, not adds.
 */
export function readingToLine(reading: NormalizedReading): string {
  const point = new Point(READING_MEASUREMENT)
    .tag('farm', reading.farm)
    .tag('field', reading.field)
    .tag('device', reading.device)
    .timestamp(reading.ts);
  for (const [name, value] of Object.entries(reading.values)) point.floatField(name, value);
  return point.toLineProtocol({ convertTime: (t) => String(t) }) ?? '';
}
