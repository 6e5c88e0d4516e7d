/**
 * The irrigation model's features: the one implementation, used to build the training set and
 * at prediction time. Anything that changes here changes the model's input: retrain after it.
 */
import {
  computeHourlyEt0,
  cropCoefficient,
  extraterrestrialRadiationPeriod,
  hargreavesEt0,
  readilyAvailableWater,
  rootDepthOn,
  stepWaterBalance,
  totalAvailableWater,
  waterStressCoefficient,
  type KcCurve,
} from '../agronomy/index.js';

/** What the model needs to know about a field besides its readings. */
export interface FieldProfile {
  /** Site, decimal degrees (east and north positive), m. */
  latitudeDeg: number;
  longitudeDeg: number;
  /** Central meridian of the local standard time zone, degrees east (e.g. 15 for CET). */
  tzLongitudeDeg: number;
  elevationM: number;
  /** Soil water retention, m3/m3. */
  thetaFc: number;
  thetaWp: number;
  /** Managed root-zone depth, m: the crop's maximum when `rootDepthMinM` is given. */
  rootDepthM: number;
  /**
   * Root depth over the initial stage, m. When given, the root zone grows from it to `rootDepthM`
   * over the development stage (`rootDepthOn`), and every feature uses the day's depth; without
   * it the depth is fixed.
   */
  rootDepthMinM?: number;
  /** Depletion fraction p, –. */
  p: number;
  /** Crop coefficient curve (FAO-56 single Kc by stage). */
  crop: KcCurve;
  /** Local date of sowing, YYYY-MM-DD. */
  sowingDate: string;
  /** Height of the anemometer, m. */
  windHeightM: number;
}

/** A reading as stored: time (epoch ms or ISO 8601) and canonical quantities (units of docs/ARCHITECTURE.md). */
export interface ObservedReading {
  ts: number | string;
  values: Readonly<Record<string, number | undefined>>;
}

/** Feature names in the order the model takes them, with units. */
export const FEATURES = [
  ['depletion_now_mm', 'mm', 'root-zone depletion from the recent soil moisture, (θFC − θ)·1000·Zr, not clipped'],
  ['depletion_smoothed_mm', 'mm', 'median of the last 24 h of readings carried forward to now by the FAO-56 balance, back to the last irrigation'],
  ['depletion_fraction_now', '1', 'depletion_smoothed_mm / TAW'],
  ['theta_now', 'm3/m3', 'mean soil moisture of the last 3 h (or the latest within 12 h)'],
  ['theta_trend_24h', 'm3/m3 per day', 'soil moisture now minus 24 h ago'],
  ['depletion_change_24h_mm', 'mm', 'change in depletion over the last 24 h'],
  ['et0_24h_mm', 'mm', 'reference ET0 summed over the last 24 h: the station\'s, else FAO-56 hourly Penman-Monteith (Eq. 53), else Hargreaves (Eq. 52)'],
  ['et0_72h_mm', 'mm', 'reference ET0 summed over the last 72 h (same sources)'],
  ['rain_24h_mm', 'mm', 'rainfall over the last 24 h'],
  ['rain_72h_mm', 'mm', 'rainfall over the last 72 h'],
  ['weather_coverage_72h', '1', 'fraction of the last 72 h with an ET0'],
  ['kc_now', '1', 'crop coefficient now'],
  ['kc_next_48h', '1', 'crop coefficient 48 h ahead'],
  ['etc_24h_mm', 'mm', 'kc_now · et0_24h_mm'],
  ['ks_now', '1', 'FAO-56 water stress coefficient at the smoothed depletion'],
  ['taw_mm', 'mm', 'total available water'],
  ['raw_mm', 'mm', 'readily available water'],
  ['p', '1', 'depletion fraction p'],
  ['root_depth_m', 'm', 'root-zone depth'],
  ['theta_fc', 'm3/m3', 'field capacity'],
  ['theta_wp', 'm3/m3', 'wilting point'],
  ['fao_depletion_24h_mm', 'mm', 'FAO-56 balance 24 h ahead from the smoothed depletion, last 24 h ET0 repeated, no rain'],
  ['fao_depletion_48h_mm', 'mm', 'same, 48 h ahead'],
  ['doy_sin', '1', 'sin(2π·day of year/365)'],
  ['doy_cos', '1', 'cos(2π·day of year/365)'],
  ['hour_sin', '1', 'sin(2π·local hour/24)'],
  ['hour_cos', '1', 'cos(2π·local hour/24)'],
  ['days_after_sowing', 'd', 'days since sowing'],
  ['forecast_available', '1', '1 when a forecast covers at least 18 of the next 24 h, else 0 (and the forecast features fall back to the past)'],
  ['forecast_rain_24h_mm', 'mm', 'rain the forecast expects over the next 24 h (amount × probability); 0 without a forecast'],
  ['forecast_et0_24h_mm', 'mm', 'reference ET0 the forecast expects over the next 24 h; et0_24h_mm when it has none'],
  ['forecast_depletion_24h_mm', 'mm', 'FAO-56 balance 24 h ahead from the smoothed depletion with the forecast ET0 and rain; fao_depletion_24h_mm without a forecast'],
  ['applied_water_24h_mm', 'mm', 'net irrigation recorded over the last 24 h (irrigation records; 0 when none)'],
] as const;

