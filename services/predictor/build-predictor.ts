/**
 * The predictor: follows every field's readings (bus), rebuilds windows from InfluxDB at start,
 * evaluates fields in rounds on new readings and on a schedule, and turns decisions into
 * `recommendation` points and events. Wiring only; built, not started.
 */
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { endSubscribers, type BusConnection, type PublishInput, type Subscriber } from '../shared/bus/index.js';
import { systemClock, type Clock } from '../shared/clock.js';
import type { Component, LeaveOptions } from '../shared/component.js';
import { createInfluxClient, type InfluxTarget } from '../shared/influx.js';
import type { Logger } from '../shared/logger.js';
import { createLocalReadings, createPredictorBusConsumer } from './bus-consumer.js';
import type { LocalReadings } from '../shared/bus/local-readings.js';
import { createAppliedWaterLedger, DEFAULT_APPLIED_WATER_OPTIONS, type AppliedWater } from './applied-water.js';
import { createAppliedWaterConsumer, createAppliedWaterLoader, type AppliedWaterLoader } from './applied-water-source.js';
import type { PredictConfig } from './config.js';
import { DEFAULT_DECISION_OPTIONS, INITIAL_DECISION_STATE, type DecisionState } from './decision.js';
import { evaluateFields, type Evaluation, type EvaluatorOptions } from './evaluator.js';
import { factorsOf, type FieldFactors, type FieldLearningState } from './field-learning.js';
import { createFeatureCache } from './feature-cache.js';
import { createFieldSet } from './field-set.js';
import { createFieldViews, type FieldViews } from './field-views.js';
import { fieldKey, type FieldProfileRepository, type FieldSettings } from './field-profiles.js';
import { createHistoryLoader, type HistoryLoader } from './history-loader.js';
import { createPredictorMetrics } from './metrics.js';
import { createModelHolder, type ModelHolder, type ModelIdentity } from './model-holder.js';
import { resolveModelPath } from './model-path.js';
import { createRecommendationWriter, type RecommendationWriter } from './outputs.js';
import { createRemovedFieldWithdrawals } from './removed-fields.js';
import { leasedOwnership, staticOwnership, type FieldOwnership } from './field-ownership.js';
import { partitionGroup, type Partitioning } from './partition.js';
import { createPartitionMembership, membershipOptions, type PartitionMembership } from './partition-membership.js';
import { createPostgresPartitionLeases } from './postgres-partition-leases.js';
import { createPostgresFieldStateReader } from './postgres-field-views.js';
import { createRecordedBalanceReader } from './recorded-balance.js';
import { runRound, saveUnsaved, type RoundDeps } from './round.js';
import { createScheduler, type Scheduler } from './scheduler.js';
import { createPredictorStateStore, PREDICTOR_FILE, type PredictorStateStore } from './open-predictor-store.js';
import { createFieldProfileRepository } from './open-field-profiles.js';
import { createMemoryFieldLearning, createSqliteFieldLearning, openPredictorDb, type DecisionStateRepository, type FieldLearningRepository } from './sqlite-predictor-store.js';
import { createWindowStore, FEATURE_QUANTITIES, type WindowReading, type WindowStore } from './window-store.js';
import { Errors } from '../shared/error-catalog.js';
import { createControlPlane, type ControlPlane } from '../shared/database/control-plane.js';
import type { SqliteDatabase } from '../shared/sqlite.js';
import type { ForecastReader } from '../forecasts/store.js';

