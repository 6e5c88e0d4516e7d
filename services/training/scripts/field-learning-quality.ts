/**
 * Decision quality with and without learning each field from its dry days, on simulated fields
 * whose profile tells the predictor their true root depth or a fraction of it:
 * `tsx services/training/scripts/field-learning-quality.ts --fields 24 --root-factors 1,0.6,0.8,1.5`.
 * Prints a Markdown table (docs/predictor.md quotes it).
 */
import { parseArgs } from 'node:util';
import { createIrrigationModel, DEFAULT_IRRIGATION_MODEL_OPTIONS } from '../../model/index.js';
import { DEFAULT_EVALUATOR_OPTIONS } from '../../predictor/evaluator.js';
import { identityOf } from '../../predictor/model-holder.js';
import { DEFAULT_QUALITY_OPTIONS, runQualityReport } from '../quality-report.js';

const { values } = parseArgs({
  options: {
    fields: { type: 'string', default: String(DEFAULT_QUALITY_OPTIONS.fields) },
    seed: { type: 'string', default: String(DEFAULT_QUALITY_OPTIONS.seed) },
    'root-factors': { type: 'string', default: '1,0.6,0.8,1.5' },
  },
});

const model = await createIrrigationModel(DEFAULT_IRRIGATION_MODEL_OPTIONS);
const rows = ['| profile root depth / true | learning | days needing water | advised in time | advice events | false alarms | median lead |', '|---|---|---:|---:|---:|---:|---:|'];
for (const factor of values['root-factors'].split(',').map(Number)) {
  for (const learnField of [false, true]) {
    const r = await runQualityReport(model, identityOf(model), { ...DEFAULT_EVALUATOR_OPTIONS, learnField }, { fields: Number(values.fields), seed: values.seed, profileRootDepthFactor: factor });
    const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
    rows.push(`| ${factor} | ${learnField ? 'on' : 'off'} | ${r.daysNeedingWater} | ${pct(r.hitRate)} | ${r.advices} | ${r.falseAlarms} (${pct(r.falseAlarmRate)}) | ${r.leadTimeMedianH.toFixed(0)} h |`);
    process.stderr.write(`${rows.at(-1)}\n`);
  }
}
await model.close();
process.stdout.write(`${rows.join('\n')}\n`);
