/**
 * Forecast hours in memory, packed: per farm and field one Float64Array of its hours in time
 * order, nine numbers an hour (the hour, its issue time, then the seven quantities, NaN for
 * none). An hour as an object in a map costs about 250 bytes of heap; packed it is 72. Writes are rare (a
 * forecast every few hours per site) and rebuild a field's array; reads scan it.
 */
import type { ForecastRow } from './store.js';

const QUANTITIES = ['rain_mm', 'rain_probability', 'et0_mm', 'air_temperature', 'relative_humidity', 'wind_speed', 'solar_radiation'] as const;
const WIDTH = 2 + QUANTITIES.length;

export interface HourTable {
  /** Put hours for `key`: one already held for the same hour is replaced. */
  put(key: string, rows: readonly ForecastRow[]): void;
  /** The hours of `key` ending in (fromTs, toTs], oldest first. */
  read(key: string, fromTs: number, toTs: number): ForecastRow[];
  /** Drop the hours ending at or before `ts` (`inclusive`) or before it. */
  dropUntil(ts: number, inclusive: boolean): void;
  /** Drop the hours of the keys `keep` refuses. */
  retain(keep: (key: string) => boolean): void;
  delete(key: string): void;
}

export function createHourTable(): HourTable {
  const byKey = new Map<string, Float64Array>();

  const rowAt = (a: Float64Array, at: number): ForecastRow => {
    const row = { ts: a[at]!, issued_at: a[at + 1]! } as ForecastRow;
    QUANTITIES.forEach((q, i) => {
      const v = a[at + 2 + i]!;
      row[q] = Number.isNaN(v) ? null : v;
    });
    return row;
  };

  function filter(key: string, a: Float64Array, keep: (ts: number) => boolean): void {
    const kept: number[] = [];
    for (let at = 0; at < a.length; at += WIDTH) if (keep(a[at]!)) kept.push(at);
    if (kept.length === a.length / WIDTH) return;
    if (kept.length === 0) return void byKey.delete(key);
    const next = new Float64Array(kept.length * WIDTH);
    kept.forEach((at, i) => next.set(a.subarray(at, at + WIDTH), i * WIDTH));
    byKey.set(key, next);
  }

  return {
    put(key, rows) {
      if (rows.length === 0) return;
      const hours = new Map<number, ForecastRow>();
      const held = byKey.get(key);
      if (held) for (let at = 0; at < held.length; at += WIDTH) hours.set(held[at]!, rowAt(held, at));
      for (const r of rows) hours.set(r.ts, r);
      const next = new Float64Array(hours.size * WIDTH);
      [...hours.values()]
        .sort((a, b) => a.ts - b.ts)
        .forEach((r, i) => {
          next[i * WIDTH] = r.ts;
          next[i * WIDTH + 1] = r.issued_at;
          QUANTITIES.forEach((q, k) => (next[i * WIDTH + 2 + k] = r[q] ?? Number.NaN));
        });
      byKey.set(key, next);
    },
    read(key, fromTs, toTs) {
      const a = byKey.get(key);
      const rows: ForecastRow[] = [];
      if (a) for (let at = 0; at < a.length; at += WIDTH) if (a[at]! > fromTs && a[at]! <= toTs) rows.push(rowAt(a, at));
      return rows;
    },
    dropUntil(ts, inclusive) {
      for (const [key, a] of byKey) filter(key, a, (t) => (inclusive ? t > ts : t >= ts));
    },
    retain(keep) {
      for (const key of byKey.keys()) if (!keep(key)) byKey.delete(key);
    },
    delete: (key) => void byKey.delete(key),
  };
}
