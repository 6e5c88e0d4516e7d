/**
 * Learning a field from its own trace. On a dry day (no rain, no irrigation, no water recorded)
 * the root zone loses what the crop transpires and the soil evaporates, ETc = Kc·ET0, and the
 * soil probe shows that loss. Where the field differs from its profile — roots deeper than the
 * preset (a 1.2 m maize profile on roots that reach 2 m), a canopy thinner or denser than the
 * Kc curve — the drawdown the probe shows, counted over the profile's root depth, departs from the
 * computed ETc by a steady ratio. That ratio, learnt online per field, corrects the balance
 * around the model: the thresholds the decision compares depletion with and the forecast rate.
 *
 * What the trace identifies, and what it cannot. Counted over the profile's depth Zp, the probe's
 * drawdown of a dry day is ETc·(Kc_true/Kc)·(Zp/Z_true), so one number is learnt: the ratio
 * ρ = k_Kc / k_TAW of the crop-factor multiplier to the root-zone capacity multiplier. The ratio
 * alone decides *when* RAW is reached (depletion and RAW both scale with the root depth, so
 * their ratio is what the probe gives; the forecast adds ETc·k_Kc to a budget k_TAW times the
 * profile's). How the ratio splits into its two factors only changes the *depth in mm* an
 * advice refills, and the drawdown cannot tell them apart: the split follows the two factors'
 * prior spreads (see {@link splitRatio}).
 *
 * The estimate is a ridge (Bayesian) regression of each day's hourly depletion on its cumulative
 * computed ETc (the slope; each day has its own starting depletion), pooled over dry days with a
 * prior worth `priorDays` clear days at ratio 1:
 *   ρ = (Σ Sxy + λ) / (Σ Sxx + λ),  λ = priorDays · Sxx of a clear 4 mm day,
 * where Sxx and Sxy are one day's centred sums of hourly cumulative ETc (x) and depletion (y).
 * A day's weight is its Sxx: a clear, thirsty day says more than a cloudy one, and the probe's
 * noise matters less over a bigger drawdown. The first dry day moves the ratio about halfway; a
 * handful make it the field's own. One day of prior, not more: with three, the ratio of a field
 * told 60 % of its roots settled at 0.64–0.69 rather than 0.6 by the season's middle (forgetting
 * keeps the prior's share from vanishing), and it gave 11 more early advice events in 737 on the
 * simulator's held-out fields; on fields whose profile is right the two were alike. Older days
 * fade (`forgetting` per dry day), so a field whose roots keep growing is followed through the
 * season. The factors are bounded (TAW ×0.5–2, Kc ×0.6–1.4): beyond that the profile itself is
 * wrong and should be corrected, not learnt around. Nothing is applied before `minDryDays`, nor
 * while the ratio is within `deadBand` of 1.
 *
 * Where the ratio is blind: where the roots take their water. The ratio scales depletion and RAW
 * alike, so it moves *when* RAW is forecast but not where the probe's depletion stands against
 * it. A probe over the top of a deeper root zone dries ahead of it (roots draw most from the top):
 * on AquaCrop's seasons the probe stood 1.6 × (maize) and 2.2–2.4 × (potato) as far towards RAW as
 * the root zone by mid-season, with drawdown ratios (0.63, 0.69) no different from a crop whose
 * profile is right (tomato 0.77) or a uniform root zone told 60 % of its depth (0.6). What tells
 * them apart is stress: beyond RAW a crop whose whole root zone the probe sees slows down (FAO-56's
 * Ks), one with water below the probe keeps drawing at its usual pace. So a dry day that starts
 * beyond RAW and shows no stress (`unstressedShare`, `unstressedKs`) records its mean depletion, and RAW
 * (TAW with it) is moved `rawShift` of the way towards the deepest such depletion, bounded by
 * `rawFactor`. The depletion and the forecast are left as the ratio has them.
 *
 * Pure: the live predictor, replay and the quality report run the same code.
 */
import { cropCoefficient, readilyAvailableWater, totalAvailableWater } from '../agronomy/index.js';
import { daysAfterSowing, profileOnDay } from '../model/features.js';
import { predictionFrom, type FieldProfile, type IrrigationPrediction, type ObservationSeries } from '../model/index.js';
import type { AppliedWater } from './applied-water.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

