/**
 * The predictor: follows every field's readings (bus), rebuilds windows from InfluxDB at start,
 * evaluates fields in batches on new readings and on a schedule, and turns decisions into
 * `recommendation` points and events. Built, not started: `start()` connects.
 */
import { join } from 'node:path';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { PublishInput, PublishResult } from '../dispatcher/index.js';
import { FEATURE_WINDOW_HOURS } from '../model/index.js';
import { createInfluxClient, type InfluxTarget } from '../shared/influx.js';
import type { Logger } from '../shared/logger.js';
import type { PredictConfig } from './config.js';
import { DEFAULT_DECISION_OPTIONS, type DecisionState } from './decision.js';
import { PredictConfigInvalid, PredictNotStarted } from './errors.js';
import { evaluateFields, type EvaluatedField, type Evaluation, type EvaluatorOptions } from './evaluator.js';
import { createFeatureCache } from './feature-cache.js';
import { fieldKey, profileOf, type FieldProfileRepository, type FieldSettings } from './field-profiles.js';
import { createHistoryLoader, type HistoryLoader } from './history-loader.js';
import { createModelHolder, type ModelHolder } from './model-holder.js';
import { resolveModelPath } from './model-path.js';
import { ownsField, partitionGroup, type Partitioning } from './partition.js';
import { createRecommendationWriter, eventOf, type RecommendationWriter } from './outputs.js';
import { createPredictorBusConsumer, type PredictorBusConsumer, type PredictorBusOptions } from './bus-consumer.js';
import { createSqliteDecisionStates, createSqliteFieldProfiles, openPredictorDb, type DecisionStateRepository } from './sqlite-predictor-store.js';
import { createWindowStore, type WindowReading, type WindowStore } from './window-store.js';

const HOUR_MS = 3_600_000;

export interface PredictorClock {
  /** Epoch ms. */
  now(): number;
}

export interface BuildPredictorOptions {
  config: PredictConfig & { DATA_DIR: string };
  logger: Logger;
  /** Metrics registry (prom-client). */
  registry?: Registry;
  influx: InfluxTarget;
  /** Hand an event to the dispatcher; resolves once it is durable. */
  publish(event: PublishInput): Promise<PublishResult>;
  /** Where readings arrive; without it the predictor only evaluates on schedule and on demand. */
  bus?: Omit<PredictorBusOptions, 'clientId'> & { clientId?: string };
  clock?: PredictorClock;
  /** Defaults: SQLite in `<DATA_DIR>/predictor.db`. */
  fields?: FieldProfileRepository;
  states?: DecisionStateRepository;
  /** Defaults to InfluxQL over `/query` on `influx`. */
  history?: HistoryLoader;
  writer?: RecommendationWriter;
  model?: ModelHolder;
  /**
   * `passive` loads the model, fields, states and windows but neither subscribes, schedules nor
   * evaluates on its own: for `fieldhook predict`, which must not publish. Default `live`.
   */
  mode?: 'live' | 'passive';
}

export interface Predictor {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Evaluate now: the given fields (keys `farm/field`) or all; applies decisions and outputs. */
  evaluate(keys?: readonly string[]): Promise<Evaluation[]>;
  /** The current assessment of one field without publishing or changing state. */
  assess(farm: string, field: string): Promise<Evaluation | undefined>;
  /** Apply readings as if from the bus (tests, benches, in-process producers). */
  ingest(key: string, readings: WindowReading[]): void;
  /** Re-read field profiles (after `fieldhook fields add|update`). */
  reloadFields(): Promise<void>;
  readonly windows: WindowStore;
  readonly modelHolder: ModelHolder;
  /** Resolves when every evaluation scheduled so far has finished (tests). */
  idle(): Promise<void>;
}

export function evaluatorOptionsOf(config: PredictConfig): EvaluatorOptions {
  return {
    ...DEFAULT_DECISION_OPTIONS,
    horizonH: config.PREDICT_HORIZON_H,
    clearFraction: config.PREDICT_CLEAR_FRACTION,
    cooldownMs: config.PREDICT_COOLDOWN_MS,
    validityMs: config.PREDICT_ADVICE_VALIDITY_MS,
    staleAfterMs: config.PREDICT_STALE_AFTER_MS,
  };
}

