/**
 * A recorded irrigation changes advice, against the real InfluxDB and Mosquitto: an open
 * `irrigation.recommended` is cleared and the depletion drops at once (before the soil probe
 * shows the water), the record lands in InfluxDB's `irrigation` measurement, and a replay over
 * the same hours sees it too.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Point } from '@influxdata/influxdb-client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { PublishInput } from '../../../services/dispatcher/index.js';
import { buildIrrigations, type Irrigations } from '../../../services/irrigations/build-irrigations.js';
import { createAppliedWaterLoader } from '../../../services/predictor/applied-water-source.js';
import { buildPredictor, type Predictor } from '../../../services/predictor/build-predictor.js';
import { PREDICT_CONFIG } from '../../../services/predictor/config.js';
import { DEFAULT_DECISION_OPTIONS } from '../../../services/predictor/decision.js';
import { fieldKey, profileOf, type FieldSettings } from '../../../services/predictor/field-profiles.js';
import { createHistoryLoader } from '../../../services/predictor/history-loader.js';
import { createModelHolder } from '../../../services/predictor/model-holder.js';
import { replay } from '../../../services/predictor/replay.js';
import { createSqliteDecisionStates, createSqliteFieldProfiles, openPredictorDb } from '../../../services/predictor/sqlite-predictor-store.js';
import { createSqliteDeviceRepository } from '../../../services/registry/sqlite-devices.js';
import type { DeviceRepository } from '../../../services/registry/device.js';
import { loadConfig } from '../../../services/shared/config.js';
import { createInfluxClient } from '../../../services/shared/influx.js';
import { queryInfluxQl } from '../../../services/shared/influxql.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { simulateField } from '../../../services/simulator/field-run.js';
import { createFieldSpecs } from '../../../services/simulator/fields.js';
import { sensorReadings } from '../../../services/simulator/sensors.js';
import { POPULATIONS, profileFromSpec } from '../../../services/training/dataset.js';
import { eventually } from '../../helpers/eventually.js';
import { createDatabase } from '../../helpers/ingest-fixture.js';

const HOUR = 3_600_000;
const FARM = 'irr-farm';
const FIELD = 'north';

describe('a recorded irrigation moves advice (InfluxDB, Mosquitto)', () => {
  const influxUrl = inject('influxUrl');
  const mosquittoUrl = inject('mosquittoUrl');
  const database = `irrigation_advice_${process.pid}`;
  const target = { url: influxUrl, token: '', org: 'fieldhook', bucket: database, timeoutMs: 5_000 };
  const dir = mkdtempSync(join(tmpdir(), 'fh-irrigation-advice-'));
  const [spec] = createFieldSpecs({ count: 1, seed: 'irrigation-advice', population: POPULATIONS.heldOut });
  const readings = sensorReadings(simulateField(spec!)).slice(0, 24 * 40);
  const p = profileFromSpec(spec!);
  const settings: FieldSettings = {
    farm: FARM, field: FIELD, crop: spec!.crop, kc: spec!.cropParams, sowingDate: spec!.sowingDate, thetaFc: spec!.thetaFc,
    thetaWp: spec!.thetaWp, rootDepthM: spec!.rootDepthM, p: spec!.p, efficiency: 0.75, latitudeDeg: p.latitudeDeg, longitudeDeg: p.longitudeDeg,
    elevationM: p.elevationM, tzLongitudeDeg: p.tzLongitudeDeg, windHeightM: p.windHeightM,
  };
  // The profile exactly as the live predictor derives it from the settings.
  const field = { key: fieldKey(FARM, FIELD), settings, profile: profileOf(settings) };
  const holder = createModelHolder({ modelPath: 'models/irrigation/model.onnx', cardPath: 'models/irrigation/model.json', pollMs: 60_000 }, silentLogger());
  const evaluator = { ...DEFAULT_DECISION_OPTIONS, staleAfterMs: 3 * HOUR };
  let devices: DeviceRepository;
  let irrigations: Irrigations;
  let predictor: Predictor;
  /** The first hour the model advises water: the readings end there. */
  let adviceAt = 0;
  let now = 0;
  /** The net depth recorded: the depletion at the advice, rounded up. */
  let depth = 0;
  const published: PublishInput[] = [];

  beforeAll(async () => {
    await createDatabase(influxUrl, database);
    await holder.start();
    // Where does this season first call for water? A replay over the readings in memory says.
    const byTs = readings.map((r) => ({ ts: Date.parse(r.ts), values: r.values }));
    await replay(
      [field],
      { fromTs: byTs[80]!.ts, toTs: byTs.at(-1)!.ts },
      {
        history: { load: async () => new Map([[field.key, byTs]]) },
        model: holder,
        evaluator,
        onRound: (evaluations) => {
          if (!adviceAt && evaluations[0]?.decision.event === 'irrigation.recommended') adviceAt = evaluations[0].at;
        },
      },
    );
    expect(adviceAt).toBeGreaterThan(0);
    const api = createInfluxClient(target).getWriteApi('fieldhook', database, 'ms');
    api.writePoints(
      readings
        .filter((r) => Date.parse(r.ts) <= adviceAt)
        .map((r) => {
          const pt = new Point('reading').tag('farm', FARM).tag('field', FIELD).tag('device', r.device).timestamp(new Date(r.ts));
          for (const [k, v] of Object.entries(r.values)) pt.floatField(k, v);
          return pt;
        }),
    );
    await api.close();

    now = adviceAt;
    const clock = { now: () => now, setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms), clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout) };
    const bus = () => ({ url: mosquittoUrl, protocolVersion: 5 as const, sharedSubscriptions: true });
    devices = createSqliteDeviceRepository(join(dir, 'registry.db'));
    irrigations = buildIrrigations({ config: { DATA_DIR: dir }, logger: silentLogger(), devices, influx: target, bus, clock });
    const db = openPredictorDb(':memory:');
    const fields = createSqliteFieldProfiles(db);
    await fields.add(settings);
    predictor = buildPredictor({
      config: {
        ...loadConfig(PREDICT_CONFIG, { FIELDHOOK_PREDICT_MQTT_CLIENT_ID: `irr-advice-${process.pid}`, FIELDHOOK_PREDICT_MQTT_GROUP: `irr-advice-${process.pid}` }),
        DATA_DIR: dir,
      },
      logger: silentLogger(),
      influx: target,
      publish: async (e) => {
        published.push(e);
        return { id: e.id!, deliveries: 1, duplicate: false };
      },
      bus,
      clock,
      fields,
      states: createSqliteDecisionStates(db),
      model: holder,
    });
    await irrigations.start();
    await predictor.start();
  }, 120_000);

  afterAll(async () => {
    await predictor?.stop();
    await irrigations?.stop();
    devices?.close();
    await holder.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('clears the open advice and drops the depletion when the advised depth is recorded', async () => {
    const advice = published.find((e) => e.type === 'irrigation.recommended');
    expect(advice, 'the start round advises water').toBeDefined();
    const before = (await predictor.assess(FARM, FIELD))!;
    expect(before.prediction!.depletionNowMm).toBeGreaterThan(before.prediction!.rawMm * DEFAULT_DECISION_OPTIONS.clearFraction);

    now = adviceAt + 20 * 60_000;
    depth = Math.ceil(before.prediction!.depletionNowMm);
    const { record } = await irrigations.service.record(
      { farm: FARM, field: FIELD, depth_mm: depth, start: adviceAt - 40 * 60_000, end: adviceAt + 10 * 60_000 },
      { source: 'api', who: 'admin' },
    );
    // Over the bus to the predictor, which evaluates the field again without waiting for the probe.
    const cleared = await eventually(() => published.find((e) => e.type === 'irrigation.cleared'), { what: 'irrigation.cleared', timeoutMs: 20_000 });
    expect(cleared).toMatchObject({ farm: FARM, field: FIELD, collapse_key: `irrigation:${FARM}:${FIELD}` });
    expect(cleared.data).toMatchObject({ depletion_mm: 0, reason: expect.stringMatching(/refilled/) });
    expect((cleared.data.provenance as { applied_water: unknown }).applied_water).toEqual({ mm: depth, ids: [record.id] });
    const after = (await predictor.assess(FARM, FIELD))!;
    expect(after.prediction!.depletionNowMm).toBeLessThan(before.prediction!.depletionNowMm - depth / 2);
    expect(after.decision.state.advice).toBeNull();

    // InfluxDB has the record as an `irrigation` point and the depletion as the predictor saw it.
    const points = await eventually(async () => {
      const [result] = await queryInfluxQl(target, `SELECT "depth_mm", "duration_s", "id" FROM "irrigation" WHERE "farm" = '${FARM}' GROUP BY "field", "source", "who"`);
      return result?.series?.length ? result.series : undefined;
    }, { what: 'the irrigation point' });
    expect(points).toEqual([
      { name: 'irrigation', tags: { field: FIELD, source: 'api', who: 'admin' }, columns: ['time', 'depth_mm', 'duration_s', 'id'], values: [[adviceAt + 10 * 60_000, depth, 3000, record.id]] },
    ]);
    const depletion = await eventually(async () => {
      const [result] = await queryInfluxQl(target, `SELECT "depletion_mm" FROM "recommendation" WHERE "field" = '${FIELD}' ORDER BY time`);
      const values = result?.series?.[0]?.values;
      return values && values.length >= 2 ? values : undefined;
    }, { what: 'the recommendation points' });
    expect(depletion[0]).toEqual([adviceAt, expect.closeTo(before.prediction!.depletionNowMm, 3)]);
    expect(depletion.at(-1)).toEqual([now, 0]);
  });

  it('replays with the recorded irrigation from InfluxDB: the water already running at that hour holds the advice back', async () => {
    const deps = { history: createHistoryLoader(target), model: holder, evaluator };
    const range = { fromTs: adviceAt - 2 * HOUR, toTs: adviceAt + HOUR };
    const depletionAt = (into: Map<number, number>) => (evaluations: readonly { at: number; prediction: { depletionNowMm: number } | null }[]) => {
      for (const e of evaluations) if (e.prediction) into.set(e.at, e.prediction.depletionNowMm);
    };
    const dry = new Map<number, number>();
    const wet = new Map<number, number>();
    const without = await replay([field], range, { ...deps, onRound: depletionAt(dry) });
    const withWater = await replay([field], range, { ...deps, appliedHistory: createAppliedWaterLoader(target), onRound: depletionAt(wet) });
    expect(without.events['irrigation.recommended']).toBe(1);
    expect(withWater.events['irrigation.recommended']).toBeUndefined();
    // Before the water started nothing differs; 40 of its 50 minutes had run at the advice hour.
    expect(wet.get(adviceAt - HOUR)).toBe(dry.get(adviceAt - HOUR));
    expect(wet.get(adviceAt)).toBeCloseTo(Math.max(0, dry.get(adviceAt)! - (40 / 50) * depth), 6);
  });
});