export interface FieldLearningOptions {
  /** Weight of the prior (ratio 1), in clear 4 mm days. Default 1. */
  priorDays: number;
  /** What an earlier dry day still counts when a new one is added, 0–1. Default 0.97 (about a month's memory). */
  forgetting: number;
  /** Bounds of the root-zone capacity (TAW, RAW) multiplier. Default [0.5, 2]. */
  tawFactor: readonly [number, number];
  /** Bounds of the crop coefficient multiplier. Default [0.6, 1.4]. */
  kcFactor: readonly [number, number];
  /** Rain in the day or the day before it above this makes the day wet, mm. Default 0.2. */
  dryRainMm: number;
  /**
   * A fitted ratio within this fraction of 1 is reported but not applied. Default 0.1: on fields
   * whose profile is right the ratio still ends a season up to 8 % off (0.94–1.08 on the
   * simulator's 24 held-out fields: probe noise, drift, the days chosen), and acting on that made
   * advice a little earlier on some fields and later on others for nothing (3 more false alarms in
   * 634 advice events); a profile 10 % or more off is worth correcting.
   */
  deadBand: number;
  /**
   * Dry days before the factors are applied at all. Default 3: one day of a noisy probe can put
   * its own ratio 0.3 off, and the first day moves the estimate halfway; three days make a
   * correction worth acting on (the estimate is reported from the first).
   */
  minDryDays: number;
  /**
   * A dry day that starts beyond RAW is *unstressed* when its drawdown is at least this share of
   * the field's fitted ratio although FAO-56's stress coefficient at its start depletion, on the
   * profile's budget, is `unstressedKs` or less (the profile says the crop should have slowed by a
   * fifth or more, and it did not). Defaults 0.9 and 0.8. On the simulator's fields (one FAO-56
   * root zone, the probe over all of it) no day passes; on AquaCrop's maize and potato, whose
   * roots reach below the probe, most dry days beyond RAW do.
   */
  unstressedShare: number;
  unstressedKs: number;
  /**
   * How far RAW moves towards the deepest depletion a dry day was drawn through unstressed, 0–1.
   * Default 0.65: a crop's own stress point lies beyond FAO-56's RAW (p is what a crop can lose
   * before stress *may* start), so the unstressed depletion overshoots the root zone's RAW; on
   * AquaCrop's seasons it stood about 1.2 × where the root zone crossed RAW late in the season
   * (maize 1.86 × the profile's RAW against 1.6, potato 2.8 against 2.2–2.4). Moving RAW the full
   * way, maize was advised in time on 42 % of its days; 0.8 of the way, 84 %; 0.7, 96 %; 0.65 and
   * less, 98 % as without it. Half the way left more false alarms (27 % of advice events against
   * 23 %). Those were measured with a day's start depletion recorded and RAW reset by the next
   * dry day short of it. With RAW kept, 0.7 of the way left maize 95.8 % of its days in time on
   * the sites it was tuned on and 0.75 90.8 % (the same edge); with the day's mean depletion
   * recorded as well (now), 0.65 keeps 97.5 %. Measured in models/aquacrop/README.md.
   */
  rawShift: number;
  /** Bounds of the RAW multiplier this gives (and TAW with it). Default [1, 2]. */
  rawFactor: readonly [number, number];
}

export const DEFAULT_FIELD_LEARNING_OPTIONS: Readonly<FieldLearningOptions> = Object.freeze({
  priorDays: 1,
  forgetting: 0.97,
  tawFactor: [0.5, 2] as const,
  kcFactor: [0.6, 1.4] as const,
  dryRainMm: 0.2,
  deadBand: 0.1,
  minDryDays: 3,
  unstressedShare: 0.9,
  unstressedKs: 0.8,
  rawShift: 0.65,
  rawFactor: [1, 2] as const,
});

