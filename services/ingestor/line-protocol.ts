import { escape } from '@influxdata/influxdb-client';
import type { NormalizedReading } from './reading.js';
import { memoByNames } from './names-memo.js';

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
  return `${lineSeries(reading.device, reading.farm, reading.field)} ${lineFields(reading.values)} ${reading.ts}`;
}

/** Measurement and tags of a device's `reading` lines (tags sorted). */
export function lineSeries(device: string, farm: string, field: string): string {
  return `${READING_MEASUREMENT},device=${escape.tag(device)},farm=${escape.tag(farm)},field=${escape.tag(field)}`;
}

/** The field set of a `reading` line: quantities sorted by name. */
export function lineFields(values: Record<string, number>): string {
  const names = Object.keys(values);
  const order = fieldOrder(names);
  let fields = '';
  for (let i = 0; i < order.length; i++) {
    const [name, escaped] = order[i]!;
    fields += `${i === 0 ? '' : ','}${escaped}=${String(values[name])}`;
  }
  return fields;
}

/**
 * Sorted and escaped names, per set of names in the order a reading lists them: a fleet sends a
 * handful of such sets, so sorting and escaping happen once per set, not once per reading.
 */
export const fieldOrder: (names: string[]) => [name: string, escaped: string][] = memoByNames((names) =>
  [...names].sort().map((name) => [name, escape.tag(name)] as [string, string]),
);
