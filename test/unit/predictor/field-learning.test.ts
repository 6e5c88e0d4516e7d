import { describe, expect, it } from 'vitest';
import type { FieldProfile, IrrigationPrediction, ObservationSeries } from '../../../services/model/index.js';
import { hoursToThreshold } from '../../../services/model/index.js';
import {
  applyFieldFactors,
  DEFAULT_FIELD_LEARNING_OPTIONS,
  factorsOf,
  fitDryDay,
  INITIAL_FIELD_LEARNING,
  lastDayEnd,
  observeDay,
  splitRatio,
  type FieldLearningState,
} from '../../../services/predictor/field-learning.js';
import { createRandom } from '../../../services/simulator/random.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** A 1 m root zone of 150 mm TAW (RAW 75 mm), Kc 1 all season, UTC. */
const PROFILE: FieldProfile = {
  latitudeDeg: 40, longitudeDeg: 0, tzLongitudeDeg: 0, elevationM: 100, thetaFc: 0.3, thetaWp: 0.15, rootDepthM: 1, p: 0.5,
  crop: { kcIni: 1, kcMid: 1, kcEnd: 1, stageDays: [30, 30, 60, 30] }, sowingDate: '2025-04-01', windHeightM: 2,
};
const FIRST_DAY_END = Date.parse('2025-06-02T00:00:00Z');

/** Hourly ET0 of a clear day: 5 mm between 06:00 and 19:00. */
const ET0 = Array.from({ length: 24 }, (_, h) => (h >= 6 && h < 19 ? 5 * (Math.PI / 26) * Math.sin((Math.PI * (h + 0.5 - 6)) / 13) : 0));

interface DayOptions {
  /** True drawdown / computed ETc. */
  ratio: number;
  /** Probe noise, m3/m3. */
  noise?: number;
  rainMm?: number;
  /** Unrecorded irrigation at this hour of the day, mm (as the probe sees it over the profile's depth). */
  irrigationAt?: { hour: number; mm: number };
  startDepletionMm?: number;
}

/** The 48 hourly bins before `dayEnd` of a field whose probe drains `ratio` × ETc. */
function traceOf(dayEnd: number, o: DayOptions, random = createRandom('trace')): ObservationSeries {
  const theta = new Float64Array(48);
  const et0 = new Float64Array(48);
  const rain = new Float64Array(48);
  let d = o.startDepletionMm ?? 10;
  for (let k = 0; k < 48; k++) {
    et0[k] = ET0[k % 24]!;
    d += o.ratio * et0[k]!;
    if (k - 24 === o.irrigationAt?.hour) d -= o.irrigationAt.mm;
    theta[k] = PROFILE.thetaFc - d / 1000 + random.normal(0, o.noise ?? 0.002);
  }
  if (o.rainMm) rain[30] = o.rainMm;
  return { startTs: dayEnd - 2 * DAY_MS, hours: 48, theta, et0, rain };
}

function learn(days: number, o: DayOptions, seed = 'learn'): FieldLearningState {
  const random = createRandom(seed);
  let state = INITIAL_FIELD_LEARNING;
  for (let i = 0; i < days; i++) {
    const dayEnd = FIRST_DAY_END + i * DAY_MS;
    state = observeDay(state, dayEnd, fitDryDay(PROFILE, traceOf(dayEnd, o, random), dayEnd, []));
  }
  return state;
}

