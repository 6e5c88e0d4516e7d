/**
 * Decision quality over whole simulated seasons: the predictor's evaluator and decision, fed
 * each simulated field's noisy sensor readings hour by hour, scored against the simulator's
 * FAO-56 truth. No InfluxDB or broker: the same code paths, in memory, deterministic per seed.
 */
import { FEATURE_WINDOW_HOURS, type IrrigationModel } from '../model/index.js';
import type { DecisionState } from '../predictor/decision.js';
import { evaluateFields, type EvaluatedField, type EvaluatorOptions } from '../predictor/evaluator.js';
import { factorsOf, type FieldFactors, type FieldLearningState } from '../predictor/field-learning.js';
import { createFeatureCache } from '../predictor/feature-cache.js';
import { seasonEndTs } from '../predictor/field-profiles.js';
import type { ModelIdentity } from '../predictor/model-holder.js';
import { createWindowStore } from '../predictor/window-store.js';
import { hoursToRawAhead, simulateField, type FieldRun } from '../simulator/field-run.js';
import { createFieldSpecs } from '../simulator/fields.js';
import { sensorReadings } from '../simulator/sensors.js';
import { POPULATIONS, profileFromSpec } from './dataset.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

export interface QualityOptions {
  /** Simulated fields (held-out climates, soils and crops). Default 24. */
  fields: number;
  seed: number | string;
  /** An advice is a false alarm when RAW is not reached within the horizon plus this slack, h. Default 24. */
  falseAlarmSlackH: number;
  /**
   * The root depth the predictor is told, as a fraction of the simulated field's true one. Default 1.
   * Below 1 it is the profile of a field whose roots reach deeper than its preset (a 1.2 m profile
   * on 2 m roots is 0.6): what learning the field from its trace is for.
   */
  profileRootDepthFactor: number;
}

export const DEFAULT_QUALITY_OPTIONS: QualityOptions = { fields: 24, seed: 'quality', falseAlarmSlackH: 24, profileRootDepthFactor: 1 };

export interface QualityReport {
  fields: number;
  fieldDays: number;
  evaluations: number;
  /** Local days on which the true depletion exceeded RAW (after the first 72 h of each field). */
  daysNeedingWater: number;
  /** Of those, days with advice in force before the first hour above RAW. */
  daysAdvisedInTime: number;
  /** Of the missed days, those on which the field was stale (sensor gap) when RAW was crossed. */
  missedWhileStale: number;
  hitRate: number;
  advices: number;
  /** Advice after which the true no-irrigation depletion did not reach RAW within horizon + slack. */
  falseAlarms: number;
  falseAlarmRate: number;
  clearances: number;
  staleEvents: number;
  /** Median and 10th percentile of hours from advice to the RAW crossing it covered. */
  leadTimeMedianH: number;
  leadTimeP10H: number;
  /** What each field learnt from its dry days by the end of its season (with learning on). */
  learnt: (FieldFactors & { field: string })[];
}

interface Sim {
  run: FieldRun;
  field: EvaluatedField;
  tzOffsetMs: number;
  /** state.advice after the evaluation at the end of hour i. */
  adviceAfter: (DecisionState['advice'])[];
  staleAt: boolean[];
}

function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