export interface BuildPredictorOptions {
  config: PredictConfig & { DATA_DIR: string };
  logger: Logger;
  influx: InfluxTarget;
  /** Hand an event to the dispatcher; resolves once it is durable. */
  publish(event: PublishInput): Promise<unknown>;
  /** Where readings arrive, read when the predictor starts; without it the predictor only evaluates on schedule and on demand. */
  bus?: () => BusConnection;
  clock?: Clock;
  /**
   * Where decision state and field learning live: SQLite in `<DATA_DIR>/predictor.db` (the
   * default), or PostgreSQL shared with the other predictors.
   */
  plane?: ControlPlane;
  /** This instance's id (FIELDHOOK_INSTANCE_ID): signs its writes on PostgreSQL. */
  instanceId?: string;
  /** Defaults: SQLite in `<DATA_DIR>/predictor.db`. */
  fields?: FieldProfileRepository;
  /** Defaults: on the `plane`'s backend. */
  states?: DecisionStateRepository;
  /** Defaults: SQLite beside the states, or in memory when `fields` and `states` are given. */
  learning?: FieldLearningRepository;
  /** Defaults to InfluxQL over `/query` on `influx`. */
  history?: HistoryLoader;
  /** The weather ahead per field; without it advice knows no forecast. */
  forecasts?: ForecastReader;
  /** Recorded irrigations of the last days, read at start; defaults to InfluxQL over `/query` on `influx`. */
  appliedHistory?: AppliedWaterLoader;
  writer?: RecommendationWriter;
  model?: ModelHolder;
  /**
   * `passive` loads the model, fields, states and windows but neither subscribes, schedules nor
   * evaluates on its own: for `fieldhook predict`, which must not publish. Default `live`.
   */
  mode?: 'live' | 'passive';
}

export interface Predictor extends Component {
  /** Evaluate now: the given fields (keys `farm/field`) or all; applies decisions and outputs. */
  evaluate(keys?: readonly string[]): Promise<Evaluation[]>;
  /** The current assessment of one field without publishing or changing state. */
  assess(farm: string, field: string): Promise<Evaluation | undefined>;
  /** Apply recorded irrigations of one field as if from the bus: credited until the probe shows them. */
  applyIrrigations(key: string, items: AppliedWater[]): void;
  /** Apply readings as if from the bus (tests, benches, in-process producers). */
  ingest(key: string, readings: WindowReading[]): void;
  /** The feed of an ingestor in this process: its spool's bus cursor, without the broker (bus-consumer.ts). */
  readonly localReadings: LocalReadings;
  /** Re-read field profiles (after `fieldhook fields add|update`). */
  reloadFields(): Promise<void>;
  readonly windows: WindowStore;
  /** The settings of the fields this instance evaluates (where forecasts are pulled for). */
  fieldSettings(): FieldSettings[];
  /** Resolves when every evaluation scheduled so far has finished (tests). */
  idle(): Promise<void>;
  /** A read-only snapshot for the status page: the model and each field this instance evaluates with its decision state. */
  status(): PredictorStatus;
  /**
   * Every registered field for those who only look (status page, chat): this instance's own as
   * in `status()`, and where predictors share the fields on PostgreSQL the others as their
   * predictor saved them, with who evaluates each (field-views.ts).
   */
  readonly fieldViews: FieldViews;
}

export interface PredictorStatus {
  /** Null until the predictor has started. */
  model: ModelIdentity | null;
  /**
   * How fields are shared among predictors and which partitions this instance holds: `single`
   * (it evaluates every field), `manual` (PREDICT_PARTITION of PREDICT_PARTITIONS) or `auto`
   * (leases among the live predictors, of the 64 partitions of partition-assignment.ts).
   */
  partitions?: { mode: FieldOwnership['mode']; count: number; held: number[] };
  /** `learning`: what the field has learnt from its dry days (null before it has looked at a day, or with PREDICT_LEARN_FIELD=false). */
  fields: { settings: FieldSettings; state: DecisionState | null; learning?: FieldFactors | null }[];
}

export function evaluatorOptionsOf(config: PredictConfig): EvaluatorOptions {
  return {
    ...DEFAULT_DECISION_OPTIONS,
    horizonH: config.PREDICT_HORIZON_H,
    clearFraction: config.PREDICT_CLEAR_FRACTION,
    cooldownMs: config.PREDICT_COOLDOWN_MS,
    validityMs: config.PREDICT_ADVICE_VALIDITY_MS,
    renewDepthMm: config.PREDICT_RENEW_DEPTH_MM,
    renewDepthFraction: config.PREDICT_RENEW_DEPTH_FRACTION,
    renewDeadlineMs: config.PREDICT_RENEW_DEADLINE_MS,
    holdRainFraction: config.PREDICT_HOLD_RAIN_FRACTION,
    holdGraceH: config.PREDICT_HOLD_GRACE_H,
    staleAfterMs: config.PREDICT_STALE_AFTER_MS,
    learnField: config.PREDICT_LEARN_FIELD,
  };
}

