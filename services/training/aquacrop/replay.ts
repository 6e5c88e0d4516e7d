/**
 * Advice over AquaCrop seasons from three deciders, hour by hour, in memory and deterministic:
 * fieldhook's own predictor (evaluator, model and decision, as `fieldhook replay` runs them),
 * the naive rule on the soil sensor alone, and the FAO-56 balance run open loop from sowing.
 */
import { cropCoefficient, rootDepthOn } from '../../agronomy/index.js';
import type { ForecastHour } from '../../forecasts/forecast.js';
import type { ForecastReader } from '../../forecasts/store.js';
import { FEATURE_NAMES, FEATURE_WINDOW_HOURS, type IrrigationModel } from '../../model/index.js';
import { faoYesterdayForecast, persistenceForecast } from '../evaluation.js';
import { createAppliedWaterLedger } from '../../predictor/applied-water.js';
import type { DecisionState } from '../../predictor/decision.js';
import { factorsOf, type FieldFactors, type FieldLearningState } from '../../predictor/field-learning.js';
import { evaluateFields, type EvaluatedField, type EvaluatorOptions } from '../../predictor/evaluator.js';
import { createFeatureCache } from '../../predictor/feature-cache.js';
import { profileOf } from '../../predictor/field-profiles.js';
import type { ModelIdentity } from '../../predictor/model-holder.js';
import { createWindowStore } from '../../predictor/window-store.js';
import type { SeasonTrace } from './hourly.js';

const HOUR_MS = 3_600_000;

/** Advice a decider had in force after the evaluation at the end of an hour. */
export interface AdviceSpan {
  issuedAt: number;
  validUntil: number;
}

/** What one decider did over one season, per hour index. */
export interface AdviceTrack {
  adviceAfter: (AdviceSpan | null)[];
  /** Hours at whose end an advice was sent to people. */
  events: number[];
  staleAt: boolean[];
  /** The decider's own depletion now and RAW (its root-zone budget), mm; NaN when it had none. */
  depletionNow: Float64Array;
  raw: Float64Array;
}

/**
 * A 24 h depletion forecast of fieldhook's next to the baselines', mm. fieldhook's and persistence
 * are in the predictor's budget (`raw`, learnt when the field is learnt); the FAO-56 baseline
 * works on the features, in the preset's budget (`faoRaw`, from `faoNow`).
 */
export interface ForecastCase {
  hour: number;
  raw: number;
  /**
   * How the predictor counted the probe's depletion (the preset's budget) for this forecast: times
   * the learnt capacity factor (1 when nothing is applied), clipped to 0–`taw`, its TAW, mm.
   */
  tawFactor: number;
  taw: number;
  model: number;
  persistence: number;
  faoRaw: number;
  faoNow: number;
  faoYesterday: number;
}

/** The probe's depletion (feature `depletion_now_mm`) and RAW in the preset's budget (the predictor's before learnt factors), per hour, mm. */
export interface SensorSeries {
  startTs: number;
  depletion: Float64Array;
  raw: Float64Array;
}

export interface PredictorRun {
  tracks: AdviceTrack[];
  sensor: SensorSeries[];
  /** Per season: every 6th hour's forecasts (scored where no irrigation falls in the next 24 h). */
  forecasts: ForecastCase[][];
  /** Per season: what the field had learnt from its dry days by the end (null with learning off). */
  learnt: (FieldFactors | null)[];
}

export interface PredictorRunOptions {
  /** The farmer records AquaCrop's irrigations (fieldhook's irrigation records). Default true. */
  irrigationRecords: boolean;
  /** The record's rain and ET0 of the coming hours as the field's weather forecast. Default false. */
  perfectForecast: boolean;
  /**
   * Learn each field's capacity and crop factor from its dry days, as the live predictor does by
   * default (evaluator option `learnField`). Default true.
   */
  learnField: boolean;
}

function emptyTrack(hours: number): AdviceTrack {
  return {
    adviceAfter: new Array<AdviceSpan | null>(hours).fill(null),
    events: [],
    staleAt: new Array<boolean>(hours).fill(false),
    depletionNow: new Float64Array(hours).fill(Number.NaN),
    raw: new Float64Array(hours).fill(Number.NaN),
  };
}

