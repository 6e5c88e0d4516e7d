/**
 * An AquaCrop season as a field's hourly sensor readings, recorded irrigations, and the hourly
 * truth the advice is scored against. AquaCrop works in days; how each day is spread over its
 * hours is fixed here and documented in models/aquacrop/README.md:
 *
 * - Water leaves the soil in daylight: a day's drying follows a half sine from 06:00 to 18:00
 *   local standard time (the same weights spread the climate file's ET0 and radiation).
 * - Rain falls in equal parts from 15:00 to 19:00, irrigation from 06:00 to 09:00; the day's
 *   infiltration is shared between them in proportion.
 * - Per day, a quantity's change is "out" (drying, on the daylight weights) minus "in" (water,
 *   on the water's hours), with "in" the day's infiltration: hourly values end each day exactly
 *   on AquaCrop's value.
 */
import { extraterrestrialRadiationDaily, saturationVapourPressure } from '../../agronomy/index.js';
import type { AppliedWater } from '../../predictor/applied-water.js';
import type { FieldSettings } from '../../predictor/field-profiles.js';
import { getCrop } from '../../agronomy/index.js';
import type { AquaDay, AquaSeason } from './seasons.js';

const HOUR_MS = 3_600_000;
const MJ_PER_HOUR_TO_W = 1 / 0.0036;
/** FAO-56 default where wind is not measured (Section "Missing wind speed data"), m/s at 2 m. */
export const DEFAULT_WIND_MS = 2;
/** Hargreaves' radiation coefficient kRs (FAO-56 Eq. 50): interior 0.16, coastal 0.19. */
const COASTAL_SITES = new Set(['tunis']);

function normalise(w: number[]): number[] {
  const sum = w.reduce((a, b) => a + b, 0);
  return w.map((x) => (sum > 0 ? x / sum : 0));
}
/** Weights of the 24 hours (hour h runs from h:00 to h+1:00 local). */
export const DAYLIGHT_WEIGHTS = normalise(Array.from({ length: 24 }, (_, h) => (h >= 6 && h < 18 ? Math.sin((Math.PI * (h + 0.5 - 6)) / 12) : 0)));
export const RAIN_WEIGHTS = normalise(Array.from({ length: 24 }, (_, h) => (h >= 15 && h < 19 ? 1 : 0)));
export const IRRIGATION_WEIGHTS = normalise(Array.from({ length: 24 }, (_, h) => (h >= 6 && h < 9 ? 1 : 0)));
const IRRIGATION_HOURS = { from: 6, to: 9 };

/**
 * The 24 end-of-hour values of a depletion-like quantity (positive = drier, mm) that goes from
 * `x0` to `x1` over the day with `inMm` of water entering on `inWeights`.
 */
export function spreadDay(x0: number, x1: number, inMm: number, inWeights: readonly number[]): number[] {
  let water = inMm;
  let out = x1 - x0 + water;
  // More came off than entered and dried together: the water only made up the difference.
  if (water > 0 && out < 0) {
    water = x0 - x1;
    out = 0;
  }
  const values: number[] = [];
  let x = x0;
  for (let h = 0; h < 24; h++) {
    x += out * DAYLIGHT_WEIGHTS[h]! - water * inWeights[h]!;
    values.push(x);
  }
  values[23] = x1;
  return values;
}

/** Where the day's infiltration went in: rain's hours and irrigation's, in proportion. */
function waterWeights(day: AquaDay): number[] {
  const total = day.rain + day.irrigation;
  if (total <= 0) return RAIN_WEIGHTS;
  return RAIN_WEIGHTS.map((r, h) => (r * day.rain + IRRIGATION_WEIGHTS[h]! * day.irrigation) / total);
}

export interface SeasonTrace {
  /** Start of hour 0: local midnight of the sowing day, epoch ms. */
  startTs: number;
  hours: number;
  tzOffsetMs: number;
  /** The field as fieldhook is told about it. */
  settings: FieldSettings;
  /** Depth the soil moisture probe averages over, m (the managed root depth the field is registered with). */
  probeDepthM: number;
  /** Hourly readings, one at the end of each hour. */
  readings: { ts: number; values: Record<string, number> }[];
  /** Irrigations as recorded by the farmer (AquaCrop's schedule). */
  irrigations: AppliedWater[];
  /** AquaCrop's root-zone depletion and RAW (p · TAW) at the end of each hour, mm. */
  truthDepletion: Float64Array;
  truthRaw: Float64Array;
  /** Rain and irrigation of each hour, mm; AquaCrop's canopy cover and root depth of the hour's day. */
  rain: Float64Array;
  irrigation: Float64Array;
  canopyCover: Float64Array;
  zRoot: Float64Array;
}

