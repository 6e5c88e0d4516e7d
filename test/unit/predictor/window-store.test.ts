import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createWindowStore } from '../../../services/predictor/window-store.js';

const H = 3_600_000;
const weather = { air_temperature: 20, relative_humidity: 50, wind_speed: 2, solar_radiation: 300 };

describe('window store', () => {
  it('keeps readings ordered, merges equal time stamps and trims to the window', () => {
    const w = createWindowStore({ keepHours: 10 });
    w.apply('f/a', [{ ts: 5 * H, values: { soil_moisture: 0.2 } }, { ts: 3 * H, values: { soil_moisture: 0.25 } }]);
    w.apply('f/a', [{ ts: 4 * H, values: { ...weather } }, { ts: 5 * H, values: { rainfall: 1 }, correlationId: 'c1' }]);
    const all = w.between('f/a', 0, 100 * H);
    expect(all.map((r) => r.ts)).toEqual([3 * H, 4 * H, 5 * H]);
    expect(all[2]).toEqual({ ts: 5 * H, values: { soil_moisture: 0.2, rainfall: 1 } });
    const win = w.get('f/a')!;
    expect(win.correlations).toEqual([{ ts: 5 * H, id: 'c1' }]);
    expect(win.lastSoilMoistureTs).toBe(5 * H);
    expect(win.lastWeatherTs).toBe(4 * H);
    expect(w.scan('f/a', 0, 4.5 * H)).toEqual({ readings: 2, lastSoilMoistureTs: 3 * H, lastWeatherTs: 4 * H, soilHours: 1 });
    w.apply('f/a', [{ ts: 20 * H, values: { soil_moisture: 0.1 } }]);
    expect(w.between('f/a', 0, 100 * H).map((r) => r.ts)).toEqual([20 * H]);
    expect(w.get('f/a')!.count).toBe(1);
  });

  it('between is inclusive at both ends', () => {
    const w = createWindowStore({ keepHours: 100 });
    w.apply('k', Array.from({ length: 10 }, (_, i) => ({ ts: i * H, values: { soil_moisture: 0.2 } })));
    expect(w.between('k', 2 * H, 5 * H).map((r) => r.ts / H)).toEqual([2, 3, 4, 5]);
    expect(w.between('k', 2.5 * H, 2.6 * H)).toEqual([]);
    expect(w.between('missing', 0, H)).toEqual([]);
  });

  it('keeps only what the features read, and the newest correlation ids', () => {
    const w = createWindowStore({ keepHours: 100 });
    w.apply('k', [{ ts: H, values: { battery_voltage: 4.1, rssi: -70 } }]);
    expect(w.get('k')!.count).toBe(0);
    w.apply('k', [{ ts: 2 * H, values: { ...weather, soil_moisture: 0.2, battery_voltage: 4.1 } }]);
    expect(w.between('k', 0, 10 * H)[0]!.values).toEqual({ ...weather, soil_moisture: 0.2 });
    w.apply('k', Array.from({ length: 12 }, (_, i) => ({ ts: (3 + i) * H, values: { soil_moisture: 0.2 }, correlationId: `c${i}` })));
    w.apply('k', [{ ts: 14 * H, values: { rainfall: 0.2 }, correlationId: 'c11' }, { ts: 2.5 * H, values: { soil_moisture: 0.3 }, correlationId: 'old' }]);
    expect(w.get('k')!.correlations.map((c) => c.id)).toEqual(['c4', 'c5', 'c6', 'c7', 'c8', 'c9', 'c10', 'c11']);
  });

  it('holds, in any arrival order, exactly the merged readings of a model (property)', () => {
    const reading = fc.record({
      ts: fc.integer({ min: 0, max: 60 }).map((m) => m * 10 * 60_000),
      values: fc.record({ soil_moisture: fc.option(fc.double({ min: 0, max: 0.6, noNaN: true }), { nil: undefined }), rainfall: fc.option(fc.double({ min: 0, max: 5, noNaN: true }), { nil: undefined }) }),
    });
    fc.assert(
      fc.property(fc.array(reading, { maxLength: 80 }), fc.integer({ min: 1, max: 5 }), (readings, chunk) => {
        const w = createWindowStore({ keepHours: 100 });
        for (let i = 0; i < readings.length; i += chunk) w.apply('k', readings.slice(i, i + chunk));
        const model = new Map<number, Record<string, number>>();
        for (const r of readings) {
          const kept = Object.fromEntries(Object.entries(r.values).filter(([, v]) => v !== undefined)) as Record<string, number>;
          if (Object.keys(kept).length === 0) continue;
          model.set(r.ts, { ...model.get(r.ts), ...kept });
        }
        const expected = [...model].sort((a, b) => a[0] - b[0]).map(([ts, values]) => ({ ts, values }));
        expect(w.between('k', 0, 100 * H)).toEqual(expected);
      }),
    );
  });
});