export function buildPredictor(options: BuildPredictorOptions): Predictor {
  const { config } = options;
  const partitioning: Partitioning = { partitions: config.PREDICT_PARTITIONS, partition: config.PREDICT_PARTITION };
  if (partitioning.partition >= partitioning.partitions) {
    throw PredictConfigInvalid(`FIELDHOOK_PREDICT_PARTITION must be below FIELDHOOK_PREDICT_PARTITIONS (${partitioning.partitions})`);
  }
  const logger = options.logger.child({ service: 'predictor', partition: `${partitioning.partition}/${partitioning.partitions}` });
  const clock = options.clock ?? { now: () => Date.now() };
  const db = options.fields && options.states ? undefined : openPredictorDb(join(config.DATA_DIR, 'predictor.db'));
  const fieldsRepo = options.fields ?? createSqliteFieldProfiles(db!);
  const statesRepo = options.states ?? createSqliteDecisionStates(db!);
  const history = options.history ?? createHistoryLoader(options.influx);
  const writer = options.writer ?? createRecommendationWriter(createInfluxClient(options.influx), options.influx.org, options.influx.bucket);
  const modelHolder =
    options.model ??
    createModelHolder(
      { modelPath: resolveModelPath(config.PREDICT_MODEL_PATH), cardPath: resolveModelPath(config.PREDICT_MODEL_CARD_PATH), pollMs: config.PREDICT_MODEL_POLL_MS },
      logger,
    );
  const evalOptions = evaluatorOptionsOf(config);
  const windows = createWindowStore();
  const cache = createFeatureCache();
  let states = new Map<string, DecisionState>();
  let fields = new Map<string, EvaluatedField>();
  let bus: PredictorBusConsumer | undefined;
  let timer: NodeJS.Timeout | undefined;
  let debounce: NodeJS.Timeout | undefined;
  let started = false;
  const dirty = new Set<string>();
  let chain: Promise<unknown> = Promise.resolve();

  const metrics = options.registry
    ? {
        evaluations: new Counter({ name: 'fieldhook_predict_evaluations_total', help: 'Field evaluations', labelNames: ['outcome'], registers: [options.registry] }),
        events: new Counter({ name: 'fieldhook_predict_events_total', help: 'Events published by the predictor', labelNames: ['type'], registers: [options.registry] }),
        roundSeconds: new Histogram({ name: 'fieldhook_predict_round_seconds', help: 'Duration of one evaluation round', buckets: [0.005, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [options.registry] }),
      }
    : undefined;

  async function reloadFields(): Promise<void> {
    const next = new Map<string, EvaluatedField>();
    for (const settings of await fieldsRepo.list()) {
      const key = fieldKey(settings.farm, settings.field);
      if (!ownsField(partitioning, key)) continue;
      const previous = fields.get(key);
      // Unchanged settings keep their profile object, and with it the feature cache.
      if (previous && JSON.stringify(previous.settings) === JSON.stringify(settings)) {
        next.set(key, previous);
        continue;
      }
      try {
        next.set(key, { key, settings, profile: profileOf(settings) });
      } catch (err) {
        logger.error({ err, key }, 'field profile is unusable; field skipped');
      }
    }
    const added = [...next.values()].filter((f) => !fields.has(f.key));
    fields = next;
    // A field configured while running gets its history too, not only what arrives from now on.
    if (started && added.length > 0) {
      const now = clock.now();
      const loaded = await history.load(now - (FEATURE_WINDOW_HOURS + 1) * HOUR_MS, now, added.map((f) => f.settings));
      for (const [key, readings] of loaded) windows.apply(key, readings);
      logger.info({ fields: added.map((f) => f.key) }, 'fields added; windows loaded from InfluxDB');
    }
  }

  /** One round, serialised with the others so a field's state is never stepped twice at once. */
  function enqueue(keys: readonly string[] | undefined): Promise<Evaluation[]> {
    const run = chain.then(() => round(keys));
    chain = run.catch(() => {});
    return run;
  }

  async function round(keys: readonly string[] | undefined): Promise<Evaluation[]> {
    const selected = keys ? keys.map((k) => fields.get(k)).filter((f): f is EvaluatedField => f !== undefined) : [...fields.values()];
    if (selected.length === 0) return [];
    const end = metrics?.roundSeconds.startTimer();
    const { model, identity } = modelHolder.current();
    const evaluations = await evaluateFields(selected, clock.now(), { windows, states, model, identity, cache }, evalOptions);
    // Points are the record of every evaluation; a failed write must not hold back advice.
    const written = writer.write(evaluations).catch((err: unknown) => logger.warn({ err }, 'recommendation points not written'));
    const changed: { farm: string; field: string; state: DecisionState }[] = [];
    await Promise.all(
      evaluations.map(async (e) => {
        metrics?.evaluations.inc({ outcome: e.assessment.kind });
        const event = eventOf(e);
        if (event) {
          try {
            await options.publish(event);
          } catch (err) {
            // State not advanced: the next round decides again and re-publishes (same id if same time).
            logger.error({ err, field: e.key, type: event.type }, 'event not published; will retry next round');
            return;
          }
          metrics?.events.inc({ type: event.type });
          logger.info({ field: e.key, type: event.type, id: event.id, reason: e.decision.reason, correlationId: e.correlationId }, 'predictor event');
        }
        if (e.decision.state !== states.get(e.key)) {
          states.set(e.key, e.decision.state);
          changed.push({ farm: e.farm, field: e.field, state: e.decision.state });
        }
      }),
    );
    // After the publishes: an event is durable downstream before the state that says "sent".
    if (changed.length > 0) await statesRepo.saveMany(changed);
    await written;
    end?.();
    return evaluations;
  }

  function ingest(key: string, readings: WindowReading[]): void {
    // Another partition's field: acknowledged (by returning) but not kept.
    if (!ownsField(partitioning, key)) return;
    windows.apply(key, readings);
    // Before start the first round evaluates everything anyway.
    if (!started) return;
    dirty.add(key);
    if (debounce) return;
    debounce = setTimeout(() => {
      debounce = undefined;
      const keys = [...dirty];
      dirty.clear();
      enqueue(keys).catch((err: unknown) => logger.error({ err }, 'evaluation round failed'));
    }, config.PREDICT_DEBOUNCE_MS);
  }

  return {
    windows,
    modelHolder,
    async start() {
      await modelHolder.start();
      await reloadFields();
      states = await statesRepo.loadAll();
      const now = clock.now();
      const loaded = await history.load(now - (FEATURE_WINDOW_HOURS + 1) * HOUR_MS, now, [...fields.values()].map((f) => f.settings));
      for (const [key, readings] of loaded) windows.apply(key, readings);
      logger.info({ fields: fields.size, withHistory: loaded.size }, 'predictor windows rebuilt from InfluxDB');
      started = true;
      if (options.mode === 'passive') return;
      if (options.bus) {
        const group = options.bus.group === null ? null : partitionGroup(options.bus.group, partitioning);
        bus = createPredictorBusConsumer({ clientId: config.PREDICT_MQTT_CLIENT_ID, ...options.bus, group }, { apply: ingest, logger });
        await bus.start();
      }
      // Silence is only noticed if fields are evaluated without new readings too.
      timer = setInterval(() => {
        reloadFields()
          .then(() => enqueue(undefined))
          .catch((err: unknown) => logger.error({ err }, 'scheduled evaluation failed'));
      }, config.PREDICT_INTERVAL_MS);
      await enqueue(undefined);
    },
    async stop() {
      started = false;
      if (timer) clearInterval(timer);
      if (debounce) clearTimeout(debounce);
      debounce = undefined;
      await bus?.stop();
      await chain;
      await writer.close();
      await modelHolder.stop();
      fieldsRepo.close();
      statesRepo.close();
      db?.close();
    },
    evaluate: (keys) => {
      if (!started) return Promise.reject(PredictNotStarted());
      return enqueue(keys);
    },
    async assess(farm, field) {
      const f = fields.get(fieldKey(farm, field));
      if (!f) return undefined;
      const { model, identity } = modelHolder.current();
      const [e] = await evaluateFields([f], clock.now(), { windows, states, model, identity, cache }, evalOptions);
      return e;
    },
    ingest,
    reloadFields,
    async idle() {
      while (started && (debounce || dirty.size > 0)) await new Promise((r) => setTimeout(r, Math.max(1, config.PREDICT_DEBOUNCE_MS)));
      await chain;
    },
  };
}

export type { FieldSettings };
