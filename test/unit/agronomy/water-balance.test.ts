import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  adjustDepletionFraction,
  depletionFromSoilMoisture,
  readilyAvailableWater,
  runWaterBalance,
  stepWaterBalance,
  totalAvailableWater,
  waterStressCoefficient,
} from '../../../services/agronomy/index.js';

describe('FAO-56 chapter 8 soil water balance', () => {
  it('TAW and RAW for a loam rooted to 1 m (FAO-56 Eq. 82–83)', () => {
    // θFC 0.25, θWP 0.12 → 130 mm/m; p = 0.5 → RAW 65 mm.
    const taw = totalAvailableWater(0.25, 0.12, 1);
    expect(taw).toBeCloseTo(130, 9);
    expect(readilyAvailableWater(taw, 0.5)).toBeCloseTo(65, 9);
  });

  it('p adjusted for ETc (FAO-56 Table 22 footnote) stays within 0.1–0.8', () => {
    expect(adjustDepletionFraction(0.5, 5)).toBeCloseTo(0.5, 9);
    expect(adjustDepletionFraction(0.5, 8)).toBeCloseTo(0.38, 9);
    expect(adjustDepletionFraction(0.5, 2)).toBeCloseTo(0.62, 9);
    expect(adjustDepletionFraction(0.75, 0)).toBe(0.8);
    expect(adjustDepletionFraction(0.2, 15)).toBe(0.1);
  });

  it('Ks is 1 up to RAW then falls linearly to 0 at TAW (FAO-56 Eq. 84)', () => {
    expect(waterStressCoefficient(40, 100, 50)).toBe(1);
    expect(waterStressCoefficient(50, 100, 50)).toBe(1);
    expect(waterStressCoefficient(75, 100, 50)).toBeCloseTo(0.5, 9);
    expect(waterStressCoefficient(100, 100, 50)).toBe(0);
  });

  it('initial depletion from a measured soil moisture (FAO-56 Eq. 87)', () => {
    expect(depletionFromSoilMoisture(0.25, 0.12, 0.2, 0.5)).toBeCloseTo(25, 9);
    expect(depletionFromSoilMoisture(0.25, 0.12, 0.3, 0.5)).toBe(0); // wetter than FC drains
    expect(depletionFromSoilMoisture(0.25, 0.12, 0.05, 0.5)).toBeCloseTo(65, 9); // clipped at TAW
  });

  it('daily step: ET draws down, rain refills, the excess percolates (FAO-56 Eq. 85, 88)', () => {
    const dry = stepWaterBalance(20, { et0: 5, kc: 1.1 }, 100, 50);
    expect(dry.ks).toBe(1);
    expect(dry.etcAdj).toBeCloseTo(5.5, 9);
    expect(dry.depletionEnd).toBeCloseTo(25.5, 9);
    expect(dry.deepPercolation).toBe(0);

    const wet = stepWaterBalance(20, { et0: 5, kc: 1, rain: 40, runoff: 5 }, 100, 50);
    // 35 mm infiltrate, 5 mm transpire, 20 mm refill: 10 mm leave below the root zone.
    expect(wet.deepPercolation).toBeCloseTo(10, 9);
    expect(wet.depletionEnd).toBe(0);
  });

  it('stress reduces ETc once depletion exceeds RAW, and irrigation refills to FC', () => {
    const s = stepWaterBalance(75, { et0: 6, kc: 1 }, 100, 50);
    expect(s.ks).toBeCloseTo(0.5, 9);
    expect(s.etcAdj).toBeCloseTo(3, 9);
    expect(s.irrigate).toBe(true);
    expect(s.irrigationDepth).toBeCloseTo(78, 9);
    const refilled = stepWaterBalance(s.depletionEnd, { et0: 0, kc: 1, irrigation: s.irrigationDepth }, 100, 50);
    expect(refilled.depletionEnd).toBeCloseTo(0, 9);
  });

  it('a dry spell reaches RAW on the day the cumulative ETc passes it', () => {
    const run = runWaterBalance(
      { thetaFc: 0.25, thetaWp: 0.12, rootDepthM: 0.5, p: 0.5, initialDepletionMm: 0 },
      Array.from({ length: 10 }, () => ({ et0: 5, kc: 1 })),
    );
    expect(run.taw).toBeCloseTo(65, 9);
    expect(run.raw).toBeCloseTo(32.5, 9);
    // 5 mm/day: 30 mm after day 6, 35 mm after day 7 ≥ 32.5.
    expect(run.steps.map((s) => s.irrigate).indexOf(true)).toBe(6);
    expect(run.steps[6]!.depletionEnd).toBeCloseTo(35, 9);
  });

  it('conserves water: change in depletion = ETc + DP − inflow, and 0 ≤ Dr ≤ TAW (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 200, noNaN: true }),
        fc.record({
          et0: fc.double({ min: 0, max: 15, noNaN: true }),
          kc: fc.double({ min: 0, max: 1.4, noNaN: true }),
          rain: fc.double({ min: 0, max: 120, noNaN: true }),
          irrigation: fc.double({ min: 0, max: 60, noNaN: true }),
        }),
        (d0, input) => {
          const taw = 200;
          const start = Math.min(d0, taw);
          const s = stepWaterBalance(start, input, taw, 100);
          expect(s.depletionEnd).toBeGreaterThanOrEqual(0);
          expect(s.depletionEnd).toBeLessThanOrEqual(taw + 1e-9);
          expect(s.deepPercolation).toBeGreaterThanOrEqual(0);
          const balance = start - input.rain - input.irrigation + s.etcAdj + s.deepPercolation;
          expect(s.depletionEnd).toBeCloseTo(balance, 6);
        },
      ),
    );
  });
});