/** The coming weather as a perfect forecast: what the climate record says will happen. */
function perfectForecastOf(traces: readonly SeasonTrace[]): ForecastReader {
  const byField = new Map(traces.map((t) => [t.settings.field, t]));
  return {
    hours(_farm, field, fromTs, toTs) {
      const t = byField.get(field);
      if (!t) return [];
      const out: ForecastHour[] = [];
      const first = Math.max(0, Math.ceil((fromTs - t.startTs) / HOUR_MS));
      for (let k = first; k < t.hours; k++) {
        const ts = t.startTs + (k + 1) * HOUR_MS;
        if (ts > toTs) break;
        if (ts > fromTs) out.push({ ts, rainMm: t.rain[k]!, et0Mm: t.readings[k]!.values.et0! });
      }
      return out;
    },
  };
}

/** fieldhook's predictor over the seasons: one batched inference per hour for the fields sharing it. */
export async function runPredictor(
  traces: readonly SeasonTrace[],
  model: IrrigationModel,
  identity: ModelIdentity,
  evaluator: EvaluatorOptions,
  options: Partial<PredictorRunOptions> = {},
): Promise<PredictorRun> {
  const o: PredictorRunOptions = { irrigationRecords: true, perfectForecast: false, learnField: true, ...options };
  const learning = new Map<string, FieldLearningState>();
  const windows = createWindowStore({ keepHours: Number.POSITIVE_INFINITY });
  const applied = createAppliedWaterLedger({ keepMs: Number.POSITIVE_INFINITY });
  const fields: EvaluatedField[] = traces.map((t) => {
    const key = `${t.settings.farm}/${t.settings.field}`;
    windows.apply(key, t.readings.map((r, k) => ({ ts: r.ts, values: r.values, correlationId: `${t.settings.field}-${k}` })));
    if (o.irrigationRecords) applied.add(key, t.irrigations);
    return { key, settings: t.settings, profile: profileOf(t.settings) };
  });
  const forecasts = o.perfectForecast ? perfectForecastOf(traces) : undefined;
  const tracks = traces.map((t) => emptyTrack(t.hours));
  const cases: ForecastCase[][] = traces.map(() => []);
  const sensor: SensorSeries[] = traces.map((t) => ({ startTs: t.startTs, depletion: new Float64Array(t.hours).fill(Number.NaN), raw: new Float64Array(t.hours).fill(Number.NaN) }));
  const states = new Map<string, DecisionState>();
  const cache = createFeatureCache();
  // Seasons of one site and year share their hours: evaluate those together, as the live predictor does.
  const byTime = new Map<number, number[]>();
  traces.forEach((t, s) => {
    for (let i = FEATURE_WINDOW_HOURS - 1; i < t.hours; i++) {
      const ts = t.startTs + (i + 1) * HOUR_MS;
      const list = byTime.get(ts);
      if (list) list.push(s);
      else byTime.set(ts, [s]);
    }
  });
  for (const ts of [...byTime.keys()].sort((a, b) => a - b)) {
    const group = byTime.get(ts)!;
    const evaluations = await evaluateFields(group.map((s) => fields[s]!), ts, {
      windows, states, model, identity, cache, ...(o.irrigationRecords ? { applied } : {}), ...(forecasts ? { forecasts } : {}),
      ...(o.learnField ? { learning } : {}),
    }, { ...evaluator, learnField: o.learnField });
    evaluations.forEach((e, k) => {
      const s = group[k]!;
      const t = traces[s]!;
      const i = Math.round((ts - t.startTs) / HOUR_MS) - 1;
      const track = tracks[s]!;
      states.set(e.key, e.decision.state);
      if (e.learning) learning.set(e.key, e.learning);
      const advice = e.decision.state.advice;
      track.adviceAfter[i] = advice ? { issuedAt: advice.issuedAt, validUntil: advice.validUntil } : null;
      if (e.decision.event === 'irrigation.recommended') track.events.push(i);
      track.staleAt[i] = e.assessment.kind === 'stale';
      const f = e.provenance.features;
      if (e.prediction && f) {
        track.depletionNow[i] = e.prediction.depletionNowMm;
        track.raw[i] = e.prediction.rawMm;
        if ((i + 1) % 6 === 0) {
          const features = Float64Array.from(FEATURE_NAMES.map((n) => f[n] ?? Number.NaN));
          cases[s]!.push({
            hour: i,
            raw: e.prediction.rawMm,
            tawFactor: e.provenance.field_learning?.taw_factor ?? 1,
            taw: e.prediction.tawMm,
            model: e.prediction.depletion24hMm,
            persistence: e.prediction.depletionNowMm,
            faoRaw: f.raw_mm ?? Number.NaN,
            faoNow: persistenceForecast(features).d24,
            faoYesterday: faoYesterdayForecast(features).d24,
          });
        }
      }
      if (f) sensor[s]!.depletion[i] = f.depletion_now_mm ?? Number.NaN;
      if (f) sensor[s]!.raw[i] = f.raw_mm ?? Number.NaN;
    });
  }
  const learnt = fields.map((f) => {
    const state = learning.get(f.key);
    return state ? factorsOf(state, f.profile.tzLongitudeDeg) : null;
  });
  return { tracks, forecasts: cases, sensor, learnt };
}

