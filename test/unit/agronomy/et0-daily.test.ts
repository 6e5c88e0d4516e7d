import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeDailyEt0 } from '../../../services/agronomy/et0-daily.js';
import { dayOfYear } from '../../../services/agronomy/radiation.js';

// Published values: Allen, Pereira, Raes & Smith (1998), "Crop evapotranspiration — Guidelines
// for computing crop water requirements", FAO Irrigation and Drainage Paper 56 ("FAO-56").
// FAO-56 prints rounded intermediates, so the tolerances follow the printed precision.

describe('FAO-56 daily ET0 (Eq. 6)', () => {
  it('Brussels, 6 July (FAO-56, Example 17: ET0 = 3.9 mm/day)', () => {
    const r = computeDailyEt0({
      doy: dayOfYear('2023-07-06'),
      latitudeDeg: 50.8,
      elevationM: 100,
      tmaxC: 21.5,
      tminC: 12.3,
      humidity: { kind: 'rh-max-min', rhMaxPct: 84, rhMinPct: 63 },
      windSpeedMs: 10 / 3.6, // 10 km/h measured at 10 m
      windHeightM: 10,
      radiation: { kind: 'sunshine', sunshineHours: 9.25 },
    });
    // Intermediates as printed in Example 17.
    expect(r.pressure).toBeCloseTo(100.1, 1);
    expect(r.gamma).toBeCloseTo(0.0666, 4);
    expect(r.delta).toBeCloseTo(0.122, 3);
    expect(r.es).toBeCloseTo(1.997, 3);
    expect(r.ea).toBeCloseTo(1.409, 3);
    expect(r.u2).toBeCloseTo(2.078, 3);
    expect(r.ra).toBeCloseTo(41.09, 2);
    expect(r.daylightHours).toBeCloseTo(16.1, 1);
    expect(r.rs).toBeCloseTo(22.07, 2);
    expect(r.rso).toBeCloseTo(30.9, 1);
    expect(r.rns).toBeCloseTo(17.0, 1);
    expect(r.rnl).toBeCloseTo(3.71, 2);
    expect(r.rn).toBeCloseTo(13.28, 2);
    expect(r.et0).toBeCloseTo(3.9, 1);
  });

  it('Bangkok, April, monthly means (FAO-56, Example 18: ET0 = 5.72 mm/day with G = 0.14)', () => {
    const r = computeDailyEt0({
      doy: 105,
      latitudeDeg: 13 + 44 / 60,
      elevationM: 2,
      tmaxC: 34.8,
      tminC: 25.6,
      humidity: { kind: 'vapour-pressure', eaKpa: 2.85 },
      windSpeedMs: 2,
      radiation: { kind: 'sunshine', sunshineHours: 8.5 },
      soilHeatFluxMj: 0.14,
    });
    expect(r.ra).toBeCloseTo(38.06, 1);
    expect(r.daylightHours).toBeCloseTo(12.31, 1);
    expect(r.rs).toBeCloseTo(22.65, 1);
    expect(r.rso).toBeCloseTo(28.54, 1);
    expect(r.rns).toBeCloseTo(17.44, 1);
    expect(r.rnl).toBeCloseTo(3.11, 2);
    expect(r.rn).toBeCloseTo(14.33, 1);
    expect(r.es).toBeCloseTo(4.42, 2);
    expect(r.delta).toBeCloseTo(0.246, 3);
    expect(r.gamma).toBeCloseTo(0.0674, 3);
    expect(r.et0).toBeCloseTo(5.72, 2);
  });

  it('missing data: humidity from Tmin, radiation from Hargreaves, wind 2 m/s assumed', () => {
    const full = computeDailyEt0({
      doy: 187,
      latitudeDeg: 50.8,
      elevationM: 100,
      tmaxC: 21.5,
      tminC: 12.3,
      humidity: { kind: 'tmin' },
      radiation: { kind: 'temperature', coastal: false },
    });
    expect(full.u2).toBe(2);
    expect(full.ea).toBeCloseTo(1.431, 3); // e°(12.3 °C)
    expect(full.rs).toBeCloseTo(0.16 * Math.sqrt(9.2) * full.ra, 6);
    const coastal = computeDailyEt0({ ...full, doy: 187, latitudeDeg: 50.8, elevationM: 100, tmaxC: 21.5, tminC: 12.3, humidity: { kind: 'tmin' }, radiation: { kind: 'temperature', coastal: true } });
    expect(coastal.rs).toBeGreaterThan(full.rs);
    // Estimated without humidity, radiation or wind, still within 15 % of the full estimate.
    expect(full.et0).toBeGreaterThan(3.9 * 0.85);
    expect(full.et0).toBeLessThan(3.9 * 1.15);
  });

  it('caps Hargreaves radiation at the clear-sky value', () => {
    const r = computeDailyEt0({
      doy: 180,
      latitudeDeg: 30,
      elevationM: 0,
      tmaxC: 45,
      tminC: 5,
      humidity: { kind: 'tmin' },
      radiation: { kind: 'temperature', coastal: true },
    });
    expect(r.rs).toBeCloseTo(r.rso, 9);
  });
});

