/**
 * Scoring of advice against AquaCrop's truth, with the measures of the simulator's decision
 * quality report (services/training/quality-report.ts): a local day needs water when AquaCrop's
 * root-zone depletion exceeds RAW (p · its TAW); it was advised in time when an advice was in
 * force at the evaluation one hour before the first such hour; an advice event is a false alarm
 * when the depletion does not reach RAW within the horizon plus a slack. The 24 h depletion
 * forecast is scored in fractions of RAW, on the hours with no irrigation in the next 24 h, against
 * two truths: AquaCrop's root zone, each in its own budget (fieldhook's managed root zone,
 * AquaCrop's actual one), and the probe's own reading 24 h later in the forecast's budget; and
 * split by whether the record has rain over the 24 h ahead.
 */
import { FEATURE_WINDOW_HOURS } from '../../model/index.js';
import type { SeasonTrace } from './hourly.js';
import type { AdviceTrack, ForecastCase, SensorSeries } from './replay.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

export interface ScoringOptions {
  /** Advice horizon of the decision, h. */
  horizonH: number;
  /** An advice is false when RAW is not reached within horizon + slack, h. Default 24. */
  falseAlarmSlackH: number;
}

/** Why an advice was a false alarm, first that applies (in this order). */
export const FALSE_ALARM_CAUSES = ['renewal', 'rain ≥ 5 mm within 48 h', 'canopy past its peak', 'probe budget drier than the root zone', 'came within 0.8 RAW', 'other'] as const;
/** Why a day needing water was not advised in time. */
export const MISS_CAUSES = ['stale', 'probe budget wetter than the root zone', 'advice lapsed within 24 h before', 'other'] as const;
export type FalseAlarmCause = (typeof FALSE_ALARM_CAUSES)[number];
export type MissCause = (typeof MISS_CAUSES)[number];

export interface AdviceScore {
  seasons: number;
  daysNeedingWater: number;
  daysAdvisedInTime: number;
  advices: number;
  falseAlarms: number;
  /** Hours from advice to the RAW crossing it covered. */
  leads: number[];
  /** Season hours scored, and of those the hours with an advice in force. */
  hours: number;
  hoursInForce: number;
  falseAlarmCauses: Record<FalseAlarmCause, number>;
  missCauses: Record<MissCause, number>;
}

export function emptyScore(): AdviceScore {
  return {
    seasons: 0, daysNeedingWater: 0, daysAdvisedInTime: 0, advices: 0, falseAlarms: 0, leads: [], hours: 0, hoursInForce: 0,
    falseAlarmCauses: Object.fromEntries(FALSE_ALARM_CAUSES.map((c) => [c, 0])) as Record<FalseAlarmCause, number>,
    missCauses: Object.fromEntries(MISS_CAUSES.map((c) => [c, 0])) as Record<MissCause, number>,
  };
}

export function addScores(a: AdviceScore, b: AdviceScore): AdviceScore {
  const out = emptyScore();
  out.seasons = a.seasons + b.seasons;
  out.daysNeedingWater = a.daysNeedingWater + b.daysNeedingWater;
  out.daysAdvisedInTime = a.daysAdvisedInTime + b.daysAdvisedInTime;
  out.advices = a.advices + b.advices;
  out.falseAlarms = a.falseAlarms + b.falseAlarms;
  out.leads = [...a.leads, ...b.leads];
  out.hours = a.hours + b.hours;
  out.hoursInForce = a.hoursInForce + b.hoursInForce;
  for (const c of FALSE_ALARM_CAUSES) out.falseAlarmCauses[c] = a.falseAlarmCauses[c] + b.falseAlarmCauses[c];
  for (const c of MISS_CAUSES) out.missCauses[c] = a.missCauses[c] + b.missCauses[c];
  return out;
}

/** The decider's depletion as a fraction of its RAW, against AquaCrop's, at hour i: > 0 drier. */
function budgetGap(trace: SeasonTrace, track: AdviceTrack, i: number): number {
  const mine = track.depletionNow[i]! / track.raw[i]!;
  const truth = trace.truthDepletion[i]! / trace.truthRaw[i]!;
  return Number.isFinite(mine) ? mine - truth : 0;
}

