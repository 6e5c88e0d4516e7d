import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluateEt0Request } from '../../../services/agronomy/requests.js';
import { computeDailyEt0, computeHourlyEt0 } from '../../../services/agronomy/index.js';

const day = fc.record({
  doy: fc.integer({ min: 1, max: 365 }),
  latitudeDeg: fc.double({ min: -65, max: 65, noNaN: true }),
  elevationM: fc.double({ min: 0, max: 4000, noNaN: true }),
  tminC: fc.double({ min: -10, max: 30, noNaN: true }),
  range: fc.double({ min: 0, max: 25, noNaN: true }),
  rhMin: fc.double({ min: 5, max: 90, noNaN: true }),
  windMs: fc.double({ min: 0, max: 12, noNaN: true }),
});

describe('ET0 properties', () => {
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
        expect(r.et0).toBeLessThan(20);
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

  it('the CLI request path gives the library result', () => {
    const out = evaluateEt0Request({ date: '2023-07-06', latitude: 50.8, elevation: 100, tmax: 21.5, tmin: 12.3 });
    const lib = computeDailyEt0({
      doy: 187, latitudeDeg: 50.8, elevationM: 100, tmaxC: 21.5, tminC: 12.3,
      humidity: { kind: 'tmin' }, radiation: { kind: 'temperature', coastal: false },
    });
    expect(out.et0).toBeCloseTo(lib.et0, 4);
    expect(out).toMatchObject({ humidity_source: 'tmin', radiation_source: 'temperature', u2: 2 });
  });
});
