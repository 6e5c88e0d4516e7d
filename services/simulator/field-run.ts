import { computeHourlyEt0, cropCoefficient, readilyAvailableWater, soilMoistureFromDepletion, stepWaterBalance, totalAvailableWater } from '../agronomy/index.js';
import { CLIMATES } from './climates.js';
import type { FieldSpec } from './fields.js';
import { createRandom } from './random.js';
import { generateDailyWeather, generateHourlyWeather, type HourlyWeather } from './weather.js';

const HOUR_MS = 3_600_000;

/**
 * The ground truth of one field, hour by hour: the weather, FAO-56 hourly ET0 (Eq. 53), Kc,
 * the farmer's irrigation and the root-zone depletion from the FAO-56 balance (Eq. 85) stepped
 * hourly. Index i covers the hour that starts at `weather[i].ts`; `depletion[i]` is the state at
 * the end of that hour.
 */
export interface FieldRun {
  spec: FieldSpec;
  weather: HourlyWeather[];
  /** Reference ET of each hour, mm. */
  et0: Float64Array;
  /** Crop coefficient of each hour, –. */
  kc: Float64Array;
  /** Net irrigation applied in each hour, mm. */
  irrigation: Float64Array;
  /** Root-zone depletion at the end of each hour, mm. */
  depletion: Float64Array;
  /** Total and readily available water, mm. */
  taw: number;
  raw: number;
}

/** Simulate a field's season. Deterministic for a given spec (its seed drives every draw). */
export function simulateField(spec: FieldSpec): FieldRun {
  const climate = CLIMATES[spec.climate];
  const random = createRandom(spec.seed);
  const daily = generateDailyWeather(climate, spec.sowingDate, spec.days, random.fork('daily'));
  const weather = generateHourlyWeather(climate, daily, random.fork('hourly'));
  const farmer = random.fork('farmer');
  const n = weather.length;
  const et0 = new Float64Array(n);
  const kc = new Float64Array(n);
  const irrigation = new Float64Array(n);
  const depletion = new Float64Array(n);
  const taw = totalAvailableWater(spec.thetaFc, spec.thetaWp, spec.rootDepthM);
  const raw = readilyAvailableWater(taw, spec.p);
  let d = spec.initialDepletionFraction * taw;
  const start = weather[0]?.ts ?? 0;
  for (let i = 0; i < n; i++) {
    const w = weather[i]!;
    et0[i] = computeHourlyEt0({
      doy: w.doy,
      hour: w.hour,
      latitudeDeg: climate.latitudeDeg,
      longitudeDeg: climate.longitudeDeg,
      tzLongitudeDeg: climate.tzLongitudeDeg,
      elevationM: climate.elevationM,
      temperatureC: w.temperatureC,
      rhPct: w.rhPct,
      windSpeedMs: w.windMs,
      solarRadiationMj: w.solarRadiationMj,
    }).et0;
    kc[i] = cropCoefficient(spec.cropParams, (w.ts - start) / (24 * HOUR_MS));
    if (w.hour === spec.irrigation.hour && d >= spec.irrigation.triggerFraction * raw && !farmer.chance(spec.irrigation.skipProbability)) {
      irrigation[i] = d * spec.irrigation.refillFraction;
    }
    d = stepWaterBalance(d, { et0: et0[i]!, kc: kc[i]!, rain: w.rainMm, irrigation: irrigation[i]! }, taw, raw).depletionEnd;
    depletion[i] = d;
  }
  return { spec, weather, et0, kc, irrigation, depletion, taw, raw };
}

/**
 * Depletion `hours` after the end of hour `index` if nobody irrigates meanwhile: the question a
 * recommendation answers. Uses the true future weather, so it is the target the model learns.
 * @returns depletion, mm
 */
export function depletionAhead(run: FieldRun, index: number, hours: number): number {
  let d = run.depletion[index]!;
  const last = Math.min(run.weather.length - 1, index + hours);
  for (let i = index + 1; i <= last; i++) {
    d = stepWaterBalance(d, { et0: run.et0[i]!, kc: run.kc[i]!, rain: run.weather[i]!.rainMm }, run.taw, run.raw).depletionEnd;
  }
  return d;
}

/**
 * Hours after the end of hour `index` until the depletion, without irrigation, reaches RAW
 * (0 if it already has), looking at most `maxHours` ahead.
 * @returns hours, or null when RAW is not reached within `maxHours` (or the run ends first)
 */
export function hoursToRawAhead(run: FieldRun, index: number, maxHours: number): number | null {
  let d = run.depletion[index]!;
  if (d >= run.raw) return 0;
  const last = Math.min(run.weather.length - 1, index + maxHours);
  for (let i = index + 1; i <= last; i++) {
    const next = stepWaterBalance(d, { et0: run.et0[i]!, kc: run.kc[i]!, rain: run.weather[i]!.rainMm }, run.taw, run.raw).depletionEnd;
    // Interpolate within the hour so the answer is not quantised to whole hours.
    if (next >= run.raw) return i - index - 1 + (run.raw - d) / Math.max(1e-9, next - d);
    d = next;
  }
  return null;
}

/** True root-zone soil moisture at the end of hour `index`, m3/m3. */
export function trueSoilMoisture(run: FieldRun, index: number): number {
  return soilMoistureFromDepletion(run.spec.thetaFc, run.depletion[index]!, run.spec.rootDepthM);
}
