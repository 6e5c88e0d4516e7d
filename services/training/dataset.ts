/**
 * The training and evaluation data set: simulated fields, their sensor readings, the features
 * the predictor would compute from them, and the FAO-56 ground truth 24 h and 48 h ahead.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CropName, SoilName } from '../agronomy/index.js';
import type { ClimateName } from '../simulator/climates.js';
import { CLIMATES } from '../simulator/climates.js';
import { depletionAhead, hoursToRawAhead, simulateField, type FieldRun } from '../simulator/field-run.js';
import { createFieldSpecs, type FieldPopulation, type FieldSpec } from '../simulator/fields.js';
import { createRandom, type Random } from '../simulator/random.js';
import { sensorReadings } from '../simulator/sensors.js';
import {
  FEATURE_NAMES, FEATURE_WINDOW_HOURS, buildObservationSeries, computeFeatures,
  type AppliedWaterInput, type FeatureContext, type FieldProfile, type ForecastHourInput,
} from '../model/features.js';

const HOUR_MS = 3_600_000;

/** The profile the predictor would hold for a simulated field. */
export function profileFromSpec(spec: FieldSpec): FieldProfile {
  const c = CLIMATES[spec.climate];
  return {
    latitudeDeg: c.latitudeDeg,
    longitudeDeg: c.longitudeDeg,
    tzLongitudeDeg: c.tzLongitudeDeg,
    elevationM: c.elevationM,
    thetaFc: spec.thetaFc,
    thetaWp: spec.thetaWp,
    rootDepthM: spec.rootDepthM,
    p: spec.p,
    crop: spec.cropParams,
    sowingDate: spec.sowingDate,
    windHeightM: spec.sensor.windHeightM,
  };
}

/**
 * Training population, and a held-out one whose climates, soils and crops are all absent from
 * training: the evaluation measures generalisation, not memory.
 */
export const POPULATIONS: Readonly<Record<'train' | 'heldOut', FieldPopulation>> = {
  train: {
    climates: ['humid', 'semi-arid', 'arid', 'continental'] satisfies ClimateName[],
    soils: ['sand', 'sandy-loam', 'silt-loam', 'silt', 'silty-clay-loam', 'clay-loam', 'clay'] satisfies SoilName[],
    crops: ['tomato', 'maize-field', 'wheat-spring', 'onion', 'cotton', 'soybean', 'sugar-beet', 'lettuce'] satisfies CropName[],
  },
  heldOut: {
    climates: ['mediterranean', 'humid-subtropical'],
    soils: ['loamy-sand', 'loam', 'silty-clay'],
    crops: ['potato', 'maize-sweet'],
  },
};

/** One prediction moment of one field. */
export interface Sample {
  fieldId: string;
  climate: ClimateName;
  soil: SoilName;
  crop: CropName;
  /** Prediction time, epoch ms. */
  ts: number;
  features: Float64Array;
  /** True depletion now and 24 h / 48 h ahead without irrigation, mm. */
  depletionNow: number;
  depletion24h: number;
  depletion48h: number;
  /** Hours until the true no-irrigation depletion reaches RAW, within 96 h; null beyond. */
  hoursToRaw: number | null;
  taw: number;
  raw: number;
}

export interface SampleOptions {
  /** Hours between prediction moments. Default 6. */
  everyHours: number;
}

export const DEFAULT_SAMPLE_OPTIONS: SampleOptions = { everyHours: 6 };

/**
 * How often the training set knows the weather ahead and the water applied. Live fields have a
 * forecast or not, records or not: the model must learn both cases, and the "none" case must
 * stay what it learnt from readings alone.
 */
export const CONTEXT_SHARES = {
  /** Prediction moments with a forecast. */
  forecast: 0.5,
  /** Fields whose irrigations are recorded. */
  records: 0.5,
} as const;

/**
 * A forecast of the 24 h after hour `index`: the simulated truth with seeded errors of the size
 * public forecasts make. Each issue scales the day's rain by a log-normal factor, misses it now
 * and then, invents a shower now and then, and shifts ET0 by about ±10 %.
 */
