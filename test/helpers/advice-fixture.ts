/**
 * A field that is advised water, against the real InfluxDB: a simulated season's readings up to
 * the first hour the model advises irrigation, written for one or more fields, and a predictor
 * (real model, real InfluxDB, the given bus) whose start round opens that advice.
 */
import { Point } from '@influxdata/influxdb-client';
import type { PublishInput } from '../../services/dispatcher/index.js';
import { buildPredictor, type BuildPredictorOptions, type Predictor } from '../../services/predictor/build-predictor.js';
import { PREDICT_CONFIG } from '../../services/predictor/config.js';
import { DEFAULT_DECISION_OPTIONS } from '../../services/predictor/decision.js';
import { DEFAULT_MEMBERSHIP_OPTIONS } from '../../services/predictor/partition-membership.js';
import { fieldKey, profileOf, type FieldSettings } from '../../services/predictor/field-profiles.js';
import type { ModelHolder } from '../../services/predictor/model-holder.js';
import { replay } from '../../services/predictor/replay.js';
import { createSqliteDecisionStates, createSqliteFieldProfiles, openPredictorDb } from '../../services/predictor/sqlite-predictor-store.js';
import type { BusConnection } from '../../services/shared/bus/index.js';
import type { Clock } from '../../services/shared/clock.js';
import { loadConfig } from '../../services/shared/config.js';
import { createControlPlane, type ControlPlane } from '../../services/shared/database/control-plane.js';
import { createInfluxClient, type InfluxTarget } from '../../services/shared/influx.js';
import { silentLogger } from '../../services/shared/logger.js';
import { simulateField } from '../../services/simulator/field-run.js';
import { createFieldSpecs } from '../../services/simulator/fields.js';
import { sensorReadings } from '../../services/simulator/sensors.js';
import { POPULATIONS, profileFromSpec } from '../../services/training/dataset.js';
import { eventually } from './eventually.js';
import { createManualClock, type ManualClock } from './manual-clock.js';

const HOUR = 3_600_000;
export const ADVICE_EVALUATOR = { ...DEFAULT_DECISION_OPTIONS, staleAfterMs: 3 * HOUR };

export interface AdvisedSeason {
  /** The settings of a field with this season's crop and soil, under any farm and field name. */
  settings(farm: string, field: string): FieldSettings;
  /** The first hour the model advises water on this season, epoch ms. */
  adviceAt: number;
  /** Write the season's readings up to `adviceAt` for these fields. */
  write(target: InfluxTarget, fields: readonly { farm: string; field: string }[]): Promise<void>;
}

export async function advisedSeason(seed: string, holder: ModelHolder): Promise<AdvisedSeason> {
  const [spec] = createFieldSpecs({ count: 1, seed, population: POPULATIONS.heldOut });
  const readings = sensorReadings(simulateField(spec!)).slice(0, 24 * 40);
  const p = profileFromSpec(spec!);
  const settings = (farm: string, field: string): FieldSettings => ({
    farm, field, crop: spec!.crop, kc: spec!.cropParams, sowingDate: spec!.sowingDate, thetaFc: spec!.thetaFc,
    thetaWp: spec!.thetaWp, rootDepthM: spec!.rootDepthM, p: spec!.p, efficiency: 0.75, latitudeDeg: p.latitudeDeg, longitudeDeg: p.longitudeDeg,
    elevationM: p.elevationM, tzLongitudeDeg: p.tzLongitudeDeg, windHeightM: p.windHeightM,
  });
  const probe = settings('probe', 'probe');
  const field = { key: fieldKey(probe.farm, probe.field), settings: probe, profile: profileOf(probe) };
  const byTs = readings.map((r) => ({ ts: Date.parse(r.ts), values: r.values }));
  let adviceAt = 0;
  await replay(
    [field],
    { fromTs: byTs[80]!.ts, toTs: byTs.at(-1)!.ts },
    {
      history: { load: async () => new Map([[field.key, byTs]]) },
      model: holder,
      evaluator: ADVICE_EVALUATOR,
      onRound: (evaluations) => {
        if (!adviceAt && evaluations[0]?.decision.event === 'irrigation.recommended') adviceAt = evaluations[0].at;
      },
    },
  );
  if (!adviceAt) throw new Error(`season ${seed} is never advised water`);
  return {
    settings,
    adviceAt,
    async write(target, fields) {
      const api = createInfluxClient(target).getWriteApi(target.org, target.bucket, 'ms');
      for (const f of fields) {
        api.writePoints(
          readings
            .filter((r) => Date.parse(r.ts) <= adviceAt)
            .map((r) => {
              const pt = new Point('reading').tag('farm', f.farm).tag('field', f.field).tag('device', r.device).timestamp(new Date(r.ts));
              for (const [k, v] of Object.entries(r.values)) pt.floatField(k, v);
              return pt;
            }),
        );
      }
      await api.close();
    },
  };
}

