import { describe, expect, it } from 'vitest';
import type { SeasonTrace } from '../../../services/training/aquacrop/hourly.js';
import type { ForecastCase, SensorSeries } from '../../../services/training/aquacrop/replay.js';
import { addForecastErrors, forecastError, RAIN_AHEAD_MM, type ForecastSums } from '../../../services/training/aquacrop/score.js';

const HOURS = 61;

/** AquaCrop's root zone: RAW 40 mm all season, the depletion given at a few hours; rain and irrigation per hour. */
function traceOf(depletion: Record<number, number>, irrigation: Record<number, number> = {}, rain: Record<number, number> = {}): SeasonTrace {
  const hourly = (mm: Record<number, number>) => {
    const series = new Float64Array(HOURS);
    for (const [h, x] of Object.entries(mm)) series[Number(h)] = x;
    return series;
  };
  // Only what forecastError reads is filled in.
  return { hours: HOURS, truthDepletion: hourly(depletion), truthRaw: new Float64Array(HOURS).fill(40), irrigation: hourly(irrigation), rain: hourly(rain) } as unknown as SeasonTrace;
}

/** The probe's depletion (the preset's budget, mm) at a few hours, NaN elsewhere. */
function sensorOf(depletion: Record<number, number>): SensorSeries {
  const series = new Float64Array(HOURS).fill(Number.NaN);
  for (const [h, mm] of Object.entries(depletion)) series[Number(h)] = mm;
  return { startTs: 0, depletion: series, raw: new Float64Array(HOURS).fill(20) };
}

// A: nothing learnt, the preset's RAW 20 mm, TAW 40 mm.
const A: ForecastCase = { hour: 0, raw: 20, tawFactor: 1, taw: 40, model: 14, persistence: 6, faoRaw: 20, faoNow: 6, faoYesterday: 16 };
// B: capacity learnt × 1.5 and RAW moved × 1.2 (RAW 36 mm, TAW 72 mm); 3 mm of recorded water
// the probe does not show yet credited, so the predictor's depletion now is 8 · 1.5 − 3 = 9 mm.
const B: ForecastCase = { hour: 6, raw: 36, tawFactor: 1.5, taw: 72, model: 18, persistence: 9, faoRaw: 20, faoNow: 8, faoYesterday: 15 };
// C: irrigated at hour 40, within its 24 h; D: its 24 h run past the season's end.
const C: ForecastCase = { ...A, hour: 30 };
const D: ForecastCase = { ...A, hour: 40 };

const trace = traceOf({ 0: 10, 24: 20, 6: 12, 30: 24 }, { 40: 25 });
const sensor = sensorOf({ 0: 6, 24: 13, 6: 8, 30: 14, 54: 20 });

function expectSums(actual: ForecastSums, expected: ForecastSums): void {
  expect(actual.cases).toBe(expected.cases);
  for (const k of ['model', 'persistence', 'faoYesterday', 'changeModel', 'changePersistence', 'changeFaoYesterday'] as const) {
    expect(actual[k], k).toBeCloseTo(expected[k], 10);
  }
}