/** What a field has learnt (persisted with its decision state). */
export interface FieldLearningState {
  /** Sums over dry days, faded by `forgetting`: Σ Sxx (mm²), Σ Sxy (mm²), Σ slope²·Sxx (mm²). */
  sxx: number;
  sxy: number;
  sqq: number;
  /** Dry days used (not faded). */
  dryDays: number;
  /** End of the last local day looked at, epoch ms (0 = none). */
  lastDayEnd: number;
  /** What that day was: `dry` (used) or why it was not used. */
  lastOutcome: string;
  /** Its own ratio when it was used. */
  lastRatio?: number;
  /** Deepest depletion, as a fraction of the profile's RAW, at which a dry day showed no stress (absent: none beyond RAW). */
  unstressedTo?: number;
}

export const INITIAL_FIELD_LEARNING: FieldLearningState = Object.freeze({ sxx: 0, sxy: 0, sqq: 0, dryDays: 0, lastDayEnd: 0, lastOutcome: 'none yet' });

/** The learnt factors, as advice provenance and the status page report them. */
export interface FieldFactors {
  /** Dry days the estimate rests on. */
  dry_days: number;
  /** Drawdown / computed ETc: the fitted ratio (shrunk towards 1), and the spread of the days' own ratios. */
  ratio: number;
  spread: number;
  /** Whether the factors are in use: false before `minDryDays`, and while the ratio is within the dead band of 1 (then TAW's and Kc's are 1) and RAW has not moved. */
  applied: boolean;
  /** Multipliers on the profile's TAW (and RAW) and on its Kc, as applied (bounded). */
  taw_factor: number;
  kc_factor: number;
  /** Multiplier on the RAW the advice waits for (and on TAW), from dry days beyond RAW the crop drew through unstressed. */
  raw_factor: number;
  /** The last local day looked at (YYYY-MM-DD, the field's standard time) and what it was. */
  last_day: string | null;
  last_outcome: string;
}

/** Sxx of a clear day with 4 mm ETc spread over the daylight hours: the unit the prior is counted in. */
const REFERENCE_SXX = (() => {
  const demand = Array.from({ length: 24 }, (_, h) => (h >= 6 && h < 19 ? Math.sin((Math.PI * (h + 0.5 - 6)) / 13) : 0));
  const total = demand.reduce((a, b) => a + b, 0);
  let cum = 0;
  const x = demand.map((d) => (cum += (4 * d) / total));
  const mean = x.reduce((a, b) => a + b, 0) / x.length;
  return x.reduce((a, b) => a + (b - mean) ** 2, 0);
})();

/** Hours of the day that must have soil moisture, and ET0. */
const MIN_THETA_HOURS = 16;
const MIN_ET0_HOURS = 20;
/** A day whose ETc is below this says nothing (overcast, bare soil), mm. */
const MIN_ETC_MM = 1;
/** A day's own ratio outside these is not a dry day's drawdown (unseen water, a probe fault). */
const PLAUSIBLE_RATIO: readonly [number, number] = [0.1, 4];
/** A wetting step bigger than this (mm, and than the probe's noise allows) makes the day wet. */
const JUMP_MM = 3;

/** One day's drawdown against its computed ETc. */
export interface DayFit {
  /** Centred sums of cumulative ETc (x) and depletion (y) over the day's hours, mm². */
  sxx: number;
  sxy: number;
  /** ETc of the day, mm. */
  etcMm: number;
}

/** A dry day that began beyond RAW: what it says about stress there. */
export interface BeyondRawDay {
  kind: 'beyond RAW';
  /** The day's mean depletion, fraction of the profile's RAW. */
  fraction: number;
  /** Its drawdown / computed ETc. */
  ratio: number;
  /** FAO-56's water stress coefficient at the day's start depletion, on the profile's budget. */
  ks: number;
}

/**
 * Fit one local day: `series` holds the 48 hourly bins before `dayEnd` (the day before, then the
 * day). Returns why the day is not a dry day instead when it is not one.
 */
