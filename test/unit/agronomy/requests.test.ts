import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluateBalanceRequest, evaluateEt0Request, evaluateMany } from '../../../services/agronomy/requests.js';
import { computeDailyEt0 } from '../../../services/agronomy/et0-daily.js';
import { FieldhookError } from '../../../services/shared/errors.js';

const brussels = {
  date: '2023-07-06',
  latitude: 50.8,
  elevation: 100,
  tmax: 21.5,
  tmin: 12.3,
  rh_max: 84,
  rh_min: 63,
  wind_speed: 10 / 3.6,
  wind_height: 10,
  sunshine_hours: 9.25,
};

function errorOf(fn: () => unknown): FieldhookError {
  try {
    fn();
  } catch (err) {
    if (err instanceof FieldhookError) return err;
    throw err;
  }
  throw new Error('expected an error');
}

describe('agronomy et0 requests', () => {
  it('returns ET0 with every intermediate (FAO-56, Example 17)', () => {
    const out = evaluateEt0Request(brussels);
    expect(out).toMatchObject({ ...brussels, et0: 3.8803, ra: 41.0884, rs: 22.0721, rnl: 3.7123, ea: 1.4086 });
    expect(out.u2).toBeCloseTo(2.078, 3);
    for (const k of ['ra', 'rs', 'rso', 'rns', 'rnl', 'rn', 'es', 'ea', 'delta', 'gamma', 'u2']) expect(out).toHaveProperty(k);
  });

  it('recognises hourly input by its hour field (FAO-56, Example 19)', () => {
    const out = evaluateEt0Request({
      date: '2023-10-01', hour: 14, latitude: 16.2167, longitude: -16.25, tz_longitude: -15, elevation: 8,
      temperature: 38, rh: 52, wind_speed: 3.3, solar_radiation: 2.45,
    });
    expect(out.et0).toBeCloseTo(0.63, 2);
    expect(out.daytime).toBe(true);
  });

  it.each([
    [{ ...brussels, tmax: undefined }, 'FH_ERR_AGRONOMY_INVALID_INPUT', 'tmax'],
    [{ ...brussels, tmin: 30 }, 'FH_ERR_AGRONOMY_INVALID_INPUT', 'tmin'],
    [{ ...brussels, rh_min: undefined }, 'FH_ERR_AGRONOMY_INVALID_INPUT', 'rh_min'],
    [{ ...brussels, tdew: 8 }, 'FH_ERR_AGRONOMY_CONFLICTING_INPUT', 'tdew'],
    [{ ...brussels, solar_radiation: 20 }, 'FH_ERR_AGRONOMY_CONFLICTING_INPUT', 'sunshine_hours'],
    [{ ...brussels, sunshine_hours: 17 }, 'FH_ERR_AGRONOMY_INVALID_INPUT', 'sunshine_hours'],
    [{ ...brussels, latitude: 95 }, 'FH_ERR_AGRONOMY_INVALID_INPUT', 'latitude'],
    [{ ...brussels, date: '2023-02-30' }, 'FH_ERR_AGRONOMY_INVALID_INPUT', 'date'],
    [{ ...brussels, rh_maxx: 3 }, 'FH_ERR_AGRONOMY_INVALID_INPUT', 'rh_maxx'],
    [{ ...brussels, coastal: true }, 'FH_ERR_AGRONOMY_INVALID_INPUT', 'coastal'],
    [{ ...brussels, wind_speed: 'fast' }, 'FH_ERR_AGRONOMY_INVALID_INPUT', 'wind_speed'],
  ])('rejects bad input %#, naming the field', (input, code, field) => {
    const err = errorOf(() => evaluateEt0Request(input));
    expect(err.code).toBe(code);
    expect(err.statusCode).toBe(400);
    expect(err.details?.field).toBe(field);
    expect(err.message).toContain(field);
  });

  it('names the array element in errors', () => {
    const err = errorOf(() => evaluateMany([brussels, { ...brussels, elevation: null }], evaluateEt0Request));
    expect(err.details?.field).toBe('[1].elevation');
  });

  it('never fails with anything but a FieldhookError on arbitrary JSON (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        try {
          evaluateEt0Request(value);
          evaluateBalanceRequest(value);
        } catch (err) {
          expect(err).toBeInstanceOf(FieldhookError);
        }
      }),
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

describe('agronomy balance requests', () => {
  const base = { theta_fc: 0.25, theta_wp: 0.12, root_depth: 0.5, p: 0.5, initial_depletion: 25 };

  it('returns TAW, RAW and per-day results', () => {
    const out = evaluateBalanceRequest({ ...base, days: [{ et0: 5, kc: 1 }, { et0: 6, kc: 1, rain: 45, runoff: 5 }] }) as {
      taw: number; raw: number; days: Record<string, unknown>[];
    };
    expect(out.taw).toBe(65);
    expect(out.raw).toBe(32.5);
    expect(out.days[0]).toMatchObject({ ks: 1, etc_adj: 5, depletion_end: 30, irrigate: false, irrigation_depth: 0 });
    // 40 mm infiltrate into a 30 mm deficit while 6 mm transpire: 4 mm percolate.
    expect(out.days[1]).toMatchObject({ deep_percolation: 4, depletion_end: 0 });
  });

  it('starts from a measured soil moisture and flags the day RAW is reached', () => {
    const out = evaluateBalanceRequest({
      theta_fc: 0.25, theta_wp: 0.12, root_depth: 0.5, p: 0.5, initial_soil_moisture: 0.2,
      days: [{ et0: 5, kc: 1 }, { et0: 5, kc: 1 }],
    }) as { initial_depletion: number; days: { irrigate: boolean; irrigation_depth: number }[] };
    expect(out.initial_depletion).toBe(25);
    expect(out.days.map((d) => d.irrigate)).toEqual([false, true]);
    expect(out.days[1]!.irrigation_depth).toBe(35);
  });

  it.each([
    [{ ...base, theta_wp: 0.3, days: [{ et0: 1, kc: 1 }] }, 'theta_wp'],
    [{ ...base, initial_soil_moisture: 0.2, days: [{ et0: 1, kc: 1 }] }, 'initial_soil_moisture'],
    [{ ...base, days: [] }, 'days'],
    [{ ...base, days: [{ et0: 1, kc: 1, rain: 2, runoff: 3 }] }, 'days[0].runoff'],
    [{ ...base, days: [{ et0: -1, kc: 1 }] }, 'days[0].et0'],
    [{ ...base, initial_depletion: 100, days: [{ et0: 1, kc: 1 }] }, 'initial_depletion'],
  ])('rejects bad input %#, naming the field', (input, field) => {
    const err = errorOf(() => evaluateBalanceRequest(input));
    expect(err.details?.field).toBe(field);
  });
});