export function simulatedForecast(run: FieldRun, index: number, random: Random): ForecastHourInput[] {
  const rainFactor = random.chance(0.15) ? 0 : Math.exp(random.normal(0, 0.5));
  const et0Factor = Math.max(0.5, 1 + random.normal(0, 0.1));
  const spurious = random.chance(0.1) ? random.uniform(1, 12) : 0;
  const spuriousHour = random.int(1, 24);
  const hours: ForecastHourInput[] = [];
  for (let h = 1; h <= 24 && index + h < run.weather.length; h++) {
    const w = run.weather[index + h]!;
    hours.push({
      ts: w.ts + HOUR_MS,
      rainMm: w.rainMm * rainFactor + (h === spuriousHour ? spurious : 0),
      et0Mm: run.et0[index + h]! * et0Factor,
    });
  }
  return hours;
}

/** The irrigation records of a field whose farmer records every irrigation: one per watered hour. */
export function simulatedRecords(run: FieldRun): AppliedWaterInput[] {
  const out: AppliedWaterInput[] = [];
  run.irrigation.forEach((mm, i) => {
    if (mm > 0) out.push({ startTs: run.weather[i]!.ts, endTs: run.weather[i]!.ts + HOUR_MS, depthMm: mm });
  });
  return out;
}

/** Samples of one simulated field: features from its noisy readings, targets from the truth. */
export function samplesOfField(run: FieldRun, options: SampleOptions = DEFAULT_SAMPLE_OPTIONS): Sample[] {
  const profile = profileFromSpec(run.spec);
  const readings = sensorReadings(run);
  const first = run.weather[0]!.ts;
  const series = buildObservationSeries(profile, readings, first, first + run.weather.length * HOUR_MS);
  const out: Sample[] = [];
  // Own streams: what the field's forecasts and records are never shifts its weather or readings.
  const random = createRandom(`${run.spec.seed}/context`);
  const forecasts = random.fork('forecast');
  const records = random.fork('records').chance(CONTEXT_SHARES.records) ? simulatedRecords(run) : undefined;
  // Sample at the end of hour i; keep 48 h of future for the targets.
  for (let i = FEATURE_WINDOW_HOURS - 1; i + 48 < run.weather.length; i += options.everyHours) {
    const ts = first + (i + 1) * HOUR_MS;
    const context: FeatureContext = {
      ...(forecasts.chance(CONTEXT_SHARES.forecast) ? { forecast: simulatedForecast(run, i, forecasts) } : {}),
      ...(records ? { applied: records.filter((r) => r.startTs < ts) } : {}),
    };
    const result = computeFeatures(profile, series, ts, context);
    if (!('features' in result)) continue;
    out.push({
      fieldId: run.spec.id,
      climate: run.spec.climate,
      soil: run.spec.soil,
      crop: run.spec.crop,
      ts,
      features: result.features,
      depletionNow: run.depletion[i]!,
      depletion24h: depletionAhead(run, i, 24),
      depletion48h: depletionAhead(run, i, 48),
      hoursToRaw: hoursToRawAhead(run, i, 96),
      taw: run.taw,
      raw: run.raw,
    });
  }
  return out;
}

export interface DatasetOptions {
  seed: number;
  trainFields: number;
  /** Unseen fields from the training population (in-distribution check). */
  validationFields: number;
  /** Fields from the held-out population. */
  testFields: number;
  everyHours: number;
}

export const DEFAULT_DATASET_OPTIONS: DatasetOptions = {
  seed: 42,
  trainFields: 320,
  validationFields: 60,
  testFields: 120,
  everyHours: 6,
};

export type SplitName = 'train' | 'validation' | 'test';

/** The field specs of each split: different seeds, so no field is in two splits. */
export function datasetSpecs(options: DatasetOptions): Record<SplitName, FieldSpec[]> {
  return {
    train: createFieldSpecs({ count: options.trainFields, seed: `${options.seed}/train`, population: POPULATIONS.train, idPrefix: 'train' }),
    validation: createFieldSpecs({ count: options.validationFields, seed: `${options.seed}/validation`, population: POPULATIONS.train, idPrefix: 'val' }),
    test: createFieldSpecs({ count: options.testFields, seed: `${options.seed}/test`, population: POPULATIONS.heldOut, idPrefix: 'test' }),
  };
}

