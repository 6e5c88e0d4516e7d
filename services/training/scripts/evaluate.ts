/**
 * Write the model card, then evaluate the model against the FAO-56 ground truth and both
 * baselines on held-out fields: `tsx services/training/scripts/evaluate.ts --data … --dir models/irrigation`.
 * Produces model.json, EVALUATION.md and evaluation.svg.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MODEL_DERIVED, MODEL_OUTPUTS, type ModelCard } from '../../model/card.js';
import { DEFAULT_DATASET_OPTIONS, POPULATIONS, parseSamplesCsv, type CsvSample } from '../dataset.js';
import {
  faoYesterdayForecast,
  persistenceForecast,
  scoreForecasts,
  scoreHoursToRaw,
  type ForecastScore,
  type HoursToRawScore,
} from '../evaluation.js';
import { FEATURES, FEATURE_NAMES } from '../../model/features.js';
import { renderEvaluationSvg, scoreTable, type MethodScores } from '../report.js';
import { createIrrigationModel, hoursToThreshold, localHourOf, type IrrigationModel } from '../../model/runtime.js';
import { createRandom } from '../../simulator/random.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: 'models/irrigation/data' },
    dir: { type: 'string', default: 'models/irrigation' },
    version: { type: 'string', default: '1.1.0' },
  },
});
const dir = values.dir;
const report = JSON.parse(readFileSync(join(dir, 'train-report.json'), 'utf8')) as Record<string, unknown> & {
  features: string[];
  seed: number;
  samples: Record<string, number>;
};
if (report.features.join() !== FEATURE_NAMES.join()) {
  throw new Error('train-report.json was trained on other features than services/model/features.ts: retrain');
}

const bytes = readFileSync(join(dir, 'model.onnx'));
const limits = [
  'Trained and evaluated on simulated fields only (FAO-56 balance as ground truth); field data will differ.',
  'Trained on simulated fields whose root zone has a fixed depth; the predictor feeds it the day\'s root zone as the crop develops, a range the training data cover only at the fixed depths.',
  'Forecasts assume no irrigation in the horizon. Without a weather forecast (forecast_available 0) rain in the next 24–48 h is the main error; the forecasts it was trained with are the simulated truth with seeded errors, and its 48 h output sees only the first 24 h of one.',
  'Soil moisture probes are assumed calibrated to the root-zone mean; a drifting probe biases the forecast one-for-one.',
  'Deep percolation is instantaneous (FAO-56); slow drainage after heavy rain in heavy soils is not represented.',
];
const card: ModelCard = {
  name: 'fieldhook-irrigation',
  version: values.version,
  description:
    'Root-zone depletion 24 h and 48 h ahead (no irrigation in between) from a field\'s last 72 h of sensor readings, its soil and crop parameters, the next 24 h of weather forecast where one exists and the irrigation records of the last 24 h. Gradient-boosted trees on the residual of an FAO-56 prior.',
  file: { path: 'model.onnx', bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') },
  onnx: { opset: report.opset as Record<string, number>, input: 'features', inputType: 'float32', output: 'depletion_mm' },
  features: FEATURES.map(([name, unit, description]) => ({ name, unit, description })),
  outputs: MODEL_OUTPUTS.map((o) => ({ ...o })),
  derived: MODEL_DERIVED.map((o) => ({ ...o })),
  training: {
    seed: report.seed,
    command: 'npm run model:train',
    data:
      'Simulated fields (services/simulator): hourly weather with diurnal cycles and rain events, FAO-56 hourly ET0 and root-zone balance as ground truth, simulated farmer irrigation, hourly sensor readings with noise, drift, gaps and outages. One sample every 6 h per field after 72 h of history; half the samples have a forecast of the next 24 h (the truth with seeded errors: rain scaled log-normally, missed 15 % and invented 10 % of the time, ET0 ±10 %), the others none; half the fields record their irrigations.',
    populations: POPULATIONS,
    fields: {
      train: DEFAULT_DATASET_OPTIONS.trainFields,
      validation: DEFAULT_DATASET_OPTIONS.validationFields,
      test: DEFAULT_DATASET_OPTIONS.testFields,
    },
    samples: report.samples,
    algorithm: report.algorithm,
    hyperparameters: report.hyperparameters,
    versions: report.versions,
    python_metrics_mae_mm: report.python_metrics_mae_mm,
    onnx_vs_sklearn_max_abs_diff_mm: report.onnx_vs_sklearn_max_abs_diff_mm,
  },
  metrics: {},
  limits,
};
const cardPath = join(dir, 'model.json');
const writeCard = () => writeFileSync(cardPath, `${JSON.stringify(card, null, 2)}\n`);
writeCard();

interface SplitScores {
  scores: MethodScores;
  hours: Record<keyof MethodScores, HoursToRawScore>;
  predicted: Float32Array;
}

async function scoreSplit(model: IrrigationModel, samples: readonly CsvSample[]): Promise<SplitScores> {
  const predicted = await model.run(samples.map((s) => s.features));
  const truth = (s: CsvSample) => ({ d24: s.depletion24h, d48: s.depletion48h });
  const score = (forecast: (s: CsvSample, i: number) => { d24: number; d48: number }): ForecastScore =>
    scoreForecasts(samples.map((s, i) => ({ forecast: forecast(s, i), truth: truth(s), raw: s.raw })));
  const taw = FEATURE_NAMES.indexOf('taw_mm');
  const now = FEATURE_NAMES.indexOf('depletion_smoothed_mm');
  const clip = (x: number, s: CsvSample) => Math.min(s.features[taw]!, Math.max(0, x));
  const forecasts = {
    model: (s: CsvSample, i: number) => ({ d24: clip(predicted[2 * i]!, s), d48: clip(predicted[2 * i + 1]!, s) }),
    persistence: (s: CsvSample) => persistenceForecast(s.features),
    faoYesterday: (s: CsvSample) => faoYesterdayForecast(s.features),
  };
  const hours = (forecast: (s: CsvSample, i: number) => { d24: number; d48: number }) =>
    scoreHoursToRaw(
      samples.map((s, i) => {
        const f = forecast(s, i);
        // Same interpolation as the runtime; persistence reaches RAW only if it already has.
        const start = clip(s.features[now]!, s);
        return { predicted: hoursToThreshold(start, f.d24, f.d48, s.raw, localHourOf(s.features)), truth: s.hoursToRaw };
      }),
    );
  return {
    predicted,
    scores: {
      model: score(forecasts.model),
      persistence: score(forecasts.persistence),
      faoYesterday: score(forecasts.faoYesterday),
    },
    hours: {
      model: hours(forecasts.model),
      persistence: hours(forecasts.persistence),
      faoYesterday: hours(forecasts.faoYesterday),
    },
  };
}

const test = parseSamplesCsv(readFileSync(join(values.data, 'test.csv'), 'utf8'));
const validation = parseSamplesCsv(readFileSync(join(values.data, 'validation.csv'), 'utf8'));
const model = await createIrrigationModel({ modelPath: join(dir, 'model.onnx'), cardPath });
const heldOut = await scoreSplit(model, test);
const inDistribution = await scoreSplit(model, validation);
// The same held-out fields split by whether the moment had a weather forecast: the gain where one
// exists, and no loss where none does.
const forecastColumn = FEATURE_NAMES.indexOf('forecast_available');
const forecastSplit = {
  with: test.filter((s) => s.features[forecastColumn] === 1),
  without: test.filter((s) => s.features[forecastColumn] !== 1),
};
const byForecast = { with: await scoreSplit(model, forecastSplit.with), without: await scoreSplit(model, forecastSplit.without) };

// Per-group breakdown of the held-out set.
function breakdown(key: 'climate' | 'crop' | 'soil'): string {
  const groups = [...new Set(test.map((s) => s[key]))].sort();
  const taw = FEATURE_NAMES.indexOf('taw_mm');
  const lines = groups.map((g) => {
    const idx = test.map((s, i) => (s[key] === g ? i : -1)).filter((i) => i >= 0);
    const s = scoreForecasts(
      idx.map((i) => {
        const row = test[i]!;
        const clip = (x: number) => Math.min(row.features[taw]!, Math.max(0, x));
        return {
          forecast: { d24: clip(heldOut.predicted[2 * i]!), d48: clip(heldOut.predicted[2 * i + 1]!) },
          truth: { d24: row.depletion24h, d48: row.depletion48h },
          raw: row.raw,
        };
      }),
    );
    return `| ${g} | ${s.cases} | ${s.mae24hMm.toFixed(2)} | ${s.mae48hMm.toFixed(2)} | ${(100 * s.decisionAgreement).toFixed(1)} % |`;
  });
  return [`| ${key} | cases | MAE 24 h (mm) | MAE 48 h (mm) | decision agreement |`, '|---|---:|---:|---:|---:|', ...lines].join('\n');
}

const round = (s: ForecastScore) => ({
  cases: s.cases,
  mae_24h_mm: Number(s.mae24hMm.toFixed(4)),
  mae_48h_mm: Number(s.mae48hMm.toFixed(4)),
  decision_agreement: Number(s.decisionAgreement.toFixed(5)),
  missed_irrigations: s.missedIrrigations,
  false_alarms: s.falseAlarms,
});
const roundHours = (h: SplitScores['hours']) =>
  Object.fromEntries(
    Object.entries(h).map(([k, v]) => [
      k,
      { cases: v.cases, mae_hours: Number(v.maeHours.toFixed(3)), within_6_hours: Number(v.within6Hours.toFixed(5)) },
    ]),
  );
card.metrics = {
  held_out: {
    description: `Test fields: climates ${POPULATIONS.heldOut.climates.join(', ')}; soils ${POPULATIONS.heldOut.soils.join(', ')}; crops ${POPULATIONS.heldOut.crops.join(', ')} (none seen in training).`,
    model: round(heldOut.scores.model),
    baseline_persistence: round(heldOut.scores.persistence),
    baseline_fao56_yesterday: round(heldOut.scores.faoYesterday),
    hours_to_raw: roundHours(heldOut.hours),
    with_forecast: {
      model: round(byForecast.with.scores.model),
      baseline_persistence: round(byForecast.with.scores.persistence),
      baseline_fao56_yesterday: round(byForecast.with.scores.faoYesterday),
    },
    without_forecast: {
      model: round(byForecast.without.scores.model),
      baseline_persistence: round(byForecast.without.scores.persistence),
      baseline_fao56_yesterday: round(byForecast.without.scores.faoYesterday),
    },
  },
  in_distribution: {
    description: 'Validation fields: unseen fields drawn from the training population.',
    model: round(inDistribution.scores.model),
    baseline_persistence: round(inDistribution.scores.persistence),
    baseline_fao56_yesterday: round(inDistribution.scores.faoYesterday),
  },
};
writeCard();

const rng = createRandom(`${report.seed}/plot`);
const points = test
  .map((s, i) => ({ truth: s.depletion24h, predicted: Math.max(0, heldOut.predicted[2 * i]!) }))
  .filter(() => rng.chance(2500 / test.length));
writeFileSync(
  join(dir, 'evaluation.svg'),
  renderEvaluationSvg(points, [
    { label: 'model (ONNX)', mae: heldOut.scores.model.mae24hMm, agreement: heldOut.scores.model.decisionAgreement },
    { label: 'persistence', mae: heldOut.scores.persistence.mae24hMm, agreement: heldOut.scores.persistence.decisionAgreement },
    {
      label: "FAO-56, yesterday's weather",
      mae: heldOut.scores.faoYesterday.mae24hMm,
      agreement: heldOut.scores.faoYesterday.decisionAgreement,
    },
  ]),
);

function hoursTable(h: SplitScores['hours']): string {
  const rows: [string, HoursToRawScore][] = [
    ['irrigation model (ONNX)', h.model],
    ['baseline: persistence', h.persistence],
    ["baseline: FAO-56 balance, yesterday's weather", h.faoYesterday],
  ];
  return [
    '| method | MAE (h) | within ±6 h |',
    '|---|---:|---:|',
    ...rows.map(([name, s]) => `| ${name} | ${s.maeHours.toFixed(1)} | ${(100 * s.within6Hours).toFixed(1)} % |`),
  ].join('\n');
}

const m = heldOut.scores;
const goals = [
  ['depletion MAE 24 h ≤ 3 mm', m.model.mae24hMm <= 3],
  ['decision agreement ≥ 95 %', m.model.decisionAgreement >= 0.95],
  [
    'both baselines beaten (MAE and agreement)',
    m.model.mae24hMm < Math.min(m.persistence.mae24hMm, m.faoYesterday.mae24hMm) &&
      m.model.decisionAgreement > Math.max(m.persistence.decisionAgreement, m.faoYesterday.decisionAgreement),
  ],
] as const;
const md = `# Irrigation model — evaluation

Generated by \`npm run model:evaluate\` (part of \`npm run model:train\`); do not edit by hand.

Model \`${card.name}\` ${card.version}, \`model.onnx\` ${(bytes.length / 1024).toFixed(0)} KiB, sha256 \`${card.file.sha256}\`.
Seed ${report.seed}. Predictions come from onnxruntime-node through \`services/model/runtime.ts\`,
the same path the predictor uses.

## What is measured

At every prediction moment (every 6 h of every field, after 72 h of history) the model sees what
the predictor would see — the field's noisy, gappy sensor readings of the last 72 h and its soil and
crop parameters — and forecasts the root-zone depletion 24 h and 48 h ahead, assuming no irrigation
in between. The ground truth is the FAO-56 root-zone balance of the simulated field run with the
weather that actually followed. The irrigate/don't decision is "depletion 24 h ahead ≥ RAW"
(FAO-56 chapter 8), for the forecast and for the truth.

Baselines, computed in the same run from the same inputs:
- **persistence**: depletion tomorrow = depletion now (the sensor estimate);
- **FAO-56 balance, yesterday's weather**: the FAO-56 balance from the sensor estimate of depletion
  now, with the last 24 h of ET0 (from the field's weather readings) and rain repeated each day.

Both baselines start from the same smoothed depletion estimate as the model (feature
\`depletion_smoothed_mm\`), so the comparison measures the forecast, not the sensor filter.

## Held-out fields (climates, soils and crops not seen in training)

${card.metrics.held_out && (card.metrics.held_out as { description: string }).description}
${test.length} cases from ${new Set(test.map((s) => s.fieldId)).size} fields.

${scoreTable(heldOut.scores)}

Hours until RAW, for the ${heldOut.hours.model.cases} cases whose true depletion reaches RAW within
the next 48 h (a forecast that never reaches it counts as 96 h):

${hoursTable(heldOut.hours)}

Goals:
${goals.map(([g, ok]) => `- ${g}: ${ok ? 'met' : 'NOT met'}`).join('\n')}

![Predicted vs true depletion 24 h ahead, and MAE per method](evaluation.svg)

### With and without a weather forecast

Half the prediction moments come with a forecast of the next 24 h (the simulated weather with
seeded errors), the others with none (\`forecast_available\` 0). The baselines know no forecast.

With a forecast, ${forecastSplit.with.length} cases:

${scoreTable(byForecast.with.scores)}

Without a forecast, ${forecastSplit.without.length} cases:

${scoreTable(byForecast.without.scores)}

### By climate

${breakdown('climate')}

### By crop

${breakdown('crop')}

### By soil

${breakdown('soil')}

## In-distribution check (unseen fields from the training population)

${validation.length} cases from ${new Set(validation.map((s) => s.fieldId)).size} fields.

${scoreTable(inDistribution.scores)}

## Limits

${limits.map((l) => `- ${l}`).join('\n')}
`;
writeFileSync(join(dir, 'EVALUATION.md'), md);
await model.close();
process.stdout.write(`${JSON.stringify(card.metrics, null, 2)}\n`);
