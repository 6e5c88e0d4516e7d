/**
 * The default row of the AquaCrop evaluation (fieldhook as `model:evaluate:aquacrop` runs it),
 * split into the sites a change is tuned on and the site held out, by crop, next to the simulated
 * fields of `fieldhook predict quality`: what a change to the predictor is measured with before
 * the full evaluation is regenerated (about 30 s on 2 cores against 2–4 min).
 * `tsx services/training/scripts/aquacrop-split.ts [--held-out brussels] [--no-sim]`.
 */
import { parseArgs } from 'node:util';
import { createIrrigationModel, DEFAULT_IRRIGATION_MODEL_OPTIONS } from '../../model/index.js';
import { DEFAULT_EVALUATOR_OPTIONS } from '../../predictor/evaluator.js';
import { identityOf } from '../../predictor/model-holder.js';
import { traceOfSeason } from '../aquacrop/hourly.js';
import { runPredictor } from '../aquacrop/replay.js';
import { addForecastErrors, addScores, emptyScore, forecastError, median, scoreSeason, type AdviceScore, type ForecastError } from '../aquacrop/score.js';
import { loadAquaSeasons } from '../aquacrop/seasons.js';
import { runQualityReport } from '../quality-report.js';

const { values } = parseArgs({ options: { 'held-out': { type: 'string', default: 'brussels' }, 'no-sim': { type: 'boolean', default: false } } });
const heldOut = values['held-out'];
const model = await createIrrigationModel(DEFAULT_IRRIGATION_MODEL_OPTIONS);
const identity = identityOf(model);
const seasons = loadAquaSeasons();
const traces = seasons.map((s) => traceOfSeason(s));
const options = DEFAULT_EVALUATOR_OPTIONS;
const run = await runPredictor(traces, model, identity, options);
const advice = new Map<string, AdviceScore>();
const forecasts = new Map<string, ForecastError>();
traces.forEach((trace, k) => {
  const score = scoreSeason(trace, run.tracks[k]!, { horizonH: options.horizonH, falseAlarmSlackH: 24 });
  const forecast = forecastError(trace, run.forecasts[k]!, run.sensor[k]!);
  const { site, crop } = seasons[k]!.meta;
  const group = site === heldOut ? `held out (${site})` : 'tuned';
  for (const key of ['all', group, `${group} ${crop}`]) {
    advice.set(key, addScores(advice.get(key) ?? emptyScore(), score));
    const f = forecasts.get(key);
    forecasts.set(key, f ? addForecastErrors(f, forecast) : forecast);
  }
});
const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
const rows = ['| seasons | in time | false alarms (renewals) | median lead | 24 h change better than persistence / FAO-56 |', '|---|---:|---:|---:|---:|'];
for (const key of [...advice.keys()].sort()) {
  const s = advice.get(key)!;
  const f = forecasts.get(key)!;
  rows.push(`| ${key} | ${pct(s.daysAdvisedInTime / s.daysNeedingWater)} (${s.daysAdvisedInTime} of ${s.daysNeedingWater}) | ${s.falseAlarms} of ${s.advices} (${pct(s.falseAlarms / s.advices)}; ${s.falseAlarmCauses.renewal}) | ${median(s.leads).toFixed(0)} h | ${pct(1 - f.changeModel / f.changePersistence)} / ${pct(1 - f.changeModel / f.changeFaoYesterday)} |`);
}
if (!values['no-sim']) {
  const q = await runQualityReport(model, identity, options);
  const moved = q.learnt.filter((l) => l.raw_factor !== 1).length;
  rows.push(`| simulated fields | ${pct(q.hitRate)} | ${q.falseAlarms} of ${q.advices} (${pct(q.falseAlarmRate)}) | ${q.leadTimeMedianH.toFixed(0)} h | RAW moved on ${moved} of ${q.learnt.length} fields |`);
}
await model.close();
process.stdout.write(`${rows.join('\n')}\n`);
