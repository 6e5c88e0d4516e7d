/**
 * Scoring of depletion forecasts against the FAO-56 ground truth, and the two baselines every
 * model must beat: persistence and the FAO-56 balance driven by yesterday's weather.
 */
import { stepWaterBalance } from '../agronomy/index.js';
import { FEATURE_NAMES, type FeatureName } from '../model/features.js';

const col = (name: FeatureName) => FEATURE_NAMES.indexOf(name);
const I = {
  now: col('depletion_smoothed_mm'),
  taw: col('taw_mm'),
  raw: col('raw_mm'),
  et0: col('et0_24h_mm'),
  rain: col('rain_24h_mm'),
  kc: col('kc_now'),
  kcNext: col('kc_next_48h'),
};

/** A forecast of depletion 24 h and 48 h ahead, mm. */
export interface DepletionForecast {
  d24: number;
  d48: number;
}

function clip(x: number, taw: number): number {
  return Math.min(taw, Math.max(0, x));
}

/** "Tomorrow = today": the current (smoothed) depletion, unchanged. */
export function persistenceForecast(features: ArrayLike<number>): DepletionForecast {
  const now = clip(features[I.now]!, features[I.taw]!);
  return { d24: now, d48: now };
}

/**
 * The FAO-56 balance (Eq. 85) from the current depletion, with yesterday's ET0 and rain assumed
 * to repeat on each of the next two days.
 */
export function faoYesterdayForecast(features: ArrayLike<number>): DepletionForecast {
  const taw = features[I.taw]!;
  const raw = features[I.raw]!;
  const day = { et0: features[I.et0]!, rain: features[I.rain]! };
  const d24 = stepWaterBalance(clip(features[I.now]!, taw), { ...day, kc: features[I.kc]! }, taw, raw).depletionEnd;
  const d48 = stepWaterBalance(d24, { ...day, kc: (features[I.kc]! + features[I.kcNext]!) / 2 }, taw, raw).depletionEnd;
  return { d24, d48 };
}

/** One scored case: forecast, truth and the field's RAW. */
export interface ScoredCase {
  forecast: DepletionForecast;
  truth: DepletionForecast;
  raw: number;
}

export interface ForecastScore {
  cases: number;
  /** Mean absolute error of depletion, mm. */
  mae24hMm: number;
  mae48hMm: number;
  /** Share of cases where "depletion 24 h ahead ≥ RAW" agrees with the ground truth, 0–1. */
  decisionAgreement: number;
  /** Cases where the truth says irrigate and the forecast does not / the reverse. */
  missedIrrigations: number;
  falseAlarms: number;
}

export function scoreForecasts(cases: readonly ScoredCase[]): ForecastScore {
  let e24 = 0;
  let e48 = 0;
  let agree = 0;
  let missed = 0;
  let falseAlarms = 0;
  for (const c of cases) {
    e24 += Math.abs(c.forecast.d24 - c.truth.d24);
    e48 += Math.abs(c.forecast.d48 - c.truth.d48);
    const predicted = c.forecast.d24 >= c.raw;
    const actual = c.truth.d24 >= c.raw;
    if (predicted === actual) agree++;
    else if (actual) missed++;
    else falseAlarms++;
  }
  const n = Math.max(1, cases.length);
  return {
    cases: cases.length,
    mae24hMm: e24 / n,
    mae48hMm: e48 / n,
    decisionAgreement: agree / n,
    missedIrrigations: missed,
    falseAlarms,
  };
}

export interface HoursToRawScore {
  /** Cases whose true depletion reaches RAW between 0 and 48 h ahead (exclusive of 0). */
  cases: number;
  /** Mean absolute error of the hours until RAW; a forecast that never reaches RAW counts as 96 h. */
  maeHours: number;
  /** Share of those cases forecast within ±6 h, 0–1. */
  within6Hours: number;
}

/** Hours-to-RAW accuracy where it matters: fields that will need water within two days. */
export function scoreHoursToRaw(cases: readonly { predicted: number | null; truth: number | null }[]): HoursToRawScore {
  let n = 0;
  let err = 0;
  let close = 0;
  for (const c of cases) {
    if (c.truth === null || c.truth <= 0 || c.truth > 48) continue;
    const e = Math.abs(Math.min(96, c.predicted ?? 96) - c.truth);
    n++;
    err += e;
    if (e <= 6) close++;
  }
  return { cases: n, maeHours: err / Math.max(1, n), within6Hours: close / Math.max(1, n) };
}