describe('learning a field from its dry days', () => {
  it('converges to the true drawdown ratio on noisy synthetic days (fixed seed)', () => {
    for (const ratio of [0.6, 1.3]) {
      const f = factorsOf(learn(40, { ratio, noise: 0.003 }), 0);
      // A noisy probe makes an odd day look wetted: it is left out, not counted wrong.
      expect(f.dry_days).toBeGreaterThanOrEqual(36);
      expect(f.applied).toBe(true);
      expect(f.ratio).toBeGreaterThan(ratio * 0.93);
      expect(f.ratio).toBeLessThan(ratio * 1.07);
      // The ratio is the crop factor over the capacity factor, most of it put on the capacity.
      expect(f.kc_factor / f.taw_factor).toBeCloseTo(f.ratio, 2);
      expect(Math.abs(Math.log(f.taw_factor))).toBeGreaterThan(Math.abs(Math.log(f.kc_factor)));
      expect(f.spread).toBeGreaterThan(0);
      expect(f.spread).toBeLessThan(0.3);
    }
  });

  it('keeps the factors within their bounds however far the field is from its profile', () => {
    for (const ratio of [0.15, 3.5]) {
      const f = factorsOf(learn(60, { ratio, noise: 0.001 }), 0);
      expect(f.taw_factor).toBeGreaterThanOrEqual(0.5);
      expect(f.taw_factor).toBeLessThanOrEqual(2);
      expect(f.kc_factor).toBeGreaterThanOrEqual(0.6);
      expect(f.kc_factor).toBeLessThanOrEqual(1.4);
    }
    expect(splitRatio(0.1)).toEqual({ taw: 2, kc: 0.6 });
    expect(splitRatio(10)).toEqual({ taw: 0.5, kc: 1.4 });
  });

  it('ignores days with rain, recorded or unseen irrigation, or a stressed crop', () => {
    const dayEnd = FIRST_DAY_END;
    const fit = (o: DayOptions, applied = [] as { id: string; startTs: number; endTs: number; depthMm: number }[]) =>
      fitDryDay(PROFILE, traceOf(dayEnd, o), dayEnd, applied);
    expect(fit({ ratio: 0.6, rainMm: 3 })).toEqual({ skip: 'rain' });
    expect(fit({ ratio: 0.6 }, [{ id: 'i1', startTs: dayEnd - 30 * HOUR_MS, endTs: dayEnd - 29 * HOUR_MS, depthMm: 20 }])).toEqual({ skip: 'irrigation recorded' });
    expect(fit({ ratio: 0.6, irrigationAt: { hour: 12, mm: 15 } })).toMatchObject({ skip: expect.stringMatching(/wetting seen|implausible/) });
    // A day beyond RAW is no dry day for the ratio: it only says whether the crop was stressed there.
    expect(fit({ ratio: 0.6, startDepletionMm: 80 })).toMatchObject({ kind: 'beyond RAW' });
    expect(observeDay(INITIAL_FIELD_LEARNING, dayEnd, fit({ ratio: 0.6, startDepletionMm: 80 }))).toMatchObject({ sxx: 0, sxy: 0, dryDays: 0 });
    // Crossing RAW during the day: neither.
    expect(fit({ ratio: 0.6, startDepletionMm: 70 })).toEqual({ skip: 'beyond RAW' });
    const state = observeDay(INITIAL_FIELD_LEARNING, dayEnd, fit({ ratio: 0.6, rainMm: 3 }));
    expect(state).toMatchObject({ sxx: 0, sxy: 0, dryDays: 0, lastDayEnd: dayEnd, lastOutcome: 'rain' });
    expect(factorsOf(state, 0)).toMatchObject({ dry_days: 0, ratio: 1, taw_factor: 1, kc_factor: 1, last_day: '2025-06-01', last_outcome: 'rain' });
  });

  it('shrinks towards 1 with few dry days, and applies nothing before three or within the dead band', () => {
    // One noiseless day: what the prior does, not what one day's noise does.
    const one = factorsOf(learn(1, { ratio: 0.5, noise: 0 }), 0);
    const many = factorsOf(learn(30, { ratio: 0.5, noise: 0.001 }), 0);
    expect(one.ratio).toBeGreaterThan(0.6);
    expect(one.ratio).toBeLessThan(1);
    // Reported from the first dry day, applied from the third.
    expect(one).toMatchObject({ applied: false, taw_factor: 1, kc_factor: 1 });
    expect(factorsOf(learn(2, { ratio: 0.5, noise: 0 }), 0).applied).toBe(false);
    expect(factorsOf(learn(3, { ratio: 0.5, noise: 0 }), 0).applied).toBe(true);
    expect(many.ratio).toBeLessThan(0.56);
    const close = factorsOf(learn(30, { ratio: 1.05, noise: 0.001 }), 0);
    expect(close.ratio).toBeGreaterThan(1.02);
    expect(close).toMatchObject({ applied: false, taw_factor: 1, kc_factor: 1 });
  });

  it('applies the factors to the thresholds and the forecast rate, leaving the model untouched', () => {
    const p: IrrigationPrediction = { depletionNowMm: 30, depletion24hMm: 40, depletion48hMm: 50, tawMm: 120, rawMm: 60, irrigate: false, irrigationDepthMm: 0, hoursToRaw: hoursToThreshold(30, 40, 50, 60) };
    expect(applyFieldFactors(p, { taw_factor: 1, kc_factor: 1 })).toBe(p);
    const deeper = applyFieldFactors(p, { taw_factor: 1.5, kc_factor: 0.9 });
    expect(deeper).toMatchObject({ depletionNowMm: 45, depletion24hMm: 54, depletion48hMm: 63, tawMm: 180, rawMm: 90, irrigate: false });
    // RAW 30 mm away at 10 mm a day on the profile's terms; 45 mm away at 9 mm a day on the field's.
    expect(p.hoursToRaw).toBeCloseTo(72, 0);
    expect(deeper.hoursToRaw).toBeCloseTo(48 + (90 - 63) / (9 / 24), 0);
  });

  it('moves RAW towards the deepest depletion a dry day beyond RAW was drawn through unstressed', () => {
    const base = learn(5, { ratio: 0.6, noise: 0.001 });
    expect(factorsOf(base, 0).raw_factor).toBe(1);
    const dayEnd = FIRST_DAY_END + 5 * DAY_MS;
    const after = (o: DayOptions) => observeDay(base, dayEnd, fitDryDay(PROFILE, traceOf(dayEnd, o), dayEnd, []));
    // Starting at 1.57 × RAW (FAO-56's Ks 0.43 on the profile) and drawn at the field's usual 0.6 × ETc: water below the probe.
    const unstressed = after({ ratio: 0.6, startDepletionMm: 115 });
    expect(unstressed).toMatchObject({ lastOutcome: 'beyond RAW, unstressed', dryDays: 5, sxx: base.sxx });
    expect(unstressed.unstressedTo).toBeCloseTo(118 / 75, 1);
    const f = factorsOf(unstressed, 0);
    expect(f).toMatchObject({ applied: true, taw_factor: factorsOf(base, 0).taw_factor });
    expect(f.raw_factor).toBeCloseTo(1 + DEFAULT_FIELD_LEARNING_OPTIONS.rawShift * (118 / 75 - 1), 1);
    // The same depletion drawn as FAO-56's stressed crop would (Ks × the usual ratio): nothing moves.
    const stressed = after({ ratio: 0.6 * 0.43, startDepletionMm: 115 });
    expect(stressed).toMatchObject({ lastOutcome: 'beyond RAW' });
    expect(factorsOf(stressed, 0).raw_factor).toBe(1);
    // Just beyond RAW (Ks 0.93) a crop slows too little for its pace to say anything.
    expect(factorsOf(after({ ratio: 0.6, startDepletionMm: 78 }), 0).raw_factor).toBe(1);
    // A shallower unstressed day later keeps the deepest; the bounds hold; nothing before three dry days.
    const later = observeDay(unstressed, dayEnd + DAY_MS, fitDryDay(PROFILE, traceOf(dayEnd + DAY_MS, { ratio: 0.6, startDepletionMm: 100 }), dayEnd + DAY_MS, []));
    expect(later.unstressedTo).toBe(unstressed.unstressedTo);
    expect(factorsOf(unstressed, 0, { ...DEFAULT_FIELD_LEARNING_OPTIONS, rawShift: 1, rawFactor: [1, 1.3] }).raw_factor).toBe(1.3);
    expect(factorsOf({ ...unstressed, dryDays: 2 }, 0)).toMatchObject({ raw_factor: 1 });
  });

  it('judges a day beyond RAW where it starts and records the depletion it drew through on average', () => {
    const base = learn(5, { ratio: 0.6, noise: 0.001 });
    const dayEnd = FIRST_DAY_END + 5 * DAY_MS;
    const dayOf = (startDepletionMm: number) => {
      const series = traceOf(dayEnd, { ratio: 0.6, startDepletionMm, noise: 0.0001 });
      const depletions = Array.from(series.theta.slice(24), (theta) => 1000 * (PROFILE.thetaFc - theta));
      return { fit: fitDryDay(PROFILE, series, dayEnd, []), meanFraction: depletions.reduce((a, b) => a + b, 0) / depletions.length / 75 };
    };
    // Starts at 100 mm (1.33 × RAW, FAO-56's Ks 0.67) and draws 3 mm through the afternoon at the
    // field's usual pace: unstressed, recorded at the day's mean depletion (about 101.5 mm).
    const deep = dayOf(97);
    expect(deep.fit).toMatchObject({ kind: 'beyond RAW' });
    if (!('kind' in deep.fit)) return;
    expect(deep.fit.fraction).toBeCloseTo(deep.meanFraction, 3);
    expect(deep.fit.fraction).toBeGreaterThan(101 / 75);
    const after = observeDay(base, dayEnd, deep.fit);
    expect(after).toMatchObject({ lastOutcome: 'beyond RAW, unstressed', unstressedTo: Number(deep.meanFraction.toFixed(3)) });
    // Starts at 89 mm (Ks 0.81): its mean passes the Ks 0.8 line, its start does not; nothing moves.
    const shallow = dayOf(86);
    if (!('kind' in shallow.fit)) throw new Error('expected a day beyond RAW');
    expect(shallow.fit.ks).toBeGreaterThan(DEFAULT_FIELD_LEARNING_OPTIONS.unstressedKs);
    expect(observeDay(base, dayEnd, shallow.fit)).toMatchObject({ lastOutcome: 'beyond RAW' });
  });

  it('keeps RAW where it moved through the dry days of the next spell, short of RAW', () => {
    const base = learn(5, { ratio: 0.6, noise: 0.001 });
    const dayEnd = FIRST_DAY_END + 5 * DAY_MS;
    const unstressed = observeDay(base, dayEnd, fitDryDay(PROFILE, traceOf(dayEnd, { ratio: 0.6, startDepletionMm: 115 }), dayEnd, []));
    const moved = factorsOf(unstressed, 0).raw_factor;
    expect(moved).toBeGreaterThan(1.3);
    // Refilled, then an ordinary dry day short of RAW: it adds to the ratio and leaves RAW where it was.
    const next = dayEnd + 3 * DAY_MS;
    const dry = observeDay(unstressed, next, fitDryDay(PROFILE, traceOf(next, { ratio: 0.6, startDepletionMm: 10 }), next, []));
    expect(dry).toMatchObject({ lastOutcome: 'dry', dryDays: 6, unstressedTo: unstressed.unstressedTo });
    expect(factorsOf(dry, 0).raw_factor).toBe(moved);
  });

  it('moves RAW and TAW by the RAW factor, not the depletion or its rate', () => {
    const p: IrrigationPrediction = { depletionNowMm: 30, depletion24hMm: 40, depletion48hMm: 50, tawMm: 120, rawMm: 60, irrigate: false, irrigationDepthMm: 0, hoursToRaw: hoursToThreshold(30, 40, 50, 60) };
    const later = applyFieldFactors(p, { taw_factor: 1, kc_factor: 1, raw_factor: 1.5 });
    expect(later).toMatchObject({ depletionNowMm: 30, depletion24hMm: 40, depletion48hMm: 50, tawMm: 180, rawMm: 90 });
    expect(later.hoursToRaw).toBeCloseTo(48 + (90 - 50) / (10 / 24), 0);
  });

  it('looks at a local day once it has ended', () => {
    const at = Date.parse('2025-06-02T05:30:00Z');
    expect(new Date(lastDayEnd(at, 0)).toISOString()).toBe('2025-06-02T00:00:00.000Z');
    // 15° east: local midnight is 23:00 UTC.
    expect(new Date(lastDayEnd(at, 15)).toISOString()).toBe('2025-06-01T23:00:00.000Z');
  });
});