export type FeatureName = (typeof FEATURES)[number][0];
export const FEATURE_NAMES: readonly FeatureName[] = FEATURES.map((f) => f[0]);
export const FEATURE_COUNT = FEATURES.length;
const index = (name: FeatureName) => FEATURE_NAMES.indexOf(name);
/** Column indices the model's outputs are residuals on (see train.py). */
export const BASE_FEATURE_INDICES = [index('fao_depletion_24h_mm'), index('fao_depletion_48h_mm')] as const;

/** How much history the features look at, hours. */
export const FEATURE_WINDOW_HOURS = 72;

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const W_TO_MJ_PER_HOUR = 0.0036;

/**
 * Readings binned by hour: bin k holds the readings with start + k h < ts ≤ start + (k+1) h
 * (a reading describes the period that ends at its time stamp).
 */
export interface ObservationSeries {
  /** Start of bin 0, epoch ms. */
  startTs: number;
  hours: number;
  /** Mean soil moisture of the bin, m3/m3 (NaN when none). */
  theta: Float64Array;
  /**
   * ET0 of the bin, mm: the station's own (`et0` readings summed), else FAO-56 hourly
   * Penman-Monteith from complete weather; NaN otherwise (Hargreaves fills those hours from
   * `temperature` when features are computed, since it needs the day's temperature range).
   */
  et0: Float64Array;
  /** Rainfall of the bin, mm (0 when not reported). */
  rain: Float64Array;
  /** Mean air temperature of the bin, °C (NaN when none). Absent: no Hargreaves fill. */
  temperature?: Float64Array;
  /** What the bin's weather had: {@link Et0Inputs} bits. Absent: nothing known. */
  inputs?: Float64Array;
}

/** Bits of `ObservationSeries.inputs`: which ET0 inputs a bin had. */
export const Et0Inputs = {
  station: 1,
  air_temperature: 2,
  relative_humidity: 4,
  wind_speed: 8,
  solar_radiation: 16,
} as const;
const PENMAN_MONTEITH_INPUTS = Et0Inputs.air_temperature | Et0Inputs.relative_humidity | Et0Inputs.wind_speed | Et0Inputs.solar_radiation;

/** How the ET0 of the last 24 h was obtained: reported in the advice's provenance. */
export interface Et0Provenance {
  /** The method of most of the hours (`none` when no hour had an ET0). */
  method: 'station' | 'penman-monteith' | 'hargreaves' | 'none';
  /** Hours of the last 24 by method. */
  hours: { station: number; 'penman-monteith': number; hargreaves: number; none: number };
  /** Penman-Monteith inputs that were missing in hours that fell back to Hargreaves. */
  missing: string[];
}

function toMs(ts: number | string): number {
  return typeof ts === 'number' ? ts : Date.parse(ts);
}

/**
 * Bin readings into hours from `fromTs` (exclusive) to `toTs` (inclusive) and compute each
 * hour's ET0 from its weather. Both timestamps should sit on the hour.
 */
