/**
 * Inference time of the irrigation model for 1 and 1,000 fields per run, against a baseline
 * measured in the same run: the pure-TypeScript FAO-56 balance forward step for the same rows.
 * `npm run bench:model`. Not part of the test run.
 */
import { featuresFromReadings } from '../services/model/features.js';
import { DEFAULT_IRRIGATION_MODEL_OPTIONS, createIrrigationModel } from '../services/model/runtime.js';
import { simulateField } from '../services/simulator/field-run.js';
import { createFieldSpecs } from '../services/simulator/fields.js';
import { sensorReadings } from '../services/simulator/sensors.js';
import { POPULATIONS, profileFromSpec, samplesOfField } from '../services/training/dataset.js';
import { faoYesterdayForecast } from '../services/training/evaluation.js';

const specs = createFieldSpecs({ count: 20, seed: 'bench', population: POPULATIONS.heldOut });
const runs = specs.map(simulateField);
const rows = runs.flatMap((run) => samplesOfField(run).map((s) => s.features)).slice(0, 1000);
if (rows.length < 1000) throw new Error('not enough rows for the benchmark');

/** Median and p95 of `iterations` timed calls, in milliseconds, after a warm-up. */
async function time(fn: () => unknown, iterations: number): Promise<{ median: number; p95: number }> {
  for (let i = 0; i < Math.min(50, iterations); i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t = process.hrtime.bigint();
    await fn();
    samples.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  samples.sort((a, b) => a - b);
  return { median: samples[Math.floor(samples.length / 2)]!, p95: samples[Math.floor(samples.length * 0.95)]! };
}

const model = await createIrrigationModel(DEFAULT_IRRIGATION_MODEL_OPTIONS);
const one = [rows[0]!];
const results: { what: string; fields: number; median: number; p95: number }[] = [];
const add = async (what: string, fields: number, fn: () => unknown, iterations: number) =>
  results.push({ what, fields, ...(await time(fn, iterations)) });

await add('ONNX model (onnxruntime-node)', 1, () => model.run(one), 2000);
await add('ONNX model (onnxruntime-node)', 1000, () => model.run(rows), 300);
await add('baseline: FAO-56 balance step (TypeScript)', 1, () => one.map(faoYesterdayForecast), 2000);
await add('baseline: FAO-56 balance step (TypeScript)', 1000, () => rows.map(faoYesterdayForecast), 300);
await add('ONNX model + decision (predict)', 1000, () => model.predict(rows), 300);
const model2 = await createIrrigationModel({ ...DEFAULT_IRRIGATION_MODEL_OPTIONS, intraOpNumThreads: 2 });
await add('ONNX model, 2 threads', 1000, () => model2.run(rows), 300);
await model2.close();

// What the predictor also pays per field: 72 h of readings to a feature vector.
const run = runs[0]!;
const readings = sensorReadings(run);
const profile = profileFromSpec(run.spec);
const at = Date.parse(readings[500]!.ts);
const window = readings.filter((r) => Date.parse(r.ts) > at - 72 * 3_600_000 && Date.parse(r.ts) <= at);
await add('features from 72 h of readings (TypeScript)', 1, () => featuresFromReadings(profile, window, at), 500);
await model.close();

const pad = (s: string, n: number) => s.padEnd(n);
const lines = [
  `irrigation model benchmark — node ${process.version}, ${model.card.name} ${model.card.version}, ${rows[0]!.length} features`,
  '',
  `${pad('what', 46)} ${pad('fields/run', 10)} ${pad('median ms', 10)} ${pad('p95 ms', 10)} µs/field`,
  ...results.map(
    (r) =>
      `${pad(r.what, 46)} ${pad(String(r.fields), 10)} ${pad(r.median.toFixed(3), 10)} ${pad(r.p95.toFixed(3), 10)} ${((1000 * r.median) / r.fields).toFixed(2)}`,
  ),
  '',
  `goal: 1,000 fields per run under 5 ms — ${results[1]!.median < 5 ? 'met' : 'NOT met'} (median ${results[1]!.median.toFixed(2)} ms)`,
];
process.stdout.write(`${lines.join('\n')}\n`);