export function fitDryDay(
  fieldProfile: FieldProfile,
  series: ObservationSeries,
  dayEnd: number,
  applied: readonly AppliedWater[],
  options: Pick<FieldLearningOptions, 'dryRainMm'> = DEFAULT_FIELD_LEARNING_OPTIONS,
): DayFit | BeyondRawDay | { skip: string } {
  if (series.hours !== 48 || series.startTs !== dayEnd - 2 * DAY_MS) return { skip: 'no history' };
  let rain = 0;
  for (let k = 0; k < 48; k++) rain += series.rain[k]!;
  if (rain > options.dryRainMm) return { skip: 'rain' };
  // Water applied in the day or the day before (still draining) makes the drawdown another thing.
  if (applied.some((a) => a.startTs < dayEnd && a.endTs > dayEnd - 2 * DAY_MS)) return { skip: 'irrigation recorded' };
  const profile = profileOnDay(fieldProfile, dayEnd - DAY_MS / 2);
  const taw = totalAvailableWater(profile.thetaFc, profile.thetaWp, profile.rootDepthM);
  const raw = readilyAvailableWater(taw, profile.p);
  const das = daysAfterSowing(profile, dayEnd - DAY_MS / 2);
  if (das < 0) return { skip: 'before sowing' };
  const kc = cropCoefficient(profile.crop, das);
  // ET0 of the day's hours, gaps filled from their neighbours (the hourly curve is smooth).
  const et0: number[] = [];
  let known = 0;
  for (let k = 24; k < 48; k++) {
    const v = series.et0[k]!;
    et0.push(v);
    if (Number.isFinite(v)) known++;
  }
  if (known < MIN_ET0_HOURS) return { skip: 'too few hours with ET0' };
  for (let k = 0; k < 24; k++) {
    if (Number.isFinite(et0[k]!)) continue;
    const before = et0.slice(0, k).findLast((v) => Number.isFinite(v));
    const after = et0.slice(k + 1).find((v) => Number.isFinite(v));
    et0[k] = ((before ?? after ?? 0) + (after ?? before ?? 0)) / 2;
  }
  const xs: number[] = [];
  const ys: number[] = [];
  let cum = 0;
  for (let k = 0; k < 24; k++) {
    cum += kc * Math.max(0, et0[k]!);
    const theta = series.theta[24 + k]!;
    if (!Number.isFinite(theta)) continue;
    xs.push(cum);
    ys.push(1000 * (profile.thetaFc - theta) * profile.rootDepthM);
  }
  if (xs.length < MIN_THETA_HOURS) return { skip: 'too few hours with soil moisture' };
  if (cum < MIN_ETC_MM) return { skip: 'too little ETc' };
  const head = mean(ys.slice(0, 3));
  const tail = mean(ys.slice(-3));
  // Beyond RAW the crop is stressed and takes less than ETc: that is not the field's capacity.
  // A day that starts there says instead whether it is stressed (see observeDay).
  if (Math.max(head, tail) > raw) {
    if (head <= raw || wetted(ys)) return { skip: 'beyond RAW' };
    const { sxx, sxy } = slopeOf(xs, ys);
    const ratio = sxy / sxx;
    if (!(ratio >= PLAUSIBLE_RATIO[0] && ratio <= PLAUSIBLE_RATIO[1])) return { skip: 'beyond RAW' };
    // Judged where the day starts (the profile already calls the crop stressed there), recorded
    // where it stood on average while it drew the day's water: a crop that keeps its pace all day
    // was unstressed through the depletion it drew into, not only at the one it started from.
    // Judging the day at its mean as well moved RAW on AquaCrop's maize read over its own root
    // zone (20 days fewer in time); recording its end, the deepest, left maize at the edge of the
    // depletion where its advice comes late (models/aquacrop/README.md).
    // FAO-56 Eq. 84 on the profile's budget: Ks = (TAW − Dr) / (TAW − RAW), Dr = fraction · p · TAW.
    const ks = Math.max(0, (1 - profile.p * (head / raw)) / (1 - profile.p));
    return { kind: 'beyond RAW', fraction: mean(ys) / raw, ratio, ks };
  }
  if (wetted(ys)) return { skip: 'wetting seen' };
  const { sxx, sxy } = slopeOf(xs, ys);
  const ratio = sxy / sxx;
  if (!(ratio >= PLAUSIBLE_RATIO[0] && ratio <= PLAUSIBLE_RATIO[1])) return { skip: `implausible drawdown (${ratio.toFixed(2)} × ETc)` };
  return { sxx, sxy, etcMm: cum };
}