export function buildObservationSeries(
  profile: FieldProfile,
  readings: Iterable<ObservedReading>,
  fromTs: number,
  toTs: number,
): ObservationSeries {
  const hours = Math.max(0, Math.round((toTs - fromTs) / HOUR_MS));
  const sums = {
    theta: new Float64Array(hours), thetaN: new Uint16Array(hours),
    t: new Float64Array(hours), tN: new Uint16Array(hours),
    rh: new Float64Array(hours), rhN: new Uint16Array(hours),
    u: new Float64Array(hours), uN: new Uint16Array(hours),
    rs: new Float64Array(hours), rsN: new Uint16Array(hours),
    e0: new Float64Array(hours), e0N: new Uint16Array(hours),
  };
  const rain = new Float64Array(hours);
  for (const r of readings) {
    const ts = toMs(r.ts);
    const k = Math.ceil((ts - fromTs) / HOUR_MS) - 1;
    if (!(k >= 0 && k < hours)) continue;
    const v = r.values;
    const add = (x: number | undefined, s: Float64Array, c: Uint16Array) => {
      if (x !== undefined && Number.isFinite(x)) {
        s[k]! += x;
        c[k]! += 1;
      }
    };
    add(v.soil_moisture, sums.theta, sums.thetaN);
    add(v.air_temperature, sums.t, sums.tN);
    add(v.relative_humidity, sums.rh, sums.rhN);
    add(v.wind_speed, sums.u, sums.uN);
    add(v.solar_radiation, sums.rs, sums.rsN);
    add(v.et0, sums.e0, sums.e0N);
    if (v.rainfall !== undefined && Number.isFinite(v.rainfall)) rain[k]! += v.rainfall;
  }
  const theta = new Float64Array(hours);
  const et0 = new Float64Array(hours);
  const temperature = new Float64Array(hours);
  const inputs = new Float64Array(hours);
  const tzOffsetMs = (profile.tzLongitudeDeg / 15) * HOUR_MS;
  for (let k = 0; k < hours; k++) {
    theta[k] = sums.thetaN[k]! > 0 ? sums.theta[k]! / sums.thetaN[k]! : Number.NaN;
    temperature[k] = sums.tN[k]! > 0 ? sums.t[k]! / sums.tN[k]! : Number.NaN;
    inputs[k] =
      (sums.e0N[k]! ? Et0Inputs.station : 0) |
      (sums.tN[k]! ? Et0Inputs.air_temperature : 0) |
      (sums.rhN[k]! ? Et0Inputs.relative_humidity : 0) |
      (sums.uN[k]! ? Et0Inputs.wind_speed : 0) |
      (sums.rsN[k]! ? Et0Inputs.solar_radiation : 0);
    if (sums.e0N[k]!) {
      // A station that reports its own ET0 knows its sensors and site better than we do.
      et0[k] = sums.e0[k]!;
    } else if (sums.tN[k]! && sums.rhN[k]! && sums.uN[k]! && sums.rsN[k]!) {
      const local = new Date(fromTs + k * HOUR_MS + tzOffsetMs);
      et0[k] = computeHourlyEt0({
        doy: dayOfYearUtc(local),
        hour: local.getUTCHours(),
        latitudeDeg: profile.latitudeDeg,
        longitudeDeg: profile.longitudeDeg,
        tzLongitudeDeg: profile.tzLongitudeDeg,
        elevationM: profile.elevationM,
        temperatureC: sums.t[k]! / sums.tN[k]!,
        rhPct: Math.min(100, Math.max(0, sums.rh[k]! / sums.rhN[k]!)),
        windSpeedMs: sums.u[k]! / sums.uN[k]!,
        windHeightM: profile.windHeightM,
        solarRadiationMj: (sums.rs[k]! / sums.rsN[k]!) * W_TO_MJ_PER_HOUR,
      }).et0;
    } else {
      et0[k] = Number.NaN;
    }
  }
  return { startTs: fromTs, hours, theta, et0, rain, temperature, inputs };
}