/** Mean water content of the compartments down to `depthM` (a profile probe over the managed root zone). */
function probeMean(season: AquaSeason, depthM: number, theta: readonly number[]): number {
  let sum = 0;
  let top = 0;
  for (let c = 0; c < season.soil.dz.length && top < depthM; c++) {
    const dz = season.soil.dz[c]!;
    const part = Math.min(dz, depthM - top);
    sum += part * theta[c]!;
    top += dz;
  }
  return sum / depthM;
}

/** How the field is registered and where its probe reaches. */
export interface TraceOptions {
  /**
   * `preset` (default): the crop preset's root depths, the probe averaging the preset's managed
   * depth. `aquacrop`: the field registered with AquaCrop's crop's root depths (the season's first
   * and deepest `z_root` as `rootDepthMinM` and `rootDepthM`), the probe averaging that deepest
   * root zone, as someone who knows how deep the roots go would install it.
   */
  rootDepth: 'preset' | 'aquacrop';
  /**
   * `managed-depth` (default): the probe averages the registered managed root depth all season,
   * as one profile probe installed to that depth reads. `root-zone`: it averages the depth
   * AquaCrop's roots reach that day (a profile probe whose sensors are averaged down to the roots
   * only): the root zone's own water content, growing with the roots.
   */
  probe: 'managed-depth' | 'root-zone';
  /**
   * `preset` (default): the crop preset's stage lengths carry the root growth and Kc through the
   * season. `aquacrop`: the field also carries the stage lengths of the season's own crop
   * ({@link stageDaysOfSeason}), as an agronomist who knows the variety would give them.
   */
  stages: 'preset' | 'aquacrop';
}

/**
 * The four FAO-56 stage lengths of an AquaCrop season, days, read from its root and canopy
 * traces (`days[i]` is the state at the end of day i + 1 after sowing):
 *
 * - initial: sowing until the roots start to grow (emergence): fieldhook holds the root depth at
 *   its minimum over the initial stage, and AquaCrop's roots grow from emergence on;
 * - development: until the roots reach their deepest, which fieldhook reaches at this stage's end;
 * - mid-season: until the canopy, past its peak, falls below 98 % of it (senescence starts);
 * - late season: the rest of the season, to the last day (maturity or harvest).
 *
 * One calendar drives both root growth and Kc in fieldhook, so with development ending at full
 * root depth Kc reaches Kc mid when the roots are deepest, later than AquaCrop's canopy reaches
 * its peak (the roots' depth is what sets the budget). Each stage lasts at least a day.
 */
export function stageDaysOfSeason(days: readonly Pick<AquaDay, 'z_root' | 'canopy_cover'>[]): [number, number, number, number] {
  const n = days.length;
  const z0 = days[0]!.z_root;
  const zMax = Math.max(...days.map((d) => d.z_root));
  const ccMax = Math.max(...days.map((d) => d.canopy_cover));
  const peak = days.findIndex((d) => d.canopy_cover >= ccMax);
  const firstIndex = (from: number, test: (d: Pick<AquaDay, 'z_root' | 'canopy_cover'>) => boolean) => {
    for (let i = from; i < n; i++) if (test(days[i]!)) return i;
    return n;
  };
  // Day i's roots grew during day i + 1 after sowing: the initial stage is the i days before it.
  const grows = firstIndex(0, (d) => d.z_root > z0);
  const deepest = firstIndex(0, (d) => d.z_root >= zMax) + 1;
  const declines = firstIndex(peak, (d) => d.canopy_cover < 0.98 * ccMax);
  const ini = Math.max(1, Math.min(grows, n - 3));
  const dev = Math.max(1, Math.min(deepest, n - 2) - ini);
  const mid = Math.max(1, Math.min(declines, n - 1) - ini - dev);
  return [ini, dev, mid, Math.max(1, n - ini - dev - mid)];
}