/**
 * Water that came in unannounced (an irrigation nobody recorded) shows as a step down in
 * depletion: the mean of three hours wetter than the three before by more than the probe's noise
 * allows. The noise is the day's own (median absolute hourly change), so a noisy probe is not
 * taken for irrigation every hour.
 */
function wetted(ys: readonly number[]): boolean {
  const diffs = ys.slice(1).map((y, i) => Math.abs(y - ys[i]!)).sort((a, b) => a - b);
  const hourlyNoise = (diffs[diffs.length >> 1] ?? 0) / (0.6745 * Math.SQRT2);
  const limit = Math.max(JUMP_MM, 3.5 * hourlyNoise * Math.sqrt(2 / 3));
  for (let i = 3; i + 3 <= ys.length; i++) if (mean(ys.slice(i - 3, i)) - mean(ys.slice(i, i + 3)) > limit) return true;
  return false;
}

/** Centred sums Sxx and Sxy of paired samples. */
function slopeOf(xs: readonly number[], ys: readonly number[]): { sxx: number; sxy: number } {
  const mx = mean(xs);
  const my = mean(ys);
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < xs.length; i++) {
    sxx += (xs[i]! - mx) ** 2;
    sxy += (xs[i]! - mx) * (ys[i]! - my);
  }
  return { sxx, sxy };
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
}

/** The state after looking at the day that ended at `dayEnd`. */
export function observeDay(
  state: FieldLearningState,
  dayEnd: number,
  fit: DayFit | BeyondRawDay | { skip: string },
  options: Pick<FieldLearningOptions, 'forgetting' | 'priorDays' | 'unstressedShare' | 'unstressedKs'> = DEFAULT_FIELD_LEARNING_OPTIONS,
): FieldLearningState {
  if ('skip' in fit) return { ...state, lastDayEnd: dayEnd, lastOutcome: fit.skip, lastRatio: undefined };
  if ('kind' in fit) {
    const unstressed = fit.ks <= options.unstressedKs && fit.ratio >= options.unstressedShare * fittedRatio(state, options);
    return {
      ...state,
      lastDayEnd: dayEnd,
      lastOutcome: unstressed ? 'beyond RAW, unstressed' : 'beyond RAW',
      lastRatio: round(fit.ratio),
      ...(unstressed && fit.fraction > (state.unstressedTo ?? 1) ? { unstressedTo: round(fit.fraction) } : {}),
    };
  }
  const slope = fit.sxy / fit.sxx;
  const f = options.forgetting;
  return {
    // A dry day short of RAW says nothing of where stress starts: the deepest unstressed depletion
    // holds through the refills between dry spells (dropping it here undid RAW's move at every
    // spell's first dry day, and the next spell was advised on the profile's RAW until it was
    // drawn through unstressed again: 19 more false alarms in 1829 on AquaCrop's seasons).
    ...(state.unstressedTo !== undefined ? { unstressedTo: state.unstressedTo } : {}),
    sxx: f * state.sxx + fit.sxx,
    sxy: f * state.sxy + fit.sxy,
    sqq: f * state.sqq + slope * slope * fit.sxx,
    dryDays: state.dryDays + 1,
    lastDayEnd: dayEnd,
    lastOutcome: 'dry',
    lastRatio: round(slope),
  };
}

/**
 * Split a drawdown ratio ρ = k_Kc / k_TAW into its two factors. The trace cannot tell them apart,
 * so the split is the most probable one under independent log-normal priors whose spreads are a
 * quarter of each bound's log-range (the bounds are two standard deviations either way): ln k_TAW
 * takes −w·ln ρ and ln k_Kc the rest, w = σ²_TAW / (σ²_TAW + σ²_Kc) ≈ 0.73 with the default bounds.
 * Root depth is by far the less certain of the two (roots grow, soils limit them, probes sit at
 * one depth; a Kc table is off by a tenth or two). When one factor reaches its bound the other
 * takes the rest of the ratio, as far as its own bound allows.
 */