/** Run the seasons and score them. */
export async function runQualityReport(
  model: IrrigationModel,
  identity: ModelIdentity,
  evaluator: EvaluatorOptions,
  options: Partial<QualityOptions> = {},
): Promise<QualityReport> {
  const o = { ...DEFAULT_QUALITY_OPTIONS, ...options };
  const specs = createFieldSpecs({ count: o.fields, seed: o.seed, population: POPULATIONS.heldOut, idPrefix: 'q' });
  const windows = createWindowStore({ keepHours: Number.POSITIVE_INFINITY });
  const sims: Sim[] = specs.map((spec) => {
    const run = simulateField(spec);
    const told = profileFromSpec(spec);
    const profile = o.profileRootDepthFactor === 1 ? told : { ...told, rootDepthM: told.rootDepthM * o.profileRootDepthFactor };
    const key = `sim/${spec.id}`;
    windows.apply(key, sensorReadings(run).map((r) => ({ ts: Date.parse(r.ts), values: r.values, correlationId: `${spec.id}-${r.id}` })));
    return {
      run,
      field: {
        key,
        profile,
        settings: {
          farm: 'sim', field: spec.id, crop: spec.crop, sowingDate: spec.sowingDate, thetaFc: spec.thetaFc, thetaWp: spec.thetaWp,
          efficiency: 0.85, latitudeDeg: profile.latitudeDeg, longitudeDeg: profile.longitudeDeg, elevationM: profile.elevationM,
        },
      },
      tzOffsetMs: (profile.tzLongitudeDeg / 15) * HOUR_MS,
      adviceAfter: new Array<DecisionState['advice']>(run.weather.length).fill(null),
      staleAt: new Array<boolean>(run.weather.length).fill(false),
    };
  });

  const states = new Map<string, DecisionState>();
  const learning = new Map<string, FieldLearningState>();
  const cache = createFeatureCache();
  const report: QualityReport = {
    fields: sims.length, fieldDays: 0, evaluations: 0, daysNeedingWater: 0, daysAdvisedInTime: 0, missedWhileStale: 0, hitRate: 0,
    advices: 0, falseAlarms: 0, falseAlarmRate: 0, clearances: 0, staleEvents: 0, leadTimeMedianH: 0, leadTimeP10H: 0, learnt: [],
  };
  // Fields run on their own calendars; step every field through its hour index together so
  // each round is one batched inference, as in the live predictor.
  const longest = Math.max(...sims.map((s) => s.run.weather.length));
  for (let i = FEATURE_WINDOW_HOURS - 1; i < longest; i++) {
    const active = sims.filter((s) => i < s.run.weather.length);
    const byTime = new Map<number, Sim[]>();
    for (const s of active) {
      const t = s.run.weather[i]!.ts + HOUR_MS;
      byTime.set(t, [...(byTime.get(t) ?? []), s]);
    }
    for (const [t, group] of byTime) {
      const evaluations = await evaluateFields(group.map((s) => s.field), t, { windows, states, model, identity, cache, learning }, evaluator);
      evaluations.forEach((e, k) => {
        const s = group[k]!;
        states.set(e.key, e.decision.state);
        if (e.learning) learning.set(e.key, e.learning);
        report.evaluations++;
        s.adviceAfter[i] = e.decision.state.advice;
        s.staleAt[i] = e.assessment.kind === 'stale';
        if (e.decision.event === 'irrigation.recommended') {
          report.advices++;
          if (hoursToRawAhead(s.run, i, evaluator.horizonH + o.falseAlarmSlackH) === null) report.falseAlarms++;
        } else if (e.decision.event === 'irrigation.cleared') report.clearances++;
        else if (e.decision.event === 'sensor.stale') report.staleEvents++;
      });
    }
  }

  const leads: number[] = [];
  for (const s of sims) {
    const { run } = s;
    report.fieldDays += run.weather.length / 24;
    const seen = new Set<number>();
    // The simulated run goes on a few days past the crop's season; a field with no crop needs no water.
    const seasonEnd = seasonEndTs(s.field.settings, s.field.profile);
    for (let i = FEATURE_WINDOW_HOURS; i < run.weather.length; i++) {
      if (run.depletion[i]! < run.raw) continue;
      const endOfHour = run.weather[i]!.ts + HOUR_MS;
      if (endOfHour - HOUR_MS >= seasonEnd) break;
      const day = Math.floor((endOfHour - 1 + s.tzOffsetMs) / DAY_MS);
      if (seen.has(day)) continue;
      seen.add(day);
      report.daysNeedingWater++;
      // In force at the evaluation one hour before the crossing: advice came before RAW.
      const advice = s.adviceAfter[i - 1];
      if (advice && advice.validUntil >= endOfHour - HOUR_MS) {
        report.daysAdvisedInTime++;
        leads.push((endOfHour - advice.issuedAt) / HOUR_MS);
      } else if (s.staleAt[i - 1]) {
        report.missedWhileStale++;
      }
    }
  }
  report.fieldDays = Math.round(report.fieldDays);
  report.hitRate = report.daysNeedingWater ? report.daysAdvisedInTime / report.daysNeedingWater : 1;
  report.falseAlarmRate = report.advices ? report.falseAlarms / report.advices : 0;
  report.leadTimeMedianH = quantile(leads, 0.5);
  report.leadTimeP10H = quantile(leads, 0.1);
  for (const s of sims) {
    const state = learning.get(s.field.key);
    if (state) report.learnt.push({ field: s.field.settings.field, ...factorsOf(state, s.field.profile.tzLongitudeDeg) });
  }
  return report;
}

/** The report as a Markdown table (the command prints it; docs/predictor.md quotes it). */
export function formatQualityReport(r: QualityReport, identity: ModelIdentity): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  return [
    `Decision quality: ${identity.name} ${identity.version} (sha256 ${identity.sha256.slice(0, 12)}…), ${r.fields} simulated held-out fields, ${r.fieldDays} field-days, ${r.evaluations} hourly evaluations`,
    '',
    '| measure | value |',
    '|---|---|',
    `| days needing water (depletion > RAW) | ${r.daysNeedingWater} |`,
    `| advised before RAW was exceeded | ${r.daysAdvisedInTime} (**${pct(r.hitRate)}**) |`,
    `| missed while the field was stale | ${r.missedWhileStale} |`,
    `| advice events (irrigation.recommended) | ${r.advices} |`,
    `| false alarms (RAW not reached within horizon + slack) | ${r.falseAlarms} (${pct(r.falseAlarmRate)}) |`,
    `| irrigation.cleared / sensor.stale events | ${r.clearances} / ${r.staleEvents} |`,
    `| lead time advice → RAW, median / 10th percentile | ${r.leadTimeMedianH.toFixed(1)} h / ${r.leadTimeP10H.toFixed(1)} h |`,
  ].join('\n');
}
