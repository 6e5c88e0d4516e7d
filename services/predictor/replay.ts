/**
 * Re-run predictions over stored history (after a model update or a back-fill): readings come
 * from InfluxDB, the decision starts from a clean state at `from` and steps hourly to `to`;
 * points are written as if live, events are only published when asked.
 */
import type { PublishInput } from '../shared/bus/payloads.js';
import { FEATURE_WINDOW_HOURS } from '../model/index.js';
import type { DecisionState } from './decision.js';
import { createAppliedWaterLedger, type AppliedWaterLedger } from './applied-water.js';
import type { AppliedWaterLoader } from './applied-water-source.js';
import { evaluateFields, type EvaluatedField, type Evaluation, type EvaluatorOptions } from './evaluator.js';
import type { FieldLearningState } from './field-learning.js';
import type { HistoryLoader } from './history-loader.js';
import type { ModelHolder } from './model-holder.js';
import type { RecommendationWriter } from './outputs.js';
import { eventsOf } from './outputs.js';
import { createFeatureCache } from './feature-cache.js';
import { createWindowStore } from './window-store.js';
import { Errors } from '../shared/error-catalog.js';

const HOUR_MS = 3_600_000;
/** Longest replay in one call: a season and a bit. */
const MAX_REPLAY_HOURS = 400 * 24;
/** Longest irrigation a record may span (services/irrigations/record.ts), ms. */
const MAX_IRRIGATION_SPAN_MS = 7 * 24 * HOUR_MS;

export interface ReplayOptions {
  fromTs: number;
  toTs: number;
  /** Step between evaluations, ms. Default 1 h. */
  stepMs?: number;
  /** Publish the events too (re-send webhooks). Default false. */
  send?: boolean;
}

export interface ReplaySummary {
  fields: number;
  evaluations: number;
  events: Record<string, number>;
  published: number;
}

export async function replay(
  fields: readonly EvaluatedField[],
  options: ReplayOptions,
  deps: {
    history: HistoryLoader;
    /** Recorded irrigations (InfluxDB `irrigation`); without it the replay sees only what the probe saw. */
    appliedHistory?: AppliedWaterLoader;
    model: ModelHolder;
    writer?: RecommendationWriter;
    publish?: (e: PublishInput) => Promise<unknown>;
    evaluator: EvaluatorOptions;
    /** Called with every round's evaluations (quality reports, tests). */
    onRound?: (evaluations: readonly Evaluation[]) => void;
  },
): Promise<ReplaySummary> {
  const step = options.stepMs ?? HOUR_MS;
  if (!(options.toTs > options.fromTs) || (options.toTs - options.fromTs) / HOUR_MS > MAX_REPLAY_HOURS || step < 60_000) {
    throw Errors.predictInvalidRange(`Replay needs from < to, at most ${MAX_REPLAY_HOURS / 24} days, steps of at least a minute`);
  }
  const windows = createWindowStore({ keepHours: Number.POSITIVE_INFINITY });
  const loaded = await deps.history.load(options.fromTs - (FEATURE_WINDOW_HOURS + 1) * HOUR_MS, options.toTs, fields.map((f) => f.settings));
  for (const [key, readings] of loaded) windows.apply(key, readings);
  const applied = createAppliedWaterLedger({ keepMs: Number.POSITIVE_INFINITY });
  if (deps.appliedHistory) {
    // Water that ended before the window or starts after `to` cannot matter; one running across `to` can.
    const loadedWater = await deps.appliedHistory.load(options.fromTs - (FEATURE_WINDOW_HOURS + 1) * HOUR_MS, options.toTs + MAX_IRRIGATION_SPAN_MS, fields.map((f) => f.settings));
    for (const [key, items] of loadedWater) applied.add(key, items);
  }
  const states = new Map<string, DecisionState>();
  // Its events are not the live pipeline's, nor another range's: the same replay again is the same events.
  const eventScope = `replay:${options.fromTs}:${step}`;
  // Like the decisions, what a field learns from its dry days starts afresh and grows through the range.
  const learning = new Map<string, FieldLearningState>();
  const cache = createFeatureCache();
  const summary: ReplaySummary = { fields: fields.length, evaluations: 0, events: {}, published: 0 };
  for (let t = options.fromTs; t <= options.toTs; t += step) {
    // Windows keep the whole range; the evaluator only looks at the 72 h before t, so no
    // reading from after t can leak into a replayed decision.
    const { model, identity } = deps.model.current();
    const evaluations = await evaluateFields(fields, t, { windows, states, learning, model, identity, cache, applied: recordedBy(applied, t), eventScope }, deps.evaluator);
    await deps.writer?.write(evaluations);
    for (const e of evaluations) {
      states.set(e.key, e.decision.state);
      if (e.learning) learning.set(e.key, e.learning);
      summary.evaluations++;
      for (const event of eventsOf(e)) {
        summary.events[event.type] = (summary.events[event.type] ?? 0) + 1;
        if (options.send && deps.publish) {
          await deps.publish(event);
          summary.published++;
        }
      }
    }
    deps.onRound?.(evaluations);
  }
  return summary;
}

/**
 * The records as they stood at `t`: one made later (water entered afterwards, from memory) was
 * not known to the live pipeline then, so the replay does not credit it either. A record with no
 * recording time (written before it was kept) counts as known.
 */
function recordedBy(ledger: AppliedWaterLedger, t: number): AppliedWaterLedger {
  return { add: (key, items) => ledger.add(key, items), get: (key) => ledger.get(key).filter((r) => r.recordedTs === undefined || r.recordedTs <= t) };
}