describe('the AquaCrop evaluation\'s 24 h forecast error', () => {
  it('scores against AquaCrop\'s root zone, each in its own budget, as before', () => {
    const e = forecastError(trace, [A, B, C, D], sensor);
    // A: truth 20/40 = 0.5 from 10/40 = 0.25. fieldhook 14/20 = 0.7, persistence 6/20 = 0.3, FAO 16/20 = 0.8;
    //    changes 0.4, 0, 10/20 = 0.5 against 0.25.
    // B: truth 24/40 = 0.6 from 12/40 = 0.3. fieldhook 18/36 = 0.5, persistence 9/36 = 0.25, FAO 15/20 = 0.75;
    //    changes 0.25, 0, 7/20 = 0.35 against 0.3.
    expectSums(e, {
      cases: 2,
      model: 0.2 + 0.1, persistence: 0.2 + 0.35, faoYesterday: 0.3 + 0.15,
      changeModel: 0.15 + 0.05, changePersistence: 0.25 + 0.3, changeFaoYesterday: 0.25 + 0.05,
    });
  });

  it('scores against the probe\'s own reading 24 h later, counted in the forecast\'s budget', () => {
    const e = forecastError(trace, [A, B, C, D], sensor);
    // A: the probe goes 6 → 13 mm: 0.3 → 0.65 of RAW 20 (a change of 0.35). fieldhook 0.7, change 0.4;
    //    persistence 0.3; FAO 16/20 = 0.8, change 10/20 = 0.5.
    // B: the probe goes 8 → 14 mm, × 1.5 = 12 → 21 mm: 12/36 → 21/36 (a change of 9/36). fieldhook
    //    18/36, change (18 − 9)/36 = 9/36; persistence 9/36 (the credit: its level error is 12/36,
    //    not the change's 9/36); FAO 15 × 1.5 = 22.5 mm = 22.5/36, change 7 × 1.5 / 36 = 10.5/36.
    expectSums(e.probe, {
      cases: 2,
      model: 0.05 + 3 / 36, persistence: 0.35 + 12 / 36, faoYesterday: 0.15 + 1.5 / 36,
      changeModel: 0.05 + 0, changePersistence: 0.35 + 9 / 36, changeFaoYesterday: 0.15 + 1.5 / 36,
    });
  });

  it('clips the probe\'s reading to the forecast\'s budget, 0 to TAW', () => {
    // The probe wetter than field capacity now (−4 mm) and past TAW 24 h later (50 mm of 40).
    const e = forecastError(trace, [A], sensorOf({ 0: -4, 24: 50 }));
    // Truth 40/20 = 2 from 0: fieldhook 0.7 (change 0.4), persistence 0.3 (change 0), FAO 0.8 (change 0.5).
    expectSums(e.probe, { cases: 1, model: 1.3, persistence: 1.7, faoYesterday: 1.2, changeModel: 1.6, changePersistence: 2, changeFaoYesterday: 1.5 });
  });

  it('leaves out of the probe\'s truth the cases without a reading at either end, not out of AquaCrop\'s', () => {
    const e = forecastError(trace, [A, B], sensorOf({ 0: 6, 24: 13, 6: 8 }));
    expect(e.cases).toBe(2);
    expect(e.probe.cases).toBe(1);
    expect(e.probe.model).toBeCloseTo(0.05, 10);
  });

  it('adds groups truth by truth', () => {
    const a = forecastError(trace, [A], sensor);
    const b = forecastError(trace, [B], sensor);
    const both = forecastError(trace, [A, B], sensor);
    const sum = addForecastErrors(a, b);
    expectSums(sum, both);
    expectSums(sum.probe, both.probe);
  });

  describe('split by the record\'s rain over the 24 h ahead', () => {
    // A's window is hours 1–24, B's 7–30. 3 mm in hour 0 (A's own hour: behind it, not ahead) and
    // 0.5 mm in hours 5 and 20: A has 1 mm ahead (rain, the threshold counts), B 0.5 mm (dry).
    const rainy = traceOf({ 0: 10, 24: 20, 6: 12, 30: 24 }, { 40: 25 }, { 0: 3, 5: 0.5, 20: 0.5 });
    const A_ROOT: ForecastSums = { cases: 1, model: 0.2, persistence: 0.2, faoYesterday: 0.3, changeModel: 0.15, changePersistence: 0.25, changeFaoYesterday: 0.25 };
    const B_ROOT: ForecastSums = { cases: 1, model: 0.1, persistence: 0.35, faoYesterday: 0.15, changeModel: 0.05, changePersistence: 0.3, changeFaoYesterday: 0.05 };
    const A_PROBE: ForecastSums = { cases: 1, model: 0.05, persistence: 0.35, faoYesterday: 0.15, changeModel: 0.05, changePersistence: 0.35, changeFaoYesterday: 0.15 };
    const B_PROBE: ForecastSums = { cases: 1, model: 3 / 36, persistence: 12 / 36, faoYesterday: 1.5 / 36, changeModel: 0, changePersistence: 9 / 36, changeFaoYesterday: 1.5 / 36 };

    it('counts a window rainy from 1 mm on, against both truths, the whole unchanged', () => {
      expect(RAIN_AHEAD_MM).toBe(1);
      const e = forecastError(rainy, [A, B, C, D], sensor);
      expectSums(e.rain, A_ROOT);
      expectSums(e.rain.probe, A_PROBE);
      expectSums(e.dry, B_ROOT);
      expectSums(e.dry.probe, B_PROBE);
      const whole = forecastError(trace, [A, B, C, D], sensor);
      expectSums(e, whole);
      expectSums(e.probe, whole.probe);
    });

    it('counts a window dry below 1 mm and with no rain at all', () => {
      const e = forecastError(traceOf({ 0: 10, 24: 20, 6: 12, 30: 24 }, {}, { 24: 0.999 }), [A, B], sensor);
      expect(e.rain.cases).toBe(0);
      expect(e.rain.probe.cases).toBe(0);
      expectSums(e.dry, { cases: 2, model: 0.3, persistence: 0.55, faoYesterday: 0.45, changeModel: 0.2, changePersistence: 0.55, changeFaoYesterday: 0.3 });
      expect(e.dry.probe.cases).toBe(2);
    });

    it('keeps a rain window\'s case out of the probe\'s split when the probe has no reading, not out of AquaCrop\'s', () => {
      const e = forecastError(rainy, [A, B], sensorOf({ 6: 8, 30: 14 }));
      expectSums(e.rain, A_ROOT);
      expect(e.rain.probe.cases).toBe(0);
      expectSums(e.dry.probe, B_PROBE);
    });

    it('adds the split window by window', () => {
      const sum = addForecastErrors(forecastError(rainy, [A], sensor), forecastError(rainy, [B], sensor));
      const both = forecastError(rainy, [A, B], sensor);
      for (const w of ['dry', 'rain'] as const) {
        expectSums(sum[w], both[w]);
        expectSums(sum[w].probe, both[w].probe);
      }
    });
  });
});