/** Hours of temperature a Hargreaves day needs before its range means anything. */
const HARGREAVES_MIN_HOURS = 12;

/**
 * The series' ET0 with the hours that have only air temperature filled by Hargreaves (FAO-56
 * Eq. 52): Tmean, Tmax and Tmin of the 24 hourly means up to that hour (the first day's for the
 * window's first hours), with that hour's
 * extraterrestrial radiation (Eq. 28). Also what each of the last 24 h used, for provenance.
 */
function et0WithFallback(profile: FieldProfile, series: ObservationSeries, end: number): { et0: Float64Array; provenance: Et0Provenance } {
  const et0 = Float64Array.from(series.et0);
  const { temperature, inputs } = series;
  const fromStation = inputs ? spreadStationEt0(et0, inputs, Math.max(0, end - FEATURE_WINDOW_HOURS), end) : undefined;
  const hours = { station: 0, 'penman-monteith': 0, hargreaves: 0, none: 0 };
  let missingBits = 0;
  const tzOffsetMs = (profile.tzLongitudeDeg / 15) * HOUR_MS;
  for (let k = 0; k < end; k++) {
    if (temperature && !Number.isFinite(et0[k]!) && Number.isFinite(temperature[k]!)) {
      let n = 0;
      let sum = 0;
      let max = Number.NEGATIVE_INFINITY;
      let min = Number.POSITIVE_INFINITY;
      // The 24 h up to this hour; the window's first hours borrow its first day (still before `end`).
      const from = Math.max(0, k - 23);
      for (let j = from, to = Math.min(end - 1, Math.max(k, from + 23)); j <= to; j++) {
        const t = temperature[j]!;
        if (!Number.isFinite(t)) continue;
        n++;
        sum += t;
        max = Math.max(max, t);
        min = Math.min(min, t);
      }
      if (n >= HARGREAVES_MIN_HOURS) {
        const local = new Date(series.startTs + k * HOUR_MS + tzOffsetMs);
        const ra = extraterrestrialRadiationPeriod(profile.latitudeDeg, profile.longitudeDeg, profile.tzLongitudeDeg, dayOfYearUtc(local), local.getUTCHours(), 1);
        et0[k] = hargreavesEt0(sum / n, max, min, ra);
      }
    }
    if (k < end - 24) continue;
    const bits = inputs?.[k] ?? 0;
    if (!Number.isFinite(et0[k]!)) hours.none++;
    else if (bits & Et0Inputs.station || fromStation?.[k]) hours.station++;
    else if ((bits & PENMAN_MONTEITH_INPUTS) === PENMAN_MONTEITH_INPUTS || !inputs) hours['penman-monteith']++;
    else {
      hours.hargreaves++;
      missingBits |= PENMAN_MONTEITH_INPUTS & ~bits;
    }
  }
  const missing = Object.entries(Et0Inputs).filter(([, bit]) => missingBits & bit).map(([name]) => name);
  return { et0, provenance: { method: mostUsed(hours), hours, missing } };
}

/** The longest period a station's `et0` report is taken to cover: a day, the longest stations use. */
const MAX_ET0_PERIOD_HOURS = 24;

/**
 * How many hours a station's `et0` report covers: the median of the hours between its reports
 * (hours numbered consecutively, oldest first), so a lost report among several does not change
 * it, and at most a day, so a daily station's lost report (two reports left in three days, 48 h
 * apart) does not spread the next one over two days. 1 with fewer than two reports.
 */
export function stationEt0PeriodHours(reportHours: readonly number[]): number {
  if (reportHours.length < 2) return 1;
  const gaps = reportHours.slice(1).map((k, i) => k - reportHours[i]!).sort((a, b) => a - b);
  return Math.min(MAX_ET0_PERIOD_HOURS, gaps[(gaps.length - 1) >> 1]!);
}