/** A live predictor of `settings` on the real InfluxDB and `bus`, its events collected in `published`. */
export async function advisedPredictor(options: {
  settings: readonly FieldSettings[];
  target: InfluxTarget;
  bus: () => BusConnection;
  clock: Clock;
  holder: ModelHolder;
  published: PublishInput[];
  dataDir: string;
  clientId: string;
}): Promise<Predictor> {
  const db = openPredictorDb(':memory:');
  const fields = createSqliteFieldProfiles(db);
  for (const s of options.settings) await fields.add(s);
  return buildPredictor({
    config: {
      ...loadConfig(PREDICT_CONFIG, { FIELDHOOK_PREDICT_MQTT_CLIENT_ID: options.clientId, FIELDHOOK_PREDICT_MQTT_GROUP: options.clientId }),
      DATA_DIR: options.dataDir,
    },
    logger: silentLogger(),
    influx: options.target,
    publish: async (e) => {
      options.published.push(e);
      return { id: e.id!, deliveries: 1, duplicate: false };
    },
    bus: options.bus,
    clock: options.clock,
    fields,
    states: createSqliteDecisionStates(db),
    model: options.holder,
  });
}

/** A predictor of its own instance, sharing fields with others on PostgreSQL, on a manual clock. */
export interface SharedPredictor {
  id: string;
  predictor: Predictor;
  clock: ManualClock;
  plane: ControlPlane;
  published: PublishInput[];
}

/**
 * Build (not start) instance `id`'s predictor with its control plane on `databaseUrl`, as
 * `fieldhook start` has it; `extra` replaces what a test needs otherwise (field profiles,
 * forecasts). Its events are collected in `published`.
 */
export function buildSharedPredictor(options: {
  id: string;
  at: number;
  /** The control plane's folder; `dataDir` is the instance's own. */
  planeDir: string;
  dataDir: string;
  databaseUrl: string;
  target: InfluxTarget;
  holder: ModelHolder;
  extra?: Partial<BuildPredictorOptions>;
}): SharedPredictor {
  const { id } = options;
  const plane = createControlPlane({ DATA_DIR: options.planeDir, DATABASE_URL: options.databaseUrl, INSTANCE_ID: id }, silentLogger());
  const clock = createManualClock(options.at);
  const published: PublishInput[] = [];
  const predictor = buildPredictor({
    config: { ...loadConfig(PREDICT_CONFIG, { FIELDHOOK_PREDICT_STALE_AFTER_MS: String(ADVICE_EVALUATOR.staleAfterMs) }), DATA_DIR: options.dataDir },
    logger: silentLogger(),
    influx: options.target,
    plane,
    instanceId: id,
    clock,
    model: options.holder,
    publish: async (e) => {
      published.push(e);
      return { id: e.id!, deliveries: 1, duplicate: false };
    },
    ...options.extra,
  });
  return { id, predictor, clock, plane, published };
}

/** Move a shared predictor's clock by one heartbeat; wait until the partitions it holds pass `held` and its rounds are done. */
export async function afterHeartbeat(r: SharedPredictor, held: (count: number) => boolean): Promise<void> {
  await r.clock.advance(DEFAULT_MEMBERSHIP_OPTIONS.heartbeatMs);
  await eventually(() => held(r.predictor.status().partitions!.held.length), { what: `${r.id}'s partitions after a heartbeat` });
  await r.predictor.idle();
}