/** How long a start waits for the spool's hand-back before its first round, ms. */
const HAND_BACK_WAIT_MS = 60_000;

export function buildPredictor(options: BuildPredictorOptions): Predictor {
  const { config } = options;
  // Automatic partitions need the shared database, and a passive predictor (`fieldhook predict`)
  // takes no part in them: it looks at every field without deciding for any.
  const plane = options.plane;
  const auto = config.PREDICT_PARTITIONS === 'auto' && plane?.kind === 'postgres' && options.mode !== 'passive';
  const partitioning: Partitioning =
    config.PREDICT_PARTITIONS === 'auto' ? { partitions: 1, partition: 0 } : { partitions: config.PREDICT_PARTITIONS, partition: config.PREDICT_PARTITION };
  if (partitioning.partition >= partitioning.partitions) {
    throw Errors.predictConfig(`FIELDHOOK_PREDICT_PARTITION must be below FIELDHOOK_PREDICT_PARTITIONS (${partitioning.partitions})`);
  }
  const logger = options.logger.child({ service: 'predictor', partition: auto ? 'auto' : `${partitioning.partition}/${partitioning.partitions}` });
  const clock = options.clock ?? systemClock;
  const instance = options.instanceId ?? 'predictor';
  // Checked whichever the backend, so a setting that could never work is refused where it is made.
  const leaseOptions = membershipOptions(config.PREDICT_LEASE_MS, config.PREDICT_HEARTBEAT_MS);
  /** With automatic partitions: those whose fields are loaded here (changed only between rounds). */
  const evaluating = new Set<number>();
  const membership: PartitionMembership | undefined =
    auto && plane.kind === 'postgres'
      ? createPartitionMembership(
          { leases: createPostgresPartitionLeases(plane), instance, clock, logger, hooks: { gain: (ps) => gain(ps), lose: (ps) => lose(ps) } },
          leaseOptions,
        )
      : undefined;
  const ownership: FieldOwnership = membership ? leasedOwnership(membership, evaluating) : staticOwnership(partitioning);
  const registry = new Registry();
  let db: SqliteDatabase | undefined;
  const sqlite = () => (db ??= openPredictorDb(join(config.DATA_DIR, PREDICTOR_FILE)));
  // Field profiles on the plane: in predictor.db, or shared in PostgreSQL with the CLI and every predictor.
  const ownFields = options.fields ? undefined : createFieldProfileRepository(options.plane ?? createControlPlane({ DATA_DIR: config.DATA_DIR }, logger), { clock, db: sqlite });
  const fieldsRepo = options.fields ?? ownFields!;
  const store: PredictorStateStore = options.states
    ? { states: options.states, learning: db ? createSqliteFieldLearning(db) : createMemoryFieldLearning(), open: async () => {} }
    : createPredictorStateStore(plane ?? createControlPlane({ DATA_DIR: config.DATA_DIR }, logger), {
        instance,
        // A field's state is written only while this instance holds its partition.
        ...(membership ? { fence: { partitionOf: ownership.partitionOf, now: () => clock.now(), epochOf: (p: number) => membership.epochOf(p) } } : {}),
        db: sqlite,
        // Only while the field has its profile beside it: a save on its way when the field is
        // removed does not bring its state back.
        onlyProfiled: ownFields !== undefined,
      });
  const statesRepo = store.states;
  const learningRepo = options.learning ?? store.learning;
  const learning = new Map<string, FieldLearningState>();
  const writer = options.writer ?? createRecommendationWriter(createInfluxClient(options.influx), options.influx.org, options.influx.bucket);
  const model =
    options.model ??
    createModelHolder(
      { modelPath: resolveModelPath(config.PREDICT_MODEL_PATH), cardPath: resolveModelPath(config.PREDICT_MODEL_CARD_PATH), pollMs: config.PREDICT_MODEL_POLL_MS },
      logger,
    );
  const evalOptions = evaluatorOptionsOf(config);
  const windows = createWindowStore();
  const cache = createFeatureCache();
  const states = new Map<string, DecisionState>();
  const fields = createFieldSet({ repo: fieldsRepo, history: options.history ?? createHistoryLoader(options.influx), windows, evaluates: ownership.evaluates, clock, logger });
  const applied = createAppliedWaterLedger();
  // `fieldhook predict` (passive) publishes nothing, withdrawals included.
  const withdrawals = options.mode === 'passive' ? undefined : createRemovedFieldWithdrawals({ publish: options.publish, mayPublish: ownership.mayPublish, clock, logger });
  const roundDeps: RoundDeps = {
    unsaved: { states: new Map(), learning: new Map() },
    windows, cache, applied, ...(options.forecasts ? { forecasts: options.forecasts } : {}), model, states, statesRepo, learning, learningRepo, writer, publish: options.publish,
    metrics: createPredictorMetrics(registry, ownership), ...(membership ? { mayPublish: ownership.mayPublish } : {}), clock, logger,
  };
  const scheduler: Scheduler<Evaluation[]> = createScheduler(
    {
      run: async (keys, trigger) => {
        // A profile changed anywhere (the CLI, another instance: PostgreSQL's change feed): the
        // fields are re-read before this round, not only before the scheduled one.
        if (fieldsRepo.changeVersion && fieldsRepo.changeVersion() !== profilesSeen) {
          await refresh(started).catch((err: unknown) => logger.warn({ err }, 'changed field profiles not re-read; tried again before the next round'));
        }
        return runRound(keys ? keys.flatMap((k) => fields.get(k) ?? []) : fields.all(), roundDeps, evalOptions, trigger);
      },
      beforeScheduledRound: () => scheduler.exclusive(() => refresh(true)),
    },
    { clock, logger },
    { intervalMs: config.PREDICT_INTERVAL_MS, debounceMs: config.PREDICT_DEBOUNCE_MS },
  );
  /** The field profiles' change version as of the last re-read (NaN: never, or no feed). */
  let profilesSeen = Number.NaN;
  let bus: Subscriber | undefined;
  let irrigationBus: Subscriber | undefined;
  let started = false;
  let markStarted!: () => void;
  const startedOnce = new Promise<void>((resolve) => (markStarted = resolve));

  /**
   * Re-read the field profiles this instance evaluates: a field that comes in gets its decision
   * state and what it learnt as saved last (by whichever instance held it), one that goes out is
   * forgotten here. Runs between rounds only.
   */
  async function refresh(withHistory: boolean): Promise<void> {
    // Taken before the profiles are read: a change while reading moves it again.
    const version = fieldsRepo.changeVersion?.() ?? Number.NaN;
    let savedStates = new Map<string, DecisionState>();
    let savedLearning = new Map<string, FieldLearningState>();
    // Read before the fields enter the set: a field whose saved state could not be read is not evaluated.
    const { added, removed, deleted } = await fields.reload(withHistory, async (keys, settings) => {
      [savedStates, savedLearning] = await Promise.all([statesRepo.loadMany(keys), learningRepo.loadMany?.(keys) ?? learningRepo.loadAll()]);
      // A field new here gets its first state saved before it is evaluated: it names the field's
      // life (decision.ts, `since`), so its first event's id holds through a crash and differs
      // from a removed namesake's.
      if (options.mode !== 'passive') {
        const first = settings.filter((s) => !savedStates.has(fieldKey(s.farm, s.field))).map((s) => ({ farm: s.farm, field: s.field, state: { ...INITIAL_DECISION_STATE, since: clock.now() } }));
        // Not saved (the database away for a moment): kept, and saved with the next round's states.
        const refused = new Set(first.length > 0 ? await statesRepo.saveMany(first).catch((err: unknown) => {
          logger.warn({ err }, 'first decision states of new fields not saved; saved with the next round');
          for (const e of first) roundDeps.unsaved.states.set(fieldKey(e.farm, e.field), e);
          return [];
        }) : []);
        for (const e of first) if (!refused.has(fieldKey(e.farm, e.field))) savedStates.set(fieldKey(e.farm, e.field), e.state);
      }
      // Their forecasts too (a store in memory keeps only the fields evaluated here).
      await options.forecasts?.follow?.([...fields.all().map((f) => f.settings), ...settings], forecastsFrom());
    });
    // Those gone, and hours past, leave the forecasts kept here (nothing is read from the database).
    await options.forecasts?.follow?.(fields.all().map((f) => f.settings), forecastsFrom());
    for (const gone of deleted) {
      const advice = states.get(fieldKey(gone.farm, gone.field))?.advice;
      if (advice) withdrawals?.add(gone, advice);
    }
    for (const key of removed) {
      states.delete(key);
      learning.delete(key);
      roundDeps.unsaved.states.delete(key);
      roundDeps.unsaved.learning.delete(key);
    }
    for (const key of added) {
      const state = savedStates.get(key);
      if (state) states.set(key, state);
      else states.delete(key);
      const learnt = savedLearning.get(key);
      if (learnt) learning.set(key, learnt);
      else learning.delete(key);
    }
    profilesSeen = version;
    await withdrawals?.flush();
  }

  /** The earliest forecast hour a round reads from now on: those ending after the current hour began. */
  const forecastsFrom = () => Math.floor(clock.now() / 3_600_000) * 3_600_000 - 3_600_000;

  let gainRetry: unknown;
  /**
   * Partitions leased to this instance: their fields come in with their saved state and history.
   * If that cannot be read (PostgreSQL or InfluxDB unreachable), they are not evaluated, and
   * loading them is tried again a heartbeat later while the lease is still this instance's.
   */
  async function gain(partitions: number[]): Promise<void> {
    // Not awaited by the heartbeat: loading history must not hold up the leases' renewal.
    void scheduler
      .exclusive(async () => {
        const wanted = partitions.filter((p) => membership?.held().includes(p) && !evaluating.has(p));
        if (wanted.length === 0) return false;
        for (const p of wanted) evaluating.add(p);
        try {
          await refresh(true);
        } catch (err) {
          for (const p of wanted) evaluating.delete(p);
          logger.error({ err, partitions: wanted }, 'fields of new partitions not loaded; not evaluated until they are (tried again at the next heartbeat)');
          if (started) gainRetry = clock.setTimeout(() => void gain(wanted), leaseOptions.heartbeatMs);
          return false;
        }
        await loadAppliedWater();
        logger.info({ partitions: wanted, fields: fields.size }, 'evaluating the fields of new partitions');
        return true;
      })
      .then((loaded) => (loaded && started ? scheduler.enqueue(undefined) : undefined))
      .catch((err: unknown) => logger.error({ err, partitions }, 'fields of new partitions not evaluated'));
  }

  /** Partitions this instance gives up: resolves once no round touches their fields any more. */
  async function lose(partitions: number[]): Promise<void> {
    await scheduler.exclusive(async () => {
      // While the leases are still this instance's: the next holder starts from what was decided here.
      await saveUnsaved(roundDeps).catch(() => logger.warn({ partitions }, 'unsaved predictor state of partitions given up is lost; their next holder decides from the state saved before'));
      for (const p of partitions) evaluating.delete(p);
      const before = new Set(fields.all().map((f) => f.key));
      await refresh(false);
      for (const key of before) if (!fields.get(key)) windows.clear(key);
      logger.info({ partitions, fields: fields.size }, 'stopped evaluating the fields of partitions given up');
    });
  }

  function applyIrrigations(key: string, items: AppliedWater[]): void {
    if (!ownership.follows(key)) return;
    applied.add(key, items);
    if (started) scheduler.touch(key);
  }

  /** The last days' recorded irrigations; without them the bus brings new ones only. */
  async function loadAppliedWater(): Promise<void> {
    const now = clock.now();
    const loader = options.appliedHistory ?? createAppliedWaterLoader(options.influx);
    try {
      for (const [key, items] of await loader.load(now - DEFAULT_APPLIED_WATER_OPTIONS.keepMs, now)) applyIrrigations(key, items);
    } catch (err) {
      logger.warn({ err }, 'recorded irrigations not loaded from InfluxDB; advice counts only those that arrive now');
    }
  }

  /**
   * A reading the window already holds (same device time, same values) changes nothing. That is
   * how a device message taken by two ingestors arrives here twice: both spool it and put it on
   * the bus, and the second copy is neither applied nor evaluated (docs/ARCHITECTURE.md, "Several
   * ingestors").
   */
  function held(key: string, r: WindowReading): boolean {
    const [row] = windows.between(key, r.ts, r.ts);
    return row !== undefined && FEATURE_QUANTITIES.every((q) => {
      const v = r.values[q];
      return v === undefined || !Number.isFinite(v) || row.values[q] === v;
    });
  }

  function ingest(key: string, readings: WindowReading[], evaluate = true): void {
    // Another partition's field: acknowledged (by returning) but not kept.
    if (!ownership.follows(key)) return;
    const fresh = readings.filter((r) => !held(key, r));
    if (fresh.length === 0) return;
    windows.apply(key, fresh);
    // Before start the first round evaluates everything anyway.
    if (started && evaluate) scheduler.touch(key);
  }

  /**
   * The spool's hand-back after a restart (bus-publisher.ts): announced by an ingestor in this
   * process before this predictor starts, waited for before the first round, so that round judges
   * no field on a window with holes. Bounded: a hand-back that takes longer (a huge backlog) goes
   * on while the rounds do.
   */
  let handBackExpected = false;
  let handBackOver!: () => void;
  const handBackDone = new Promise<void>((resolve) => (handBackOver = resolve));
  async function awaitHandBack(): Promise<void> {
    if (!handBackExpected) return;
    let timer: unknown;
    const waited = await Promise.race([
      handBackDone.then(() => true),
      new Promise<boolean>((resolve) => (timer = clock.setTimeout(() => resolve(false), HAND_BACK_WAIT_MS))),
    ]);
    clock.clearTimeout(timer);
    if (!waited) logger.warn({ waitedMs: HAND_BACK_WAIT_MS }, 'readings handed back by the spool still arriving; evaluating meanwhile');
  }

  function status(): PredictorStatus {
    return {
      model: started ? model.current().identity : null,
      partitions: { mode: ownership.mode, count: ownership.partitions, held: ownership.held() },
      fields: fields.all().map((f) => {
        const learnt = evalOptions.learnField ? learning.get(f.key) : undefined;
        return { settings: f.settings, state: states.get(f.key) ?? null, learning: learnt ? factorsOf(learnt, f.profile.tzLongitudeDeg) : null };
      }),
    };
  }

  // Fields shared on PostgreSQL: the others' are read from what their predictors saved.
  const fieldViews = createFieldViews({
    instance,
    local: () => status().fields,
    mode: ownership.mode,
    partitionOf: ownership.partitionOf,
    recorded: createRecordedBalanceReader(options.influx, clock),
    profiles: fieldsRepo,
    ...(plane?.kind === 'postgres' && options.mode !== 'passive'
      ? { shared: { profiles: fieldsRepo, state: createPostgresFieldStateReader(plane, { learning: evalOptions.learnField !== false, holders: ownership.mode === 'auto' ? 'leases' : 'claims' }), now: () => clock.now(), learnField: evalOptions.learnField !== false } }
      : {}),
  });

  /**
   * Stops, or with `leaving` leaves for good: the readings' and irrigations' sessions are handled
   * (while the scheduler still evaluates) and ended. The partitions are released either way.
   */
  async function close(leaving?: LeaveOptions): Promise<void> {
    // Leaves first: its partitions are released once no round touches them, for the others to take at once.
    await membership?.stop().catch((err: unknown) => logger.warn({ err }, 'predictor partitions not released; the others take them when the leases expire'));
    started = false;
    clock.clearTimeout(gainRetry);
    try {
      await endSubscribers([bus, irrigationBus], leaving);
    } finally {
      await scheduler.stop();
      // What a round could not save (the database away for a moment) goes now, not with a round that will not come.
      await saveUnsaved(roundDeps).catch((err: unknown) => logger.warn({ err }, 'unsaved predictor state lost at stop; the next start decides from the state saved before'));
      await writer.close();
      await model.stop();
      await fieldsRepo.close();
      statesRepo.close();
      db?.close();
    }
  }

  return {
    name: 'predictor',
    metrics: registry,
    readiness: [
      {
        name: 'predictor',
        check: async () => {
          // With automatic partitions, a predictor whose heartbeats fail holds nothing for long.
          const ok = started && (membership?.healthy() ?? true);
          const problem = ok ? undefined : membership?.problem();
          return { ok, detail: started ? { model: model.current().identity, partitions: { mode: ownership.mode, held: ownership.held(), ...(problem ? { problem } : {}) } } : {} };
        },
      },
    ],
    windows,
    async start() {
      await store.open();
      await ownFields?.open();
      await model.start();
      await refresh(false);
      const withHistory = await fields.loadHistory();
      await loadAppliedWater();
      logger.info({ fields: fields.size, withHistory }, 'predictor windows rebuilt from InfluxDB');
      started = true;
      markStarted();
      if (options.mode === 'passive') return;
      await awaitHandBack();
      const connection = options.bus?.();
      if (connection) {
        // With automatic partitions fields move between instances: each takes every field's
        // readings (a group of its own) and keeps those it evaluates or is about to.
        const readingsGroup = membership ? config.PREDICT_MQTT_CLIENT_ID : partitionGroup(config.PREDICT_MQTT_GROUP, partitioning);
        bus = createPredictorBusConsumer(connection, { apply: ingest, logger }, { clientId: config.PREDICT_MQTT_CLIENT_ID, group: readingsGroup });
        await bus.start();
        const group = `${readingsGroup}-irrigations`;
        irrigationBus = createAppliedWaterConsumer(connection, { apply: applyIrrigations, logger }, { clientId: `${config.PREDICT_MQTT_CLIENT_ID}-irrigations`, group });
        await irrigationBus.start();
      }
      // Joins the live predictors: takes what is free of its share (loaded before the first round).
      await membership?.start();
      scheduler.start();
      // The first round fails the start no more than a later one stops the predictor: what it
      // could not save (the database away for a moment) stays in memory and goes with the next
      // round, and the start has nothing to undo.
      await scheduler.enqueue(undefined).catch((err: unknown) => logger.error({ err }, 'first evaluation round failed; the next round tries again'));
    },
    stop: () => close(),
    leave: (leaving) => close(leaving ?? {}),
    evaluate: (keys) => (started ? scheduler.enqueue(keys) : Promise.reject(Errors.predictNotStarted())),
    async assess(farm, field) {
      const f = fields.get(fieldKey(farm, field));
      if (!f) return undefined;
      const { model: current, identity } = model.current();
      const [e] = await evaluateFields([f], clock.now(), { windows, states, learning, model: current, identity, cache, applied, ...(options.forecasts ? { forecasts: options.forecasts } : {}) }, evalOptions);
      return e;
    },
    ingest,
    // With automatic partitions every field's readings go through the broker, to whichever predictor evaluates it.
    localReadings: createLocalReadings({
      owns: (key) => !membership && ownership.evaluates(key),
      apply: ingest,
      started: () => started,
      startedOnce,
      evaluated: () => scheduler.idle(),
      handBack: { expect: () => void (handBackExpected = true), over: () => handBackOver() },
    }),
    applyIrrigations,
    fieldSettings: () => fields.all().map((f) => f.settings),
    reloadFields: () => scheduler.exclusive(() => refresh(started)),
    idle: () => scheduler.idle(),
    status,
    fieldViews,
  };
}

export type { FieldSettings };
