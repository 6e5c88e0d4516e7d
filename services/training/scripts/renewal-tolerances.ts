/**
 * The decision's renewal tolerances (when an advice in force is sent again) tried on both
 * evaluations: the AquaCrop seasons (the default row, and the field registered with AquaCrop's root
 * depths read over the roots' depth of the day) and the simulated held-out fields of
 * `fieldhook predict quality`. `tsx services/training/scripts/renewal-tolerances.ts [--only NAME,…]`.
 * Prints a Markdown table (models/aquacrop/README.md quotes it); 2–5 min a variant on 2 cores.
 */
import { parseArgs } from 'node:util';
import { createIrrigationModel, DEFAULT_IRRIGATION_MODEL_OPTIONS } from '../../model/index.js';
import { DEFAULT_EVALUATOR_OPTIONS, type EvaluatorOptions } from '../../predictor/evaluator.js';
import { identityOf } from '../../predictor/model-holder.js';
import { REAL_ROOT_METHODS } from '../aquacrop/evaluate.js';
import { traceOfSeason, type SeasonTrace } from '../aquacrop/hourly.js';
import { runPredictor } from '../aquacrop/replay.js';
import { addScores, emptyScore, median, scoreSeason } from '../aquacrop/score.js';
import { loadAquaSeasons } from '../aquacrop/seasons.js';
import { runQualityReport } from '../quality-report.js';

const HOUR_MS = 3_600_000;
const OFF = Number.POSITIVE_INFINITY;
/** Each variant overrides some of the renewal tolerances (DEFAULT_DECISION_OPTIONS: 5 mm and 20 %, 6 h). */
const VARIANTS: Record<string, Partial<EvaluatorOptions>> = {
  'default (depth > 5 mm and > 20 %, start-by > 6 h earlier)': {},
  'start-by > 12 h earlier': { renewDeadlineMs: 12 * HOUR_MS },
  'start-by: never': { renewDeadlineMs: OFF },
  'depth > 10 mm and > 20 %': { renewDepthMm: 10 },
  'depth > 5 mm and > 50 %': { renewDepthFraction: 0.5 },
  'depth > 10 mm and > 50 %': { renewDepthMm: 10, renewDepthFraction: 0.5 },
  'start-by > 12 h, depth > 10 mm and > 30 %': { renewDeadlineMs: 12 * HOUR_MS, renewDepthMm: 10, renewDepthFraction: 0.3 },
  'depth: never': { renewDepthMm: OFF },
  'never renewed': { renewDepthMm: OFF, renewDeadlineMs: OFF },
};

const { values } = parseArgs({ options: { only: { type: 'string' } } });
const only = values.only?.split(',');
const model = await createIrrigationModel(DEFAULT_IRRIGATION_MODEL_OPTIONS);
const identity = identityOf(model);
const seasons = loadAquaSeasons();
const presetTraces = seasons.map((s) => traceOfSeason(s));
const rootZoneTraces = seasons.map((s) => traceOfSeason(s, REAL_ROOT_METHODS.fieldhookRootZone));
const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

async function aquaCrop(traces: SeasonTrace[], options: EvaluatorOptions): Promise<string> {
  const run = await runPredictor(traces, model, identity, options);
  const s = traces.reduce((a, t, k) => addScores(a, scoreSeason(t, run.tracks[k]!, { horizonH: options.horizonH, falseAlarmSlackH: 24 })), emptyScore());
  return `${pct(s.daysAdvisedInTime / s.daysNeedingWater)}, ${s.falseAlarms} of ${s.advices} (${pct(s.falseAlarms / s.advices)}; ${s.falseAlarmCauses.renewal} renewals), ${median(s.leads).toFixed(0)} h`;
}

const rows = [
  '| renewed when | AquaCrop, preset depth: in time, false alarms, median lead | AquaCrop, real root depth, probe over the roots: same | simulated fields: same |',
  '|---|---|---|---|',
];
for (const [name, override] of Object.entries(VARIANTS)) {
  if (only && !only.some((o) => name.includes(o))) continue;
  const options = { ...DEFAULT_EVALUATOR_OPTIONS, ...override };
  const q = await runQualityReport(model, identity, options);
  rows.push(`| ${name} | ${await aquaCrop(presetTraces, options)} | ${await aquaCrop(rootZoneTraces, options)} | ${pct(q.hitRate)}, ${q.falseAlarms} of ${q.advices} (${pct(q.falseAlarmRate)}), ${q.leadTimeMedianH.toFixed(0)} h |`);
  process.stderr.write(`${rows.at(-1)}\n`);
}
await model.close();
process.stdout.write(`${rows.join('\n')}\n`);