/** Score one decider on one season. */
export function scoreSeason(trace: SeasonTrace, track: AdviceTrack, options: ScoringOptions): AdviceScore {
  const score = emptyScore();
  score.seasons = 1;
  const reach = options.horizonH + options.falseAlarmSlackH;
  const peakCanopy = Math.max(...trace.canopyCover);
  const peakHour = trace.canopyCover.indexOf(peakCanopy);
  for (const i of track.events) {
    score.advices++;
    let reached = false;
    let closest = 0;
    for (let j = i; j < Math.min(trace.hours, i + 1 + reach); j++) {
      closest = Math.max(closest, trace.truthDepletion[j]! / trace.truthRaw[j]!);
      if (trace.truthDepletion[j]! >= trace.truthRaw[j]!) {
        reached = true;
        break;
      }
    }
    if (reached) continue;
    score.falseAlarms++;
    let rain = 0;
    for (let j = i + 1; j < Math.min(trace.hours, i + 49); j++) rain += trace.rain[j]!;
    const cause: FalseAlarmCause =
      i > 0 && track.adviceAfter[i - 1] !== null
        ? 'renewal'
        : rain >= 5
          ? 'rain ≥ 5 mm within 48 h'
          : i > peakHour && trace.canopyCover[i]! < 0.9 * peakCanopy
            ? 'canopy past its peak'
            : budgetGap(trace, track, i) >= 0.3
              ? 'probe budget drier than the root zone'
              : closest >= 0.8
                ? 'came within 0.8 RAW'
                : 'other';
    score.falseAlarmCauses[cause]++;
  }
  const seen = new Set<number>();
  for (let i = FEATURE_WINDOW_HOURS; i < trace.hours; i++) {
    const held = track.adviceAfter[i];
    score.hours++;
    if (held && held.validUntil >= trace.startTs + (i + 1) * HOUR_MS) score.hoursInForce++;
    if (trace.truthDepletion[i]! < trace.truthRaw[i]!) continue;
    const endOfHour = trace.startTs + (i + 1) * HOUR_MS;
    const day = Math.floor((endOfHour - 1 + trace.tzOffsetMs) / DAY_MS);
    if (seen.has(day)) continue;
    seen.add(day);
    score.daysNeedingWater++;
    const advice = track.adviceAfter[i - 1];
    if (advice && advice.validUntil >= endOfHour - HOUR_MS) {
      score.daysAdvisedInTime++;
      score.leads.push((endOfHour - advice.issuedAt) / HOUR_MS);
    } else {
      let lapsed = false;
      for (let j = Math.max(0, i - 25); j < i - 1; j++) if (track.adviceAfter[j]) lapsed = true;
      const cause: MissCause = track.staleAt[i - 1]
        ? 'stale'
        : budgetGap(trace, track, i - 1) <= -0.2
          ? 'probe budget wetter than the root zone'
          : lapsed
            ? 'advice lapsed within 24 h before'
            : 'other';
      score.missCauses[cause]++;
    }
  }
  return score;
}

/** Sums of absolute errors against one truth (divide by `cases`), fractions of RAW. */
export interface ForecastSums {
  cases: number;
  /** Depletion 24 h ahead. */
  model: number;
  persistence: number;
  faoYesterday: number;
  /** The 24 h change of depletion. */
  changeModel: number;
  changePersistence: number;
  changeFaoYesterday: number;
}

/**
 * Against AquaCrop's root zone, each in its own budget: the level includes how well the probe
 * stands for the root zone, the change is the forecast's skill whatever the budget's bias (but
 * still the probe's layer's pace against the root zone's). `probe`: the same forecasts against
 * what they forecast, the probe's own reading 24 h later in the forecast's budget.
 */
export interface ForecastTruths extends ForecastSums {
  probe: ForecastSums;
}

/**
 * Rain over the 24 h ahead, by AquaCrop's record, at or above which a window counts as rainy, mm.
 * Under it the day ahead is dry for the water balance (a shower the canopy and topsoil take).
 */
export const RAIN_AHEAD_MM = 1;

/**
 * Every case against both truths, and the same cases split by the rain the record has over the
 * 24 h ahead: `dry` below {@link RAIN_AHEAD_MM}, `rain` at or above it. A predictor without a
 * weather forecast cannot know that rain; the baselines never do (they run on yesterday's weather).
 */
export interface ForecastError extends ForecastTruths {
  dry: ForecastTruths;
  rain: ForecastTruths;
}

const emptySums = (): ForecastSums => ({ cases: 0, model: 0, persistence: 0, faoYesterday: 0, changeModel: 0, changePersistence: 0, changeFaoYesterday: 0 });
const emptyTruths = (): ForecastTruths => ({ ...emptySums(), probe: emptySums() });

