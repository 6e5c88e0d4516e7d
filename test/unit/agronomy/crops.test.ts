import { describe, expect, it } from 'vitest';
import { CROPS, CROP_NAMES, adjustKcForClimate, cropCoefficient, getCrop, growthStage, rootDepthOn, seasonLength } from '../../../services/agronomy/crops.js';

describe('crop coefficients (FAO-56 ch. 6)', () => {
  it('has the crops the predictor needs, with Kc from FAO-56 Table 12', () => {
    for (const name of ['tomato', 'maize-field', 'maize-sweet', 'wheat-spring', 'potato', 'onion']) {
      expect(CROP_NAMES).toContain(name);
    }
    expect(getCrop('tomato')).toMatchObject({ kcIni: 0.6, kcMid: 1.15 });
    expect(getCrop('Maize field')).toMatchObject({ kcIni: 0.3, kcMid: 1.2 });
    expect(getCrop('potato')).toMatchObject({ kcIni: 0.5, kcMid: 1.15, kcEnd: 0.75 });
    expect(() => getCrop('banana')).toThrowError(expect.objectContaining({ code: 'FH_ERR_AGRONOMY_UNKNOWN_PRESET' }));
  });

  it('interpolates Kc linearly through development and late season (FAO-56 Fig. 25)', () => {
    const tomato = getCrop('tomato'); // stages 30/40/40/25, Kc 0.6/1.15/0.8
    expect(cropCoefficient(tomato, 10)).toBe(0.6);
    expect(cropCoefficient(tomato, 50)).toBeCloseTo(0.6 + 0.5 * 0.55, 9);
    expect(cropCoefficient(tomato, 80)).toBe(1.15);
    expect(cropCoefficient(tomato, 110 + 12.5)).toBeCloseTo((1.15 + 0.8) / 2, 9);
    expect(cropCoefficient(tomato, 400)).toBe(0.8);
    expect(seasonLength(tomato)).toBe(135);
    expect(growthStage(tomato, 29)).toBe('initial');
    expect(growthStage(tomato, 30)).toBe('development');
    expect(growthStage(tomato, 135)).toBe('harvested');
  });

  it('adjusts Kc mid for climate (FAO-56 Eq. 62)', () => {
    // Sub-humid reference climate: no change.
    expect(adjustKcForClimate(1.15, 2, 45, 3)).toBeCloseTo(1.15, 9);
    // Windy and dry, 3 m tall: +0.04·2 + 0.004·25 = +0.18.
    expect(adjustKcForClimate(1.15, 4, 20, 3)).toBeCloseTo(1.33, 9);
    // FAO-56 does not adjust a Kc end below 0.45.
    expect(adjustKcForClimate(0.3, 4, 20, 1)).toBe(0.3);
  });

  it('grows roots from Zr min over the initial stage to Zr max at the end of development (FAO-56 ch. 8)', () => {
    const days = [30, 40, 50, 30] as const;
    expect(rootDepthOn(days, 0.15, 1.2, -5)).toBe(0.15);
    expect(rootDepthOn(days, 0.15, 1.2, 30)).toBe(0.15);
    expect(rootDepthOn(days, 0.15, 1.2, 50)).toBeCloseTo(0.675, 9);
    expect(rootDepthOn(days, 0.15, 1.2, 70)).toBe(1.2);
    expect(rootDepthOn(days, 0.15, 1.2, 200)).toBe(1.2);
    // A minimum at (or above) the maximum is a fixed depth.
    expect(rootDepthOn(days, 1.2, 1.2, 50)).toBe(1.2);
    for (const crop of Object.values(CROPS)) expect(crop.rootDepthMinM).toBeLessThan(crop.rootDepthM);
  });
});
