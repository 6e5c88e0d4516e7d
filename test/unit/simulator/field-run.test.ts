import { describe, expect, it } from 'vitest';
import { depletionAhead, hoursToRawAhead, simulateField, trueSoilMoisture } from '../../../services/simulator/field-run.js';
import { createFieldSpecs } from '../../../services/simulator/fields.js';

const population = {
  climates: ['humid', 'semi-arid', 'arid'] as const,
  soils: ['loam', 'sand', 'clay'] as const,
  crops: ['tomato', 'maize-field', 'potato'] as const,
};

describe('field simulation (FAO-56 balance as ground truth)', () => {
  const specs = createFieldSpecs({ count: 6, seed: 11, population });

  it('is deterministic for a seed and varies across fields', () => {
    expect(createFieldSpecs({ count: 6, seed: 11, population })).toEqual(specs);
    expect(new Set(specs.map((s) => `${s.climate}/${s.soil}/${s.crop}`)).size).toBeGreaterThan(2);
    const a = simulateField(specs[0]!);
    const b = simulateField(specs[0]!);
    expect(Array.from(a.depletion)).toEqual(Array.from(b.depletion));
  });

  it('keeps depletion within 0–TAW, conserves water hour by hour, and irrigates', () => {
    for (const spec of specs) {
      const run = simulateField(spec);
      let prev = spec.initialDepletionFraction * run.taw;
      let percolated = 0;
      for (let i = 0; i < run.depletion.length; i++) {
        const d = run.depletion[i]!;
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThanOrEqual(run.taw + 1e-9);
        // Depletion can only fall by what came in (rain, irrigation).
        expect(prev - d).toBeLessThanOrEqual(run.weather[i]!.rainMm + run.irrigation[i]! + 1e-9);
        percolated += Math.max(0, run.weather[i]!.rainMm + run.irrigation[i]! - prev);
        prev = d;
      }
      expect(run.irrigation.some((x) => x > 0) || percolated > 0).toBe(true);
      expect(trueSoilMoisture(run, 0)).toBeLessThanOrEqual(spec.thetaFc + 1e-9);
    }
  });

  it('forecasts depletion ahead without irrigation from the true future weather', () => {
    const run = simulateField(specs[1]!);
    for (let i = 100; i < run.depletion.length - 48; i += 97) {
      const rain = run.weather.slice(i + 1, i + 25).reduce((s, w) => s + w.rainMm, 0);
      const ahead = depletionAhead(run, i, 24);
      if (rain === 0) expect(ahead).toBeGreaterThanOrEqual(run.depletion[i]!);
      expect(ahead).toBeLessThanOrEqual(run.taw);
    }
  });

  it('finds the hour the no-irrigation depletion reaches RAW, consistent with depletionAhead', () => {
    const run = simulateField(specs[2]!);
    let checked = 0;
    for (let i = 100; i < run.depletion.length - 60; i += 13) {
      const hours = hoursToRawAhead(run, i, 48);
      if (run.depletion[i]! >= run.raw) expect(hours).toBe(0);
      else if (hours === null) expect(depletionAhead(run, i, 48)).toBeLessThan(run.raw);
      else {
        expect(depletionAhead(run, i, Math.floor(hours))).toBeLessThan(run.raw);
        expect(depletionAhead(run, i, Math.ceil(hours))).toBeGreaterThanOrEqual(run.raw - 1e-9);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(0);
  });
});