/**
 * A station's `et0` is the mm since its previous report, which a station reporting every 6 h or
 * once a day gives as one total: counted in the hour it arrives, a day's ET0 fell into one hour
 * and the hours it covered were unknown (or estimated again from temperature). The station's
 * period is read from its reports in the window ({@link stationEt0PeriodHours}); each report is
 * spread evenly over the hours of its period before it (never back past the report before; the
 * part of the first one's period before the window is left out, not squeezed in), and the hours
 * after the newest one that have no ET0 of their own, which its next report will cover, take its
 * rate until then. With hourly
 * reports (or a single one in the window) nothing changes: each is its own hour's. Writes `et0`
 * in place for bins [from, end); returns which bins now hold the station's ET0 (undefined: none).
 */
function spreadStationEt0(et0: Float64Array, inputs: Float64Array, from: number, end: number): Uint8Array | undefined {
  const reports: number[] = [];
  for (let k = from; k < end; k++) if (inputs[k]! & Et0Inputs.station) reports.push(k);
  // An hourly station with no report missing (the usual case, every field every round): nothing to spread.
  if (reports.length < 2 || reports.at(-1)! - reports[0]! === reports.length - 1) return undefined;
  const period = stationEt0PeriodHours(reports);
  if (period <= 1) return undefined;
  const covered = new Uint8Array(end);
  let previous: number | undefined;
  let rate = 0;
  for (const k of reports) {
    // The first report in the window covers its whole period, part of it before the window.
    const span = previous === undefined ? period : Math.min(period, k - previous);
    rate = et0[k]! / span;
    for (let j = Math.max(from, k - span + 1); j <= k; j++) {
      et0[j] = rate;
      covered[j] = 1;
    }
    previous = k;
  }
  if (previous === undefined) return undefined;
  // Hours with an ET0 of their own (Penman-Monteith from complete weather) keep it.
  for (let j = previous + 1; j < Math.min(end, previous + period); j++) {
    if (Number.isFinite(et0[j]!)) continue;
    et0[j] = rate;
    covered[j] = 1;
  }
  return covered;
}

/** The method of most hours among those that had an ET0 (ties: the better method). */
function mostUsed(hours: Et0Provenance['hours']): Et0Provenance['method'] {
  let best: Et0Provenance['method'] = 'none';
  for (const m of ['station', 'penman-monteith', 'hargreaves'] as const) if (hours[m] > 0 && (best === 'none' || hours[m] > hours[best])) best = m;
  return best;
}

function dayOfYearUtc(d: Date): number {
  return Math.floor((d.getTime() - Date.UTC(d.getUTCFullYear(), 0, 1)) / DAY_MS) + 1;
}

/** Sum and count of the finite values of `a` in bins [from, to): gaps are NaN. */
function finiteSum(a: Float64Array, from: number, to: number): { sum: number; n: number } {
  let sum = 0;
  let n = 0;
  for (let k = Math.max(0, from); k < Math.min(a.length, to); k++) {
    const x = a[k]!;
    if (Number.isFinite(x)) {
      sum += x;
      n++;
    }
  }
  return { sum, n };
}

/** Mean of the finite values of `a` in bins [from, to). */
function meanOf(a: Float64Array, from: number, to: number): number {
  const { sum, n } = finiteSum(a, from, to);
  return n > 0 ? sum / n : Number.NaN;
}

/** Sum of ET0 over bins [from, to), scaled up for missing hours; also the coverage (0–1). */
function et0Sum(a: Float64Array, from: number, to: number): { sum: number; coverage: number } {
  const { sum, n } = finiteSum(a, from, to);
  const total = to - from;
  // Missing hours are spread evenly over day and night, so scaling the mean is unbiased enough.
  return { sum: n > 0 ? (sum * total) / n : 0, coverage: n / total };
}

function sumOf(a: Float64Array, from: number, to: number): number {
  let s = 0;
  for (let k = Math.max(0, from); k < Math.min(a.length, to); k++) s += a[k]!;
  return s;
}

/** Hours of readings the smoothed depletion looks back over. */
const SMOOTHING_HOURS = 24;
/**
 * A carried-forward reading this much wetter than the newer ones means water came in that no
 * quantity reports (irrigation): readings before it describe another state, mm.
 */
const JUMP_MM = 6;

