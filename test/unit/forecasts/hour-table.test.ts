import { describe, expect, it } from 'vitest';
import { createHourTable } from '../../../services/forecasts/hour-table.js';
import type { ForecastRow } from '../../../services/forecasts/store.js';

const H = 3_600_000;
const row = (ts: number, rain: number | null, extra: Partial<ForecastRow> = {}): ForecastRow => ({
  ts, issued_at: 0, rain_mm: rain, rain_probability: null, et0_mm: null, air_temperature: null, relative_humidity: null, wind_speed: null, solar_radiation: null, ...extra,
});

describe('forecast hours packed in memory', () => {
  it('keeps hours in time order, a later put of an hour replacing it, none kept as none', () => {
    const table = createHourTable();
    table.put('f/a', [row(3 * H, 3), row(1 * H, 1, { et0_mm: 0.25, solar_radiation: 410 })]);
    table.put('f/a', [row(2 * H, null, { rain_probability: 0.5 }), row(3 * H, 30)]);
    expect(table.read('f/a', 0, 3 * H)).toEqual([row(H, 1, { et0_mm: 0.25, solar_radiation: 410 }), row(2 * H, null, { rain_probability: 0.5 }), row(3 * H, 30)]);
    // (from, to]
    expect(table.read('f/a', H, 2 * H)).toEqual([row(2 * H, null, { rain_probability: 0.5 })]);
    expect(table.read('f/b', 0, 3 * H)).toEqual([]);
  });

  it('drops hours up to a time, inclusive or not, and keys refused', () => {
    const table = createHourTable();
    table.put('a', [1, 2, 3].map((k) => row(k * H, k)));
    table.put('b', [1, 2].map((k) => row(k * H, k)));
    table.dropUntil(H, false);
    expect(table.read('a', 0, 9 * H).map((r) => r.ts)).toEqual([H, 2 * H, 3 * H]);
    table.dropUntil(2 * H, true);
    expect(table.read('a', 0, 9 * H).map((r) => r.ts)).toEqual([3 * H]);
    expect(table.read('b', 0, 9 * H)).toEqual([]);
    table.put('b', [row(4 * H, 4)]);
    table.retain((key) => key === 'b');
    expect(table.read('a', 0, 9 * H)).toEqual([]);
    expect(table.read('b', 0, 9 * H)).toEqual([row(4 * H, 4)]);
  });
});