/** Turn one season into what fieldhook would have received and what AquaCrop says was true. */
export function traceOfSeason(season: AquaSeason, options: Partial<TraceOptions> = {}): SeasonTrace {
  const { meta, site, soil, days } = season;
  const tzOffsetMs = (site.tz_lon / 15) * HOUR_MS;
  const startTs = Date.parse(`${meta.sowing}T00:00:00Z`) - tzOffsetMs;
  const hours = days.length * 24;
  const thetaFc = soil.th_fc[0]!;
  const thetaWp = soil.th_wp[0]!;
  const crop = getCrop(meta.fieldhook_crop);
  const real = options.rootDepth === 'aquacrop';
  const rootDepths = real ? { rootDepthM: Math.max(...days.map((d) => d.z_root)), rootDepthMinM: days[0]!.z_root } : undefined;
  const probeDepthM = rootDepths?.rootDepthM ?? crop.rootDepthM;
  const followRoots = options.probe === 'root-zone';
  const kc = options.stages === 'aquacrop' ? { kc: { stageDays: stageDaysOfSeason(days) } } : undefined;
  const harvested = new Date(Date.parse(`${meta.last_day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  const settings: FieldSettings = {
    farm: 'aquacrop',
    field: meta.id,
    crop: meta.fieldhook_crop,
    ...kc,
    soil: meta.soil,
    sowingDate: meta.sowing,
    harvestedOn: harvested,
    // The probe is calibrated to this soil: fieldhook knows AquaCrop's retention, not a preset's.
    thetaFc,
    thetaWp,
    ...rootDepths,
    efficiency: 1,
    latitudeDeg: site.lat,
    longitudeDeg: site.lon,
    elevationM: site.elevation,
    tzLongitudeDeg: site.tz_lon,
    windHeightM: 2,
  };
  const readings: SeasonTrace['readings'] = [];
  const irrigations: AppliedWater[] = [];
  const truthDepletion = new Float64Array(hours);
  const truthRaw = new Float64Array(hours);
  const rain = new Float64Array(hours);
  const irrigation = new Float64Array(hours);
  const canopyCover = new Float64Array(hours);
  const zRoot = new Float64Array(hours);
  const krs = COASTAL_SITES.has(meta.site) ? 0.19 : 0.16;
  let probeScale = probeDepthM * 1000;
  let probeDepletion = 0; // sown at field capacity (AquaCrop's initial water content)
  let dr = 0;
  let taw = days[0]!.taw;
  days.forEach((day, d) => {
    const dayStart = startTs + d * 24 * HOUR_MS;
    const weights = waterWeights(day);
    if (followRoots) {
      // The day's root zone: yesterday's water content is read over it too, so the day's change
      // is water, not the probe's depth moving.
      probeScale = day.z_root * 1000;
      probeDepletion = d === 0 ? 0 : (thetaFc - probeMean(season, day.z_root, days[d - 1]!.theta)) * probeScale;
    }
    const probe1 = (thetaFc - probeMean(season, followRoots ? day.z_root : probeDepthM, day.theta)) * probeScale;
    const probeHours = spreadDay(probeDepletion, probe1, day.infiltration, weights);
    const drHours = spreadDay(dr, day.dr, day.infiltration, weights);
    // Weather from the climate file's day: FAO-56's sine between Tmin (03:00) and Tmax (15:00),
    // dew point at Tmin (Eq. 48), Hargreaves' radiation (Eq. 50) on the daylight weights.
    const doy = Math.round((Date.parse(`${day.date}T00:00:00Z`) - Date.parse(`${day.date.slice(0, 4)}-01-01T00:00:00Z`)) / 86_400_000) + 1;
    const rs = krs * Math.sqrt(Math.max(0, day.tmax - day.tmin)) * extraterrestrialRadiationDaily(site.lat, doy);
    const ea = saturationVapourPressure(day.tmin);
    for (let h = 0; h < 24; h++) {
      const k = d * 24 + h;
      const t = (day.tmax + day.tmin) / 2 + ((day.tmax - day.tmin) / 2) * Math.cos((2 * Math.PI * (h + 0.5 - 15)) / 24);
      const hourRain = day.rain * RAIN_WEIGHTS[h]!;
      readings.push({
        ts: dayStart + (h + 1) * HOUR_MS,
        values: {
          soil_moisture: round(thetaFc - probeHours[h]! / probeScale, 4),
          air_temperature: round(t, 2),
          relative_humidity: round(Math.min(100, (100 * ea) / saturationVapourPressure(t)), 1),
          wind_speed: DEFAULT_WIND_MS,
          solar_radiation: round(rs * DAYLIGHT_WEIGHTS[h]! * MJ_PER_HOUR_TO_W, 1),
          et0: round(day.et0 * DAYLIGHT_WEIGHTS[h]!, 4),
          rainfall: round(hourRain, 3),
        },
      });
      const tawHour = taw + ((day.taw - taw) * (h + 1)) / 24;
      truthDepletion[k] = drHours[h]!;
      truthRaw[k] = meta.p * tawHour;
      rain[k] = hourRain;
      irrigation[k] = day.irrigation * IRRIGATION_WEIGHTS[h]!;
      canopyCover[k] = day.canopy_cover;
      zRoot[k] = day.z_root;
    }
    if (day.irrigation > 0) {
      irrigations.push({
        id: `${meta.id}-${day.date}`,
        startTs: dayStart + IRRIGATION_HOURS.from * HOUR_MS,
        endTs: dayStart + IRRIGATION_HOURS.to * HOUR_MS,
        depthMm: day.irrigation,
      });
    }
    probeDepletion = probe1;
    dr = day.dr;
    taw = day.taw;
  });
  return { startTs, hours, tzOffsetMs, settings, probeDepthM, readings, irrigations, truthDepletion, truthRaw, rain, irrigation, canopyCover, zRoot };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
