import {
  CROPS,
  SOILS,
  climateAdjustedCrop,
  saturationVapourPressure,
  seasonLength,
  type CropName,
  type CropPreset,
  type SoilName,
} from '../agronomy/index.js';
import { CLIMATES, type ClimateName, type ClimatePreset } from './climates.js';
import { addDays } from './weather.js';
import { createRandom } from './random.js';

/** How the simulated farmer irrigates: when depletion crosses a threshold, at a fixed hour. */
export interface IrrigationHabit {
  /** Irrigate when depletion ≥ this fraction of RAW (below 1: cautious, above 1: stressed crop). */
  triggerFraction: number;
  /** Local hour at which the farmer irrigates, 0–23. */
  hour: number;
  /** Fraction of the depletion the irrigation refills, 0–1.2. */
  refillFraction: number;
  /** Probability that a due irrigation is skipped that day (pump down, no water turn). */
  skipProbability: number;
}

/** The quirks of one field's sensor node. */
export interface SensorProfile {
  /** Standard deviation of the soil moisture noise, m3/m3. */
  noiseSd: number;
  /** Calibration drift of the soil moisture probe, m3/m3 per day (either sign). */
  driftPerDay: number;
  /** Probability that an hourly reading is lost. */
  gapProbability: number;
  /** Number of multi-hour outages over the season. */
  outages: number;
  /** Height of the anemometer, m. */
  windHeightM: number;
}

/** Everything that defines one simulated field. */
export interface FieldSpec {
  id: string;
  /** The device reporting for the field. */
  deviceId: string;
  climate: ClimateName;
  soil: SoilName;
  crop: CropName;
  /** Crop parameters with Kc mid/end adjusted to the climate (FAO-56 Eq. 62). */
  cropParams: CropPreset;
  /** Local date of sowing, YYYY-MM-DD. */
  sowingDate: string;
  /** Days simulated from the sowing date. */
  days: number;
  /** Field capacity and wilting point of this field, m3/m3 (preset ± field variability). */
  thetaFc: number;
  thetaWp: number;
  /** Managed root-zone depth, m. */
  rootDepthM: number;
  /** Depletion fraction p, –. */
  p: number;
  /** Depletion at sowing as a fraction of TAW. */
  initialDepletionFraction: number;
  irrigation: IrrigationHabit;
  sensor: SensorProfile;
  /** Seed of this field's weather and sensor streams. */
  seed: string;
}

/** Which presets a fleet of fields is drawn from. */
export interface FieldPopulation {
  climates: readonly ClimateName[];
  soils: readonly SoilName[];
  crops: readonly CropName[];
}

/** Sowing windows (day of year) per climate: spring in temperate climates, longer elsewhere. */
const SOWING_DOY: Readonly<Record<ClimateName, readonly [number, number]>> = {
  humid: [95, 150],
  'humid-subtropical': [70, 160],
  'semi-arid': [75, 150],
  arid: [30, 120],
  mediterranean: [60, 130],
  continental: [105, 155],
};

export interface CreateFieldsOptions {
  count: number;
  seed: number | string;
  population: FieldPopulation;
  /** Calendar year of the sowing dates. */
  year?: number;
  /** Prefix of the field ids (`field-0001`) and device ids (`<devicePrefix>-0001`). */
  idPrefix?: string;
  devicePrefix?: string;
  /**
   * Sow every field within this window instead of the climate's usual one (e.g. a live fleet
   * whose seasons must be under way today): first date and length in days.
   */
  sowingWindow?: { from: string; days: number };
}

export const DEFAULT_FIELD_OPTIONS = { year: 2025, idPrefix: 'field', devicePrefix: 'sim' } as const;

/**
 * Mean afternoon relative humidity of the growing season, %: dew point below a summer Tmin,
 * saturation at Tmax. Drives the climate adjustment of Kc.
 */
export function typicalRhMin(climate: ClimatePreset): number {
  const tmean = climate.tMeanC + 0.8 * climate.tSeasonalAmplitudeC;
  const tmin = tmean - climate.diurnalRangeC / 2;
  const tmax = tmean + climate.diurnalRangeC / 2;
  return (100 * saturationVapourPressure(tmin - climate.dewDepressionC)) / saturationVapourPressure(tmax);
}

/** Draw field specifications: every choice comes from the seed, so the same call gives the same fleet. */
export function createFieldSpecs(options: CreateFieldsOptions): FieldSpec[] {
  const { count, seed, population } = options;
  const year = options.year ?? DEFAULT_FIELD_OPTIONS.year;
  const idPrefix = options.idPrefix ?? DEFAULT_FIELD_OPTIONS.idPrefix;
  const devicePrefix = options.devicePrefix ?? DEFAULT_FIELD_OPTIONS.devicePrefix;
  const random = createRandom(seed);
  return Array.from({ length: count }, (_, i) => {
    const r = random.fork(`field-${i}`);
    const climateName = r.pick(population.climates);
    const climate = CLIMATES[climateName];
    const soilName = r.pick(population.soils);
    const soil = SOILS[soilName];
    const cropName = r.pick(population.crops);
    const crop = CROPS[cropName];
    const [from, to] = SOWING_DOY[climateName];
    const sowingDate = options.sowingWindow
      ? addDays(options.sowingWindow.from, r.int(0, Math.max(0, options.sowingWindow.days - 1)))
      : addDays(`${year}-01-01`, r.int(from, to) - 1);
    // Fields of one texture class differ; keep at least 0.05 m3/m3 of available water.
    const thetaFc = soil.thetaFc * r.uniform(0.93, 1.07);
    const thetaWp = Math.min(thetaFc - 0.05, soil.thetaWp * r.uniform(0.93, 1.07));
    const n = String(i + 1).padStart(4, '0');
    return {
      id: `${idPrefix}-${n}`,
      deviceId: `${devicePrefix}-${n}`,
      climate: climateName,
      soil: soilName,
      crop: cropName,
      // Mid-season wind and afternoon humidity of the climate drive the Kc adjustment.
      cropParams: climateAdjustedCrop(crop, climate.windMs, typicalRhMin(climate)),
      sowingDate,
      days: seasonLength(crop) + 3,
      thetaFc,
      thetaWp,
      rootDepthM: crop.rootDepthM * r.uniform(0.8, 1.1),
      p: crop.p,
      initialDepletionFraction: r.uniform(0, 0.35),
      irrigation: {
        triggerFraction: r.uniform(0.6, 1.25),
        hour: r.pick([5, 6, 7, 18, 19, 20]),
        refillFraction: r.uniform(0.75, 1.05),
        skipProbability: r.uniform(0, 0.2),
      },
      sensor: {
        noiseSd: r.uniform(0.001, 0.004),
        driftPerDay: r.normal(0, 0.00002),
        gapProbability: r.uniform(0, 0.05),
        outages: r.int(0, 3),
        windHeightM: r.pick([2, 2, 3, 10]),
      },
      seed: `${String(seed)}/field-${i}`,
    };
  });
}