const day = fc.record({
  doy: fc.integer({ min: 1, max: 365 }),
  latitudeDeg: fc.double({ min: -65, max: 65, noNaN: true }),
  elevationM: fc.double({ min: 0, max: 4000, noNaN: true }),
  tminC: fc.double({ min: -10, max: 30, noNaN: true }),
  range: fc.double({ min: 0, max: 25, noNaN: true }),
  rhMin: fc.double({ min: 5, max: 90, noNaN: true }),
  windMs: fc.double({ min: 0, max: 12, noNaN: true }),
});

describe('daily ET0 properties', () => {
  it('daily ET0 is finite and non-negative for any plausible day, whichever data are missing', () => {
    fc.assert(
      fc.property(day, fc.boolean(), fc.boolean(), (d, withHumidity, withWind) => {
        const r = computeDailyEt0({
          doy: d.doy,
          latitudeDeg: d.latitudeDeg,
          elevationM: d.elevationM,
          tmaxC: d.tminC + d.range,
          tminC: d.tminC,
          humidity: withHumidity ? { kind: 'rh-max-min', rhMaxPct: Math.min(100, d.rhMin + 30), rhMinPct: d.rhMin } : { kind: 'tmin' },
          radiation: { kind: 'temperature', coastal: false },
          ...(withWind ? { windSpeedMs: d.windMs } : {}),
        });
        expect(Number.isFinite(r.et0)).toBe(true);
        expect(r.et0).toBeGreaterThanOrEqual(0);
        // The driest, hottest, windiest corner (52 °C, 5 % RH, 12 m/s) reaches about 20 mm/day.
        expect(r.et0).toBeLessThan(25);
        expect(r.ea).toBeLessThanOrEqual(r.es + 1e-9);
        expect(r.rs).toBeLessThanOrEqual(r.rso + 1e-9);
      }),
    );
  });

  it('daily ET0 rises with wind when the air is dry (aerodynamic term)', () => {
    fc.assert(
      fc.property(day, fc.double({ min: 0.5, max: 5, noNaN: true }), (d, extra) => {
        const base = {
          doy: d.doy, latitudeDeg: d.latitudeDeg, elevationM: d.elevationM, tmaxC: d.tminC + 12, tminC: d.tminC,
          humidity: { kind: 'rh-mean' as const, rhMeanPct: 30 }, radiation: { kind: 'temperature' as const, coastal: false },
        };
        const calm = computeDailyEt0({ ...base, windSpeedMs: d.windMs });
        const windy = computeDailyEt0({ ...base, windSpeedMs: d.windMs + extra });
        if (calm.et0 > 0) expect(windy.et0).toBeGreaterThanOrEqual(calm.et0 - 1e-9);
      }),
    );
  });
});