/**
 * A less noisy estimate of the depletion now. Each hourly soil moisture of the last 24 h is
 * carried forward to now with the FAO-56 balance (ETc − rain of the hours since), newest first;
 * the walk stops at the first reading that is more than 6 mm drier than the newer ones' mean,
 * because an irrigation in between (which the readings show but nothing reports) makes older
 * readings useless. The median of the kept estimates damps the probe's noise about threefold.
 */
function smoothedDepletion(series: ObservationSeries, end: number, profile: FieldProfile, kc: number, fallback: number, taw: number, raw: number): number {
  const estimates: number[] = [];
  let sum = 0;
  let after = 0; // ETc − rain from the end of bin k to now, mm
  for (let k = end - 1; k >= end - SMOOTHING_HOURS && k >= 0; k--) {
    const theta = series.theta[k]!;
    if (Number.isFinite(theta)) {
      // Never below field capacity: rain beyond it drains below the roots (FAO-56 Eq. 88), and a
      // reading carried forward through a downpour says the root zone is full, not fuller.
      const estimate = Math.max(0, 1000 * (profile.thetaFc - theta) * profile.rootDepthM + after);
      if (estimates.length > 0 && estimate - sum / estimates.length > JUMP_MM) break;
      estimates.push(estimate);
      sum += estimate;
    }
    const et0 = series.et0[k]!;
    const current = estimates.length > 0 ? sum / estimates.length : fallback;
    const ks = waterStressCoefficient(Math.min(taw, Math.max(0, current)), taw, raw);
    after += kc * ks * (Number.isFinite(et0) ? et0 : 0) - series.rain[k]!;
  }
  if (estimates.length === 0) return fallback;
  estimates.sort((a, b) => a - b);
  const mid = estimates.length >> 1;
  return estimates.length % 2 ? estimates[mid]! : (estimates[mid - 1]! + estimates[mid]!) / 2;
}

/**
 * One forecast hour as the features read it (the shape of the forecasts' own hours): stamped with
 * the end of the hour it describes, amounts optional.
 */
export interface ForecastHourInput {
  ts: number;
  rainMm?: number;
  /** Probability of the rain, 0–1 (absent: certain). */
  rainProbability?: number;
  et0Mm?: number;
}

/** One recorded irrigation as the features read it: net depth over [startTs, endTs]. */
export interface AppliedWaterInput {
  startTs: number;
  endTs: number;
  depthMm: number;
}

/**
 * What is known of a field besides its readings: the weather ahead and the water people recorded.
 * Either may be absent; the features then take the values the model was trained with for "none".
 */
export interface FeatureContext {
  /** Forecast hours (any span: those ending within 24 h after the prediction time are used). */
  forecast?: readonly ForecastHourInput[];
  /** Recorded irrigations (those overlapping the 24 h before the prediction time are used). */
  applied?: readonly AppliedWaterInput[];
}

/** Hours of the next 24 a forecast must cover before the model is told there is one. */
const FORECAST_MIN_HOURS = 18;

/**
 * The forecast's rain over the 24 h after `atTs` as it lists it, and its ET0 scaled up for the
 * hours it does not list; null when too few hours say how much rain (an hour without a rain amount is not "no rain": a
 * forecast of temperatures alone is no rain forecast). ET0 is NaN when too few hours carry it.
 */
function forecastNext24h(hours: readonly ForecastHourInput[] | undefined, atTs: number): { rain: number; et0: number } | null {
  if (!hours) return null;
  let rainN = 0;
  let rain = 0;
  let et0N = 0;
  let et0 = 0;
  for (const h of hours) {
    if (!(h.ts > atTs && h.ts <= atTs + 24 * HOUR_MS)) continue;
    if (h.rainMm !== undefined && Number.isFinite(h.rainMm)) {
      rain += h.rainMm * (h.rainProbability ?? 1);
      rainN++;
    }
    if (h.et0Mm !== undefined && Number.isFinite(h.et0Mm)) {
      et0 += h.et0Mm;
      et0N++;
    }
  }
  if (rainN < FORECAST_MIN_HOURS) return null;
  // Rain is what the forecast says, no more: an hour it does not list is no rain it expects (scaled
  // up, one storm hour of a short forecast became a third more rain than the hold rule counts).
  // ET0 follows the sun hour by hour with no storms: its unlisted hours take the listed ones' mean,
  // as observed ET0 does (et0Sum).
  return { rain, et0: et0N >= FORECAST_MIN_HOURS ? (et0 * 24) / et0N : Number.NaN };
}

