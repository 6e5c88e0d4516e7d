/**
 * `npx tsx bench/irrigation-records.ts`: what recorded irrigations change in the advice.
 *
 * BENCH_FIELDS (default 8) simulated fields of the held-out population, BENCH_DAYS (default 60)
 * days each, replayed hourly through the real model and decision twice in one run: as the soil
 * probe alone sees them (the baseline: an irrigation shows once the probe rises), and with the
 * farmer's irrigations recorded (what a valve controller or a chat answer would report). For every
 * irrigation applied while an advice was in force it measures how long the advice stayed in force
 * after the water ended, and it counts the advice events and the hours of advice in force.
 *
 * The simulated probe shows an irrigation within its hour; a real one lags while the water soaks
 * down to it. BENCH_PROBE_LAG_H (default 0) holds the probe at its value before each irrigation
 * for that many hours after it, to see the difference where the lag is real.
 */
import { createIrrigationModel } from '../services/model/index.js';
import type { AppliedWater } from '../services/predictor/applied-water.js';
import { DEFAULT_DECISION_OPTIONS } from '../services/predictor/decision.js';
import type { Evaluation } from '../services/predictor/evaluator.js';
import { fieldKey, profileOf, type FieldSettings } from '../services/predictor/field-profiles.js';
import { identityOf, type ModelHolder } from '../services/predictor/model-holder.js';
import { replay } from '../services/predictor/replay.js';
import type { WindowReading } from '../services/predictor/window-store.js';
import { simulateField } from '../services/simulator/field-run.js';
import { createFieldSpecs } from '../services/simulator/fields.js';
import { sensorReadings } from '../services/simulator/sensors.js';
import { POPULATIONS, profileFromSpec } from '../services/training/dataset.js';

const HOUR = 3_600_000;
const FIELDS = Number(process.env.BENCH_FIELDS ?? 8);
const DAYS = Number(process.env.BENCH_DAYS ?? 60);
const LAG_H = Number(process.env.BENCH_PROBE_LAG_H ?? 0);

const model = await createIrrigationModel({ modelPath: 'models/irrigation/model.onnx', cardPath: 'models/irrigation/model.json' });
const holder: ModelHolder = { start: async () => {}, stop: async () => {}, reload: async () => false, current: () => ({ model, identity: identityOf(model) }) };
const evaluator = { ...DEFAULT_DECISION_OPTIONS, staleAfterMs: 3 * HOUR };

interface Outcome {
  events: number;
  adviceHours: number;
  /** Hours an advice stayed in force after each irrigation applied under it ended. */
  afterWater: number[];
}
const outcomes = { probe: { events: 0, adviceHours: 0, afterWater: [] as number[] }, recorded: { events: 0, adviceHours: 0, afterWater: [] as number[] } };

const specs = createFieldSpecs({ count: FIELDS, seed: 'irrigation-records', population: POPULATIONS.heldOut });
const started = performance.now();
for (const spec of specs) {
  const run = simulateField(spec);
  const p = profileFromSpec(spec);
  const settings: FieldSettings = {
    farm: 'bench', field: spec.seed, crop: spec.crop, kc: spec.cropParams, sowingDate: spec.sowingDate, thetaFc: spec.thetaFc, thetaWp: spec.thetaWp,
    rootDepthM: spec.rootDepthM, p: spec.p, efficiency: 0.75, latitudeDeg: p.latitudeDeg, longitudeDeg: p.longitudeDeg, elevationM: p.elevationM,
    tzLongitudeDeg: p.tzLongitudeDeg, windHeightM: p.windHeightM,
  };
  const field = { key: fieldKey(settings.farm, settings.field), settings, profile: profileOf(settings) };
  const readings: WindowReading[] = sensorReadings(run).map((r) => ({ ts: Date.parse(r.ts), values: { ...r.values } }));
  const hours = Math.min(run.weather.length, DAYS * 24);
  const water: AppliedWater[] = [];
  for (let i = 0; i < hours; i++) {
    if (run.irrigation[i]! > 0) water.push({ id: `w${i}`, startTs: run.weather[i]!.ts, endTs: run.weather[i]!.ts + HOUR, depthMm: run.irrigation[i]! });
  }
  for (const w of LAG_H > 0 ? water : []) {
    const before = readings.filter((r) => r.ts <= w.startTs && r.values.soil_moisture !== undefined).at(-1)?.values.soil_moisture;
    for (const r of readings) if (before !== undefined && r.ts > w.startTs && r.ts <= w.endTs + LAG_H * HOUR && r.values.soil_moisture !== undefined) (r.values as Record<string, number>).soil_moisture = before;
  }
  const fromTs = run.weather[96]!.ts;
  const toTs = run.weather[hours - 1]!.ts;
  for (const [name, withRecords] of [['probe', false], ['recorded', true]] as const) {
    const active: { at: number; advice: boolean }[] = [];
    const summary = await replay([field], { fromTs, toTs }, {
      history: { load: async () => new Map([[field.key, readings]]) },
      ...(withRecords ? { appliedHistory: { load: async () => new Map([[field.key, water]]) } } : {}),
      model: holder,
      evaluator,
      onRound: (evaluations: readonly Evaluation[]) => {
        for (const e of evaluations) active.push({ at: e.at, advice: e.decision.state.advice !== null });
      },
    });
    const o: Outcome = outcomes[name];
    o.events += summary.events['irrigation.recommended'] ?? 0;
    o.adviceHours += active.filter((a) => a.advice).length;
    for (const w of water) {
      const i = active.findIndex((a) => a.at >= w.endTs);
      if (i <= 0 || !active[i - 1]!.advice) continue; // no advice in force when the water went on
      let h = 0;
      while (i + h < active.length && active[i + h]!.advice) h++;
      o.afterWater.push(h);
    }
  }
}
await model.close();

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const row = (name: string, o: Outcome) =>
  `| ${name} | ${o.events} | ${o.adviceHours} | ${o.afterWater.length} | ${median(o.afterWater)} | ${Math.max(...o.afterWater, 0)} |`;
console.log(`${FIELDS} fields × ${DAYS} days, probe lag ${LAG_H} h, hourly replay (${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
console.log('| advice from | irrigation.recommended | hours of advice in force | irrigations under an advice | median h advice stays after the water | max h |');
console.log('|---|---:|---:|---:|---:|---:|');
console.log(row('soil probe alone (baseline)', outcomes.probe));
console.log(row('probe + recorded irrigations', outcomes.recorded));
