import type { PublishInput } from '../shared/bus/payloads.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import type { AppliedWaterLedger } from './applied-water.js';
import type { ForecastReader } from '../forecasts/store.js';
import type { DecisionState } from './decision.js';
import { evaluateFields, type EvaluatedField, type Evaluation, type EvaluatorOptions } from './evaluator.js';
import type { FeatureCache } from './feature-cache.js';
import type { FieldLearningState } from './field-learning.js';
import type { PredictorMetrics } from './metrics.js';
import type { RoundTrigger } from './scheduler.js';
import type { ModelHolder } from './model-holder.js';
import { eventsOf, type RecommendationWriter } from './outputs.js';
import type { DecisionStateRepository, FieldEntry, FieldLearningRepository } from './predictor-store.js';
import type { WindowStore } from './window-store.js';

export interface RoundDeps {
  windows: WindowStore;
  cache: FeatureCache;
  /** Recorded irrigations per field (credited until the probe shows them). */
  applied?: AppliedWaterLedger;
  /** The weather ahead per field (advice holds for expected rain). */
  forecasts?: ForecastReader;
  model: ModelHolder;
  /** Decision state of every field, as last saved. */
  states: Map<string, DecisionState>;
  statesRepo: DecisionStateRepository;
  /** What each field has learnt from its dry days, and where it is kept across restarts. */
  learning?: Map<string, FieldLearningState>;
  learningRepo?: FieldLearningRepository;
  /**
   * States (and learning) applied here whose save failed (database unreachable): memory is
   * ahead of the store, and they are saved again with the next round (or {@link saveUnsaved}),
   * so a field handed over later does not come back to a state that says its advice was never sent.
   */
  unsaved: { states: Map<string, FieldEntry<DecisionState>>; learning: Map<string, FieldEntry<FieldLearningState>> };
  writer: RecommendationWriter;
  /** Hand an event to the dispatcher; resolves once it is durable. */
  publish(event: PublishInput): Promise<unknown>;
  metrics?: PredictorMetrics;
  /**
   * Whether an event for the field may go out now (partition-membership.ts: its lease is this
   * instance's with a margin to spare); a field that may not is left as it was. Default: always.
   */
  mayPublish?(key: string): boolean;
  clock: Clock;
  logger: Logger;
}

/**
 * One round over some fields: evaluate, write a `recommendation` point per evaluation, publish
 * the events, then save the decision states that changed. The order is the guarantee: an event
 * is durable downstream before the state that says it was sent, so a crash in between re-publishes
 * (with the same id, which the dispatcher accepts once) rather than forgets. `trigger`: why the
 * round runs (a `readings` round declares no field stale, see evaluateFields).
 */
export async function runRound(fields: readonly EvaluatedField[], deps: RoundDeps, options: EvaluatorOptions, trigger: RoundTrigger = 'explicit'): Promise<Evaluation[]> {
  if (fields.length === 0) return [];
  const { states, metrics, logger } = deps;
  const end = metrics?.roundTimer();
  const { model, identity } = deps.model.current();
  const evaluations = await evaluateFields(fields, deps.clock.now(), { windows: deps.windows, states, model, identity, cache: deps.cache, ...(deps.learning ? { learning: deps.learning } : {}), ...(deps.applied ? { applied: deps.applied } : {}), ...(deps.forecasts ? { forecasts: deps.forecasts } : {}) }, options, trigger);
  // Points are the record of every evaluation; a failed write must not hold back advice.
  const written = deps.writer.write(evaluations).catch((err: unknown) => logger.warn({ err }, 'recommendation points not written'));
  const changed: { farm: string; field: string; state: DecisionState }[] = [];
  await Promise.all(
    evaluations.map(async (e) => {
      metrics?.evaluated(e.assessment.kind);
      if (deps.mayPublish && !deps.mayPublish(e.key)) {
        // Its partition's lease is running out: the next holder decides from the state saved last.
        logger.warn({ field: e.key }, 'field not decided: its partition lease is not this instance\'s to spare');
        return;
      }
      for (const event of eventsOf(e)) {
        try {
          await deps.publish(event);
        } catch (err) {
          // State not advanced: the next round decides again from it and re-publishes with the same id.
          logger.error({ err, field: e.key, type: event.type }, 'event not published; will retry next round');
          return;
        }
        metrics?.published(event.type);
        logger.info({ field: e.key, type: event.type, id: event.id, reason: event.data.reason, correlationId: e.correlationId }, 'predictor event');
      }
      if (e.decision.state !== states.get(e.key)) {
        states.set(e.key, e.decision.state);
        changed.push({ farm: e.farm, field: e.field, state: e.decision.state });
      }
    }),
  );
  // A field looks at a day once: what it learnt is kept, so a restart neither forgets nor counts it twice.
  const learnt = deps.learning ? evaluations.filter((e) => e.learning && e.learning !== deps.learning!.get(e.key) && (deps.mayPublish?.(e.key) ?? true)) : [];
  for (const e of learnt) deps.learning!.set(e.key, e.learning!);
  try {
    await saveUnsaved(deps, changed, learnt.map((e) => ({ farm: e.farm, field: e.field, state: e.learning! })));
  } finally {
    await written;
  }
  end?.();
  return evaluations;
}

/**
 * Save `states` and `learnt` together with what earlier rounds could not save. Entries refused
 * by the fence (another instance holds the field's partition now: its state there wins) are
 * dropped from memory; on a failure every entry stays in `unsaved` and the error is thrown.
 */
export async function saveUnsaved(
  deps: Pick<RoundDeps, 'states' | 'statesRepo' | 'learning' | 'learningRepo' | 'unsaved' | 'logger'>,
  states: readonly FieldEntry<DecisionState>[] = [],
  learnt: readonly FieldEntry<FieldLearningState>[] = [],
): Promise<void> {
  const [savedStates, savedLearning] = await Promise.allSettled([
    saveAlong(deps.unsaved.states, states, (batch) => deps.statesRepo.saveMany(batch)),
    deps.learningRepo ? saveAlong(deps.unsaved.learning, learnt, (batch) => deps.learningRepo!.saveMany(batch)) : Promise.resolve([]),
  ]);
  if (savedStates.status === 'fulfilled') {
    for (const key of savedStates.value) {
      deps.states.delete(key);
      deps.logger.error({ field: key }, 'decision state refused: the field\'s partition was taken over by another predictor');
    }
  }
  if (savedLearning.status === 'fulfilled') {
    for (const key of savedLearning.value) {
      deps.learning?.delete(key);
      deps.logger.error({ field: key }, 'field learning refused: the field\'s partition was taken over by another predictor');
    }
  }
  for (const result of [savedStates, savedLearning]) {
    if (result.status === 'rejected') {
      deps.logger.error({ err: result.reason }, 'predictor state not saved; kept here and saved again with the next round');
      throw result.reason;
    }
  }
}

/** Save `entries` and the earlier `unsaved` in one batch; returns the keys refused. Kept in `unsaved` unless saved or refused. */
async function saveAlong<S>(unsaved: Map<string, FieldEntry<S>>, entries: readonly FieldEntry<S>[], saveMany: (batch: FieldEntry<S>[]) => Promise<string[] | void>): Promise<string[]> {
  for (const e of entries) unsaved.set(`${e.farm}/${e.field}`, e);
  if (unsaved.size === 0) return [];
  const batch = [...unsaved.entries()];
  const refused = (await saveMany(batch.map(([, e]) => e))) ?? [];
  // An entry replaced meanwhile (a later round) stays for its own save.
  for (const [key, e] of batch) if (unsaved.get(key) === e) unsaved.delete(key);
  return refused;
}