export function splitRatio(ratio: number, options: Pick<FieldLearningOptions, 'tawFactor' | 'kcFactor'> = DEFAULT_FIELD_LEARNING_OPTIONS): { taw: number; kc: number } {
  const [tLo, tHi] = options.tawFactor;
  const [kLo, kHi] = options.kcFactor;
  const varT = (Math.log(tHi / tLo) / 4) ** 2;
  const varK = (Math.log(kHi / kLo) / 4) ** 2;
  const lr = Math.log(ratio);
  const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));
  const taw = clamp(Math.exp((-varT / (varT + varK)) * lr), tLo, tHi);
  const kc = clamp(ratio * taw, kLo, kHi);
  return { taw: clamp(kc / ratio, tLo, tHi), kc };
}

/** The drawdown ratio a state stands for, shrunk towards 1 by the prior. */
function fittedRatio(state: FieldLearningState, options: Pick<FieldLearningOptions, 'priorDays'>): number {
  const lambda = options.priorDays * REFERENCE_SXX;
  return (state.sxy + lambda) / (state.sxx + lambda);
}

/** The factors a state stands for (1 and 1 before any dry day). */
export function factorsOf(state: FieldLearningState, tzLongitudeDeg: number, options: FieldLearningOptions = DEFAULT_FIELD_LEARNING_OPTIONS): FieldFactors {
  const fitted = fittedRatio(state, options);
  const pooled = state.sxx > 0 ? state.sxy / state.sxx : 1;
  const spread = state.sxx > 0 ? Math.sqrt(Math.max(0, state.sqq / state.sxx - pooled * pooled)) : 0;
  const { taw, kc } = splitRatio(fitted, options);
  const scaled = state.dryDays >= options.minDryDays && Math.abs(Math.log(fitted)) > Math.log(1 + options.deadBand);
  const rawFactor = state.dryDays >= options.minDryDays ? Math.min(options.rawFactor[1], Math.max(options.rawFactor[0], 1 + options.rawShift * ((state.unstressedTo ?? 1) - 1))) : 1;
  const applied = scaled || rawFactor > 1;
  return {
    dry_days: state.dryDays,
    ratio: round(kc / taw),
    spread: round(spread),
    applied,
    taw_factor: scaled ? round(taw) : 1,
    kc_factor: scaled ? round(kc) : 1,
    raw_factor: round(rawFactor),
    last_day: state.lastDayEnd ? new Date(state.lastDayEnd - DAY_MS + (tzLongitudeDeg / 15) * HOUR_MS).toISOString().slice(0, 10) : null,
    last_outcome: state.lastOutcome + (state.lastRatio !== undefined ? ` (${state.lastRatio.toFixed(2)} × ETc)` : ''),
  };
}

/** The end of the newest local day (midnight, the field's standard time) at or before `atTs`. */
export function lastDayEnd(atTs: number, tzLongitudeDeg: number): number {
  const offset = (tzLongitudeDeg / 15) * HOUR_MS;
  return Math.floor((atTs + offset) / DAY_MS) * DAY_MS - offset;
}

/**
 * The model's prediction in the field's learnt terms: TAW, RAW and the depletion now scaled by
 * the capacity factor (the probe's reading counted over the roots the field really has), the
 * forecast's increments by the crop factor (the water the field really uses), the threshold
 * crossing recomputed the model's way. The model and its features are untouched.
 */
export function applyFieldFactors(p: IrrigationPrediction, factors: Pick<FieldFactors, 'taw_factor' | 'kc_factor'> & Partial<Pick<FieldFactors, 'raw_factor'>>, localHour?: number): IrrigationPrediction {
  const t = factors.taw_factor;
  const k = factors.kc_factor;
  const r = factors.raw_factor ?? 1;
  if (t === 1 && k === 1 && r === 1) return p;
  const taw = p.tawMm * t * r;
  const now = Math.min(taw, Math.max(0, p.depletionNowMm * t));
  return predictionFrom(
    { now, d24: now + k * (p.depletion24hMm - p.depletionNowMm), d48: now + k * (p.depletion48hMm - p.depletionNowMm), taw, raw: p.rawMm * t * r },
    localHour,
  );
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