/** Net water recorded over the 24 h up to `atTs`, mm: a record that straddles the window counts in proportion. */
function appliedLast24h(records: readonly AppliedWaterInput[] | undefined, atTs: number): number {
  let mm = 0;
  const from = atTs - 24 * HOUR_MS;
  for (const r of records ?? []) {
    const span = Math.max(0, r.endTs - r.startTs);
    const overlap = Math.min(r.endTs, atTs) - Math.max(r.startTs, from);
    if (span === 0) mm += r.endTs > from && r.endTs <= atTs ? r.depthMm : 0;
    else if (overlap > 0) mm += (r.depthMm * overlap) / span;
  }
  return mm;
}

/** Why features could not be computed. */
export type FeatureGap = 'no-recent-soil-moisture' | 'short-history' | 'et0-unknown';

/**
 * Most of the last 24 h that may have no ET0 (no station value, no weather to compute one) for
 * the field to be evaluated. Such hours count as no evapotranspiration: with fewer than six hours
 * of the day known (a weather sensor installed today, or back after most of a day away), the
 * forecast would see a drying field stand still and call RAW out of reach. A few unknown hours
 * (an outage of a morning) cost less than no advice: on the simulated seasons, refusing fields
 * with more than 6 or 12 such hours missed 8 and 2 more days needing water.
 */
export const MAX_ET0_UNKNOWN_HOURS = 18;

/**
 * The feature vector of a field at time `atTs` (on the hour), from a series that covers at
 * least the 72 h before it. Returns a gap reason instead when the soil moisture is stale.
 */