export function emptyForecastError(): ForecastError {
  return { ...emptyTruths(), dry: emptyTruths(), rain: emptyTruths() };
}

/** Adds one case's errors (or any sums) into `into`, in place. */
function accumulate(into: ForecastSums, x: ForecastSums): void {
  into.cases += x.cases;
  into.model += x.model;
  into.persistence += x.persistence;
  into.faoYesterday += x.faoYesterday;
  into.changeModel += x.changeModel;
  into.changePersistence += x.changePersistence;
  into.changeFaoYesterday += x.changeFaoYesterday;
}

/**
 * 24 h depletion forecasts where no irrigation falls in the next 24 h, against AquaCrop's root
 * zone and against the probe (`sensor`, the season's own series of the run that made `cases`).
 */
export function forecastError(trace: SeasonTrace, cases: readonly ForecastCase[], sensor: SensorSeries): ForecastError {
  const e = emptyForecastError();
  for (const c of cases) {
    const at = c.hour + 24;
    if (at >= trace.hours) continue;
    let irrigated = false;
    let rainAhead = 0;
    for (let j = c.hour + 1; j <= at; j++) {
      if (trace.irrigation[j]! > 0) irrigated = true;
      rainAhead += trace.rain[j]!;
    }
    if (irrigated || !(c.raw > 0) || !(c.faoRaw > 0)) continue;
    const window = rainAhead < RAIN_AHEAD_MM ? e.dry : e.rain;
    const truth = trace.truthDepletion[at]! / trace.truthRaw[at]!;
    const change = truth - trace.truthDepletion[c.hour]! / trace.truthRaw[c.hour]!;
    const from = c.persistence / c.raw;
    /** One case's errors against a truth (its level 24 h ahead and its change), FAO-56's forecast given in that truth's budget. */
    const against = (truth: number, change: number, faoLevel: number, faoChange: number): ForecastSums => ({
      cases: 1,
      model: Math.abs(c.model / c.raw - truth),
      persistence: Math.abs(from - truth),
      faoYesterday: Math.abs(faoLevel - truth),
      changeModel: Math.abs(c.model / c.raw - from - change),
      changePersistence: Math.abs(change),
      changeFaoYesterday: Math.abs(faoChange - change),
    });
    const root = against(truth, change, c.faoYesterday / c.faoRaw, (c.faoYesterday - c.faoNow) / c.faoRaw);
    accumulate(e, root);
    accumulate(window, root);

    // The probe's reading (the feature depletion_now_mm, the preset's budget) counted the way the
    // predictor counted it for this forecast: times the learnt capacity factor, clipped to its
    // TAW, as a fraction of the RAW the forecast used. So the truth is what the forecast forecasts.
    const inBudget = (probeMm: number) => Math.min(c.taw, Math.max(0, probeMm * c.tawFactor)) / c.raw;
    const probeAt = sensor.depletion[at]!;
    const probeNow = sensor.depletion[c.hour]!;
    if (!Number.isFinite(probeAt) || !Number.isFinite(probeNow) || !(c.tawFactor > 0)) continue;
    const probeTruth = inBudget(probeAt);
    const probeChange = probeTruth - inBudget(probeNow);
    // FAO-56 on yesterday's weather runs on the features, in the preset's budget: its forecast is
    // in the probe's mm, so it is counted into the forecast's budget exactly as the probe's reading
    // is (level: its forecast depletion through the same scaling and clip; change: its change in
    // mm times the capacity factor, over c.raw). The baseline learns nothing: without learning the
    // factor is 1 and c.raw the preset's RAW, so this is its change as a fraction of faoRaw.
    const faoChange = ((c.faoYesterday - c.faoNow) * c.tawFactor) / c.raw;
    // Persistence is the predictor's depletion now (the probe's, less recorded water it does not show yet).
    const probe = against(probeTruth, probeChange, inBudget(c.faoYesterday), faoChange);
    accumulate(e.probe, probe);
    accumulate(window.probe, probe);
  }
  return e;
}

function addSums(a: ForecastSums, b: ForecastSums): ForecastSums {
  const out = emptySums();
  accumulate(out, a);
  accumulate(out, b);
  return out;
}

const addTruths = (a: ForecastTruths, b: ForecastTruths): ForecastTruths => ({ ...addSums(a, b), probe: addSums(a.probe, b.probe) });

export function addForecastErrors(a: ForecastError, b: ForecastError): ForecastError {
  return { ...addTruths(a, b), dry: addTruths(a.dry, b.dry), rain: addTruths(a.rain, b.rain) };
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
