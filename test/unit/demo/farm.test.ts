import { describe, expect, it } from 'vitest';
import { DEMO_FARM, designDemoFarm } from '../../../services/demo/farm.js';
import { hoursToRawAhead, simulateField } from '../../../services/simulator/field-run.js';

const HOUR_MS = 3_600_000;
// A fixed moment: the design is deterministic for a given hour.
const NOW = Date.parse('2026-07-15T10:30:00Z');

describe('demo farm design', () => {
  const farm = designDemoFarm(NOW, NOW - 74 * HOUR_MS);

  it('has six fields, each of another climate, soil and crop, with a device of its own', () => {
    expect(farm).toHaveLength(6);
    expect(new Set(farm.map((f) => f.climate)).size).toBe(6);
    expect(new Set(farm.map((f) => f.spec.soil)).size).toBe(6);
    expect(new Set(farm.map((f) => f.spec.crop)).size).toBe(6);
    expect(new Set(farm.map((f) => f.device)).size).toBe(6);
    for (const f of farm) expect(f).toMatchObject({ farm: DEMO_FARM, spec: { id: f.field, deviceId: f.device } });
  });

  it('puts the thirsty fields within a few hours of RAW and keeps the watered ones far from it, by the simulated truth', () => {
    const hoursToRaw = (f: (typeof farm)[number]) => {
      const run = simulateField(f.spec);
      const index = Math.floor((NOW - run.weather[0]!.ts) / HOUR_MS) - 1;
      return hoursToRawAhead(run, index, 48);
    };
    const thirsty = farm.filter((f) => f.role === 'thirsty');
    const watered = farm.filter((f) => f.role === 'watered');
    expect(thirsty.length).toBeGreaterThanOrEqual(2);
    expect(watered.length).toBeGreaterThanOrEqual(2);
    for (const f of thirsty) expect(hoursToRaw(f)).not.toBeNull();
    for (const f of thirsty) expect(hoursToRaw(f)!).toBeLessThanOrEqual(6);
    for (const f of watered) expect(hoursToRaw(f)).toBeNull();
  });

  it('is the same farm for the same moment', () => {
    expect(designDemoFarm(NOW, NOW - 74 * HOUR_MS).map((f) => f.spec.seed)).toEqual(farm.map((f) => f.spec.seed));
  });
});