/** Samples of a list of fields. */
export function samplesOfFields(specs: readonly FieldSpec[], everyHours: number): Sample[] {
  return specs.flatMap((spec) => samplesOfField(simulateField(spec), { everyHours }));
}

export const TARGET_NAMES = ['depletion_24h_mm', 'depletion_48h_mm'] as const;
const META_COLUMNS = [
  'field_id', 'climate', 'soil', 'crop', 'ts', 'taw_true_mm', 'raw_true_mm', 'depletion_now_true_mm', 'hours_to_raw_true',
];

/** CSV of samples: meta columns, the features in model order, then the targets. */
export function samplesToCsv(samples: readonly Sample[]): string {
  const lines = [[...META_COLUMNS, ...FEATURE_NAMES, ...TARGET_NAMES].join(',')];
  for (const s of samples) {
    const meta = [
      s.fieldId, s.climate, s.soil, s.crop, new Date(s.ts).toISOString(), s.taw, s.raw, s.depletionNow,
      s.hoursToRaw === null ? '' : s.hoursToRaw.toFixed(3),
    ];
    // 17 significant digits would round-trip exactly; 9 keeps the files small and float32 exact.
    const feats = Array.from(s.features, (x) => Number(x.toPrecision(9)));
    lines.push([...meta, ...feats, s.depletion24h.toPrecision(9), s.depletion48h.toPrecision(9)].join(','));
  }
  return `${lines.join('\n')}\n`;
}

/** Write train.csv, validation.csv and test.csv into a folder. */
export function exportDataset(outDir: string, options: DatasetOptions = DEFAULT_DATASET_OPTIONS): Record<SplitName, number> {
  mkdirSync(outDir, { recursive: true });
  const specs = datasetSpecs(options);
  const counts = {} as Record<SplitName, number>;
  for (const split of ['train', 'validation', 'test'] as const) {
    const samples = samplesOfFields(specs[split], options.everyHours);
    writeFileSync(join(outDir, `${split}.csv`), samplesToCsv(samples));
    counts[split] = samples.length;
  }
  return counts;
}

/** One row of an exported CSV, read back. */
export interface CsvSample {
  fieldId: string;
  climate: string;
  soil: string;
  crop: string;
  ts: string;
  raw: number;
  features: Float64Array;
  depletion24h: number;
  depletion48h: number;
  /** Hours until the truth reaches RAW (within 96 h), or null. */
  hoursToRaw: number | null;
}

/** Read a CSV written by {@link samplesToCsv}; the feature columns must match this code's features. */
export function parseSamplesCsv(text: string): CsvSample[] {
  const lines = text.trimEnd().split('\n');
  const header = lines[0]!.split(',');
  const at = (name: string) => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`CSV has no column ${name}`);
    return i;
  };
  const featureCols = FEATURE_NAMES.map(at);
  const [iField, iClimate, iSoil, iCrop, iTs, iRaw, i24, i48, iHours] = [
    'field_id', 'climate', 'soil', 'crop', 'ts', 'raw_true_mm', TARGET_NAMES[0], TARGET_NAMES[1], 'hours_to_raw_true',
  ].map(at) as [number, number, number, number, number, number, number, number, number];
  return lines.slice(1).map((line) => {
    const c = line.split(',');
    return {
      fieldId: c[iField]!,
      climate: c[iClimate]!,
      soil: c[iSoil]!,
      crop: c[iCrop]!,
      ts: c[iTs]!,
      raw: Number(c[iRaw]),
      features: Float64Array.from(featureCols, (i) => Number(c[i])),
      depletion24h: Number(c[i24]),
      depletion48h: Number(c[i48]),
      hoursToRaw: c[iHours] === '' ? null : Number(c[iHours]),
    };
  });
}
