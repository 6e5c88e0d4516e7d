import { describe, expect, it } from 'vitest';
import { extraterrestrialRadiationDaily, extraterrestrialRadiationPeriod, hargreavesEt0 } from '../../../services/agronomy/index.js';

describe('Hargreaves ET0 (FAO-56 Eq. 52)', () => {
  it('gives the daily value from the day\'s temperatures and Ra', () => {
    // 0.0023 · (25 + 17.8) · √(32 − 18) · 0.408 · 40 MJ m-2 = 6.01 mm
    expect(hargreavesEt0(25, 32, 18, 40)).toBeCloseTo(0.0023 * 42.8 * Math.sqrt(14) * 0.408 * 40, 9);
    expect(hargreavesEt0(25, 32, 18, 40)).toBeCloseTo(6.01, 2);
    expect(hargreavesEt0(10, 10, 10, 30)).toBe(0); // no range, no demand
    expect(hargreavesEt0(-30, -20, -40, 5)).toBe(0); // never negative
  });

  it('spread over the hours by their Ra, the hours of a day add up to the daily value', () => {
    const lat = 45;
    const doy = 187;
    const hourly = Array.from({ length: 24 }, (_, h) => hargreavesEt0(22, 30, 14, extraterrestrialRadiationPeriod(lat, 0, 0, doy, h, 1)));
    const daily = hargreavesEt0(22, 30, 14, extraterrestrialRadiationDaily(lat, doy));
    expect(hourly.reduce((a, b) => a + b, 0)).toBeCloseTo(daily, 1);
    expect(hourly[2]).toBe(0); // night
  });
});