export function computeFeatures(
  fieldProfile: FieldProfile,
  series: ObservationSeries,
  atTs: number,
  context: FeatureContext = {},
): { features: Float64Array; et0: Et0Provenance } | { gap: FeatureGap } {
  const profile = profileOnDay(fieldProfile, atTs);
  const end = Math.round((atTs - series.startTs) / HOUR_MS); // bins [0, end) are in the past
  if (end < FEATURE_WINDOW_HOURS || end > series.hours) return { gap: 'short-history' };
  let thetaNow = meanOf(series.theta, end - 3, end);
  if (!Number.isFinite(thetaNow)) {
    for (let k = end - 4; k >= end - 12 && !Number.isFinite(thetaNow); k--) thetaNow = series.theta[k]!;
  }
  if (!Number.isFinite(thetaNow)) return { gap: 'no-recent-soil-moisture' };
  let thetaBefore = meanOf(series.theta, end - 27, end - 21);
  if (!Number.isFinite(thetaBefore)) thetaBefore = thetaNow;

  const taw = totalAvailableWater(profile.thetaFc, profile.thetaWp, profile.rootDepthM);
  const raw = readilyAvailableWater(taw, profile.p);
  const depletionNow = 1000 * (profile.thetaFc - thetaNow) * profile.rootDepthM;
  const { et0, provenance } = et0WithFallback(profile, series, end);
  if (provenance.hours.none > MAX_ET0_UNKNOWN_HOURS) return { gap: 'et0-unknown' };
  const et24 = et0Sum(et0, end - 24, end);
  const et72 = et0Sum(et0, end - 72, end);
  const das = daysAfterSowing(profile, atTs);
  const kcNow = cropCoefficient(profile.crop, das);
  const kcNext = cropCoefficient(profile.crop, das + 2);
  const smoothed = smoothedDepletion({ ...series, et0 }, end, profile, kcNow, depletionNow, taw, raw);
  const clipped = Math.min(taw, Math.max(0, smoothed));
  // The physics prior: FAO-56 balance forward with the last day's ET0 and no rain.
  const d24 = stepWaterBalance(clipped, { et0: et24.sum, kc: cropCoefficient(profile.crop, das + 0.5) }, taw, raw).depletionEnd;
  const d48 = stepWaterBalance(d24, { et0: et24.sum, kc: cropCoefficient(profile.crop, das + 1.5) }, taw, raw).depletionEnd;
  // The weather ahead when a forecast covers it; without one, the past day stands in (as in the prior).
  const ahead = forecastNext24h(context.forecast, atTs);
  const aheadEt0 = ahead && Number.isFinite(ahead.et0) ? ahead.et0 : et24.sum;
  const aheadRain = ahead ? ahead.rain : 0;
  const dAhead = ahead
    ? stepWaterBalance(clipped, { et0: aheadEt0, kc: cropCoefficient(profile.crop, das + 0.5), rain: aheadRain }, taw, raw).depletionEnd
    : d24;
  const local = new Date(atTs + (profile.tzLongitudeDeg / 15) * HOUR_MS);
  const doy = dayOfYearUtc(local);
  const hour = local.getUTCHours() + local.getUTCMinutes() / 60;

  const f = new Float64Array(FEATURE_COUNT);
  let i = 0;
  f[i++] = depletionNow;
  f[i++] = smoothed;
  f[i++] = smoothed / taw;
  f[i++] = thetaNow;
  f[i++] = thetaNow - thetaBefore;
  f[i++] = -1000 * (thetaNow - thetaBefore) * profile.rootDepthM;
  f[i++] = et24.sum;
  f[i++] = et72.sum;
  f[i++] = sumOf(series.rain, end - 24, end);
  f[i++] = sumOf(series.rain, end - 72, end);
  f[i++] = et72.coverage;
  f[i++] = kcNow;
  f[i++] = kcNext;
  f[i++] = kcNow * et24.sum;
  f[i++] = waterStressCoefficient(clipped, taw, raw);
  f[i++] = taw;
  f[i++] = raw;
  f[i++] = profile.p;
  f[i++] = profile.rootDepthM;
  f[i++] = profile.thetaFc;
  f[i++] = profile.thetaWp;
  f[i++] = d24;
  f[i++] = d48;
  f[i++] = Math.sin((2 * Math.PI * doy) / 365);
  f[i++] = Math.cos((2 * Math.PI * doy) / 365);
  f[i++] = Math.sin((2 * Math.PI * hour) / 24);
  f[i++] = Math.cos((2 * Math.PI * hour) / 24);
  f[i++] = das;
  f[i++] = ahead ? 1 : 0;
  f[i++] = aheadRain;
  f[i++] = aheadEt0;
  f[i++] = dAhead;
  f[i++] = appliedLast24h(context.applied, atTs);
  return { features: f, et0: provenance };
}

/** Days since sowing at `atTs` (local midnight of the sowing date is day 0). */
export function daysAfterSowing(profile: Pick<FieldProfile, 'sowingDate' | 'tzLongitudeDeg'>, atTs: number): number {
  const sowingMs = Date.parse(`${profile.sowingDate}T00:00:00Z`) - (profile.tzLongitudeDeg / 15) * HOUR_MS;
  return (atTs - sowingMs) / DAY_MS;
}

/** The profile with the root depth of the day at `atTs` (unchanged when the depth is fixed). */
export function profileOnDay(profile: FieldProfile, atTs: number): FieldProfile {
  if (profile.rootDepthMinM === undefined) return profile;
  return { ...profile, rootDepthM: rootDepthOn(profile.crop.stageDays, profile.rootDepthMinM, profile.rootDepthM, daysAfterSowing(profile, atTs)) };
}

/**
 * Features straight from a field's recent readings (what the predictor calls). `atTs` is rounded
 * down to the hour so the bins line up with the training set's.
 */
export function featuresFromReadings(
  profile: FieldProfile,
  readings: Iterable<ObservedReading>,
  atTs: number,
  context: FeatureContext = {},
): { features: Float64Array; et0: Et0Provenance } | { gap: FeatureGap } {
  const end = Math.floor(atTs / HOUR_MS) * HOUR_MS;
  const series = buildObservationSeries(profile, readings, end - FEATURE_WINDOW_HOURS * HOUR_MS, end);
  return computeFeatures(profile, series, end, context);
}