/** Hysteresis of the naive rule, fractions of RAW. */
export const NAIVE_ON = 0.8;
export const NAIVE_OFF = 0.5;

/**
 * The naive rule on the soil sensor alone: advise when the probe's depletion (the predictor's
 * own `depletion_now_mm`, so the same root-zone budget) reaches 0.8 RAW, withdraw at 0.5 RAW.
 * No weather, no model, no validity: advice holds until withdrawn.
 */
export function naiveTrack(sensor: SensorSeries): AdviceTrack {
  const hours = sensor.depletion.length;
  const track = emptyTrack(hours);
  let on: AdviceSpan | null = null;
  for (let i = 0; i < hours; i++) {
    const d = sensor.depletion[i]!;
    const raw = sensor.raw[i]!;
    if (Number.isFinite(d) && Number.isFinite(raw)) {
      track.depletionNow[i] = d;
      track.raw[i] = raw;
      if (!on && d >= NAIVE_ON * raw) {
        on = { issuedAt: sensor.startTs + (i + 1) * HOUR_MS, validUntil: Number.POSITIVE_INFINITY };
        track.events.push(i);
      } else if (on && d <= NAIVE_OFF * raw) on = null;
    } else track.staleAt[i] = true;
    track.adviceAfter[i] = on;
  }
  return track;
}

/**
 * The FAO-56 balance open loop (Chapter 8, hourly): from field capacity at sowing, the climate
 * file's ET0 times the preset's Kc (with Ks above RAW), minus rain and recorded irrigation, on the
 * preset's root-zone budget; no sensor. Advises when yesterday's ETc repeated would take it to
 * RAW within 24 h, withdraws below 0.5 RAW.
 */
export function openLoopTrack(trace: SeasonTrace): AdviceTrack {
  const profile = profileOf(trace.settings);
  const track = emptyTrack(trace.hours);
  let d = 0;
  let on: AdviceSpan | null = null;
  const etcHours: number[] = [];
  for (let i = 0; i < trace.hours; i++) {
    const dap = Math.floor(i / 24);
    const zr = rootDepthOn(profile.crop.stageDays, profile.rootDepthMinM ?? profile.rootDepthM, profile.rootDepthM, dap);
    const taw = 1000 * (profile.thetaFc - profile.thetaWp) * zr;
    const raw = profile.p * taw;
    const kc = cropCoefficient(profile.crop, dap);
    const ks = d > raw ? Math.max(0, (taw - d) / (taw - raw)) : 1;
    const etc = ks * kc * trace.readings[i]!.values.et0!;
    etcHours.push(kc * trace.readings[i]!.values.et0!);
    d = Math.min(taw, Math.max(0, d + etc - trace.rain[i]! - trace.irrigation[i]!));
    const last24 = etcHours.slice(-24).reduce((a, b) => a + b, 0);
    track.depletionNow[i] = d;
    track.raw[i] = raw;
    if (!on && d + last24 >= raw) {
      on = { issuedAt: trace.startTs + (i + 1) * HOUR_MS, validUntil: Number.POSITIVE_INFINITY };
      track.events.push(i);
    } else if (on && d <= NAIVE_OFF * raw) on = null;
    track.adviceAfter[i] = on;
  }
  return track;
}
