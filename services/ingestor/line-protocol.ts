import { escape } from '@influxdata/influxdb-client';
import type { NormalizedReading } from './reading.js';

export const READING_MEASUREMENT = 'reading';

/**
 * One `reading` point: tags device, farm, field (sorted, as InfluxDB prefers); one float field
 * per quantity; time = device time in ms. A retried write produces the same series and time,
 * so it overwrites, not adds. Built from the client library's escaping rules without a `Point`
 * object per reading: this runs for every reading on the hot path. Field names are quantity
 * names (`QUANTITY_NAME_PATTERN` of services/shared/quantities.ts): escaping spaces, commas and
 * `=` is all they could need, and none ends in a backslash.
 */
export function readingToLine(reading: NormalizedReading): string {
  let fields = '';
  for (const name of Object.keys(reading.values).sort()) {
    fields += `${fields ? ',' : ''}${escape.tag(name)}=${String(reading.values[name])}`;
  }
  return `${READING_MEASUREMENT},device=${escape.tag(reading.device)},farm=${escape.tag(reading.farm)},field=${escape.tag(reading.field)} ${fields} ${reading.ts}`;
}
