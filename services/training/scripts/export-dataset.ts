/**
 * Export the simulated data set as CSV for training: `tsx services/training/scripts/export-dataset.ts
 * --seed 42 --out models/irrigation/data`.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_DATASET_OPTIONS, exportDataset } from '../dataset.js';

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: String(DEFAULT_DATASET_OPTIONS.seed) },
    out: { type: 'string', default: 'models/irrigation/data' },
    'train-fields': { type: 'string', default: String(DEFAULT_DATASET_OPTIONS.trainFields) },
    'validation-fields': { type: 'string', default: String(DEFAULT_DATASET_OPTIONS.validationFields) },
    'test-fields': { type: 'string', default: String(DEFAULT_DATASET_OPTIONS.testFields) },
  },
});

const started = performance.now();
const counts = exportDataset(values.out, {
  ...DEFAULT_DATASET_OPTIONS,
  seed: Number(values.seed),
  trainFields: Number(values['train-fields']),
  validationFields: Number(values['validation-fields']),
  testFields: Number(values['test-fields']),
});
process.stdout.write(
  `${JSON.stringify({ out: values.out, samples: counts, seconds: Math.round((performance.now() - started) / 100) / 10 })}\n`,
);
