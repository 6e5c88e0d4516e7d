import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeHourlyEt0 } from '../../../services/agronomy/et0-hourly.js';
import { extraterrestrialRadiationDaily } from '../../../services/agronomy/radiation.js';

// Published values: Allen, Pereira, Raes & Smith (1998), "Crop evapotranspiration — Guidelines
// for computing crop water requirements", FAO Irrigation and Drainage Paper 56 ("FAO-56").
// FAO-56 prints rounded intermediates, so the tolerances follow the printed precision.

describe('FAO-56 hourly ET0 (Eq. 53)', () => {
  // N'Diaye, Senegal: 16°13'N, 16°15'W, 8 m, 1 October; time-zone meridian 15°W.
  const site = { doy: 274, latitudeDeg: 16 + 13 / 60, longitudeDeg: -16.25, tzLongitudeDeg: -15, elevationM: 8 };

  it('daytime hour 14–15 h (FAO-56, Example 19: Ra = 3.543, Rn = 1.749, G = 0.175, ET0 = 0.63 mm/h)', () => {
    const r = computeHourlyEt0({ ...site, hour: 14, temperatureC: 38, rhPct: 52, windSpeedMs: 3.3, solarRadiationMj: 2.45 });
    expect(r.daytime).toBe(true);
    expect(r.es).toBeCloseTo(6.625, 3);
    expect(r.ea).toBeCloseTo(3.445, 3);
    expect(r.delta).toBeCloseTo(0.358, 3);
    expect(r.gamma).toBeCloseTo(0.0673, 4);
    expect(r.ra).toBeCloseTo(3.543, 3);
    expect(r.rso).toBeCloseTo(2.658, 3);
    expect(r.rns).toBeCloseTo(1.887, 3);
    expect(r.rnl).toBeCloseTo(0.137, 3);
    expect(r.rn).toBeCloseTo(1.749, 3);
    expect(r.g).toBeCloseTo(0.175, 3);
    expect(r.et0).toBeCloseTo(0.63, 2);
  });

  it('night hour 02–03 h (FAO-56, Example 19: Rs/Rso = 0.8, Rnl = 0.100, G = −0.050, ET0 ≈ 0.0 mm/h)', () => {
    const r = computeHourlyEt0({ ...site, hour: 2, temperatureC: 28, rhPct: 90, windSpeedMs: 1.9, solarRadiationMj: 0, rsRsoNight: 0.8 });
    expect(r.daytime).toBe(false);
    expect(r.ra).toBe(0);
    expect(r.rnl).toBeCloseTo(0.1, 3);
    expect(r.rn).toBeCloseTo(-0.1, 3);
    expect(r.g).toBeCloseTo(-0.05, 3);
    expect(r.et0).toBeCloseTo(0, 2);
  });

  it('sums of hourly Ra over a day match the daily Ra (Eq. 21 vs Eq. 28)', () => {
    let sum = 0;
    for (let h = 0; h < 24; h++) {
      const r = computeHourlyEt0({ ...site, hour: h, temperatureC: 25, rhPct: 60, windSpeedMs: 2, solarRadiationMj: 0 });
      sum += r.ra;
    }
    expect(sum).toBeCloseTo(extraterrestrialRadiationDaily(site.latitudeDeg, site.doy), 1);
  });
});

describe('hourly ET0 properties', () => {
  it('hourly ET0 without sunshine is non-negative and bounded even in hot, dry, windy air', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 365 }),
        fc.integer({ min: 0, max: 23 }),
        fc.double({ min: -10, max: 40, noNaN: true }),
        fc.double({ min: 5, max: 100, noNaN: true }),
        fc.double({ min: 0, max: 10, noNaN: true }),
        (doy, hour, t, rh, u) => {
          const r = computeHourlyEt0({
            doy, hour, latitudeDeg: 40, longitudeDeg: 0, tzLongitudeDeg: 0, elevationM: 100,
            temperatureC: t, rhPct: rh, windSpeedMs: u, solarRadiationMj: 0,
          });
          expect(r.et0).toBeGreaterThanOrEqual(0);
          expect(r.et0).toBeLessThan(1.5);
        },
      ),
    );
  });
});
