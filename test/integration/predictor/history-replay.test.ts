/**
 * History and replay against the real InfluxDB 1.8, and 2.7 in the integration-influx2 project:
 * windows rebuilt with InfluxQL on `/query` (the dialect 2.x serves through DBRP and 3.x
 * natively), replays writing `recommendation` points and publishing only when asked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Point } from '@influxdata/influxdb-client';
import type { PublishInput } from '../../../services/dispatcher/index.js';
import { POPULATIONS, profileFromSpec } from '../../../services/training/dataset.js';
import { DEFAULT_DECISION_OPTIONS } from '../../../services/predictor/decision.js';
import { fieldKey, type FieldSettings } from '../../../services/predictor/field-profiles.js';
import { createHistoryLoader, historyQuery } from '../../../services/predictor/history-loader.js';
import { createModelHolder } from '../../../services/predictor/model-holder.js';
import { createRecommendationWriter } from '../../../services/predictor/outputs.js';
import { replay } from '../../../services/predictor/replay.js';
import { createInfluxClient } from '../../../services/shared/influx.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { simulateField } from '../../../services/simulator/field-run.js';
import { createFieldSpecs } from '../../../services/simulator/fields.js';
import { sensorReadings } from '../../../services/simulator/sensors.js';
import { testInflux } from '../../helpers/test-influx.js';

const HOUR = 3_600_000;

const influx = testInflux();

describe(`history loader and replay (InfluxDB ${influx.kind})`, () => {
  const database = `predict_history_${process.pid}`;
  const target = influx.target(database);
  const [spec] = createFieldSpecs({ count: 1, seed: 'replay', population: POPULATIONS.heldOut });
  const run = simulateField(spec!);
  const readings = sensorReadings(run).slice(0, 24 * 10);
  const p = profileFromSpec(spec!);
  const settings: FieldSettings = {
    farm: "o'farm", field: 'north field', crop: spec!.crop, kc: spec!.cropParams, sowingDate: spec!.sowingDate, thetaFc: spec!.thetaFc,
    thetaWp: spec!.thetaWp, rootDepthM: spec!.rootDepthM, p: spec!.p, efficiency: 0.75, latitudeDeg: p.latitudeDeg, longitudeDeg: p.longitudeDeg,
    elevationM: p.elevationM, tzLongitudeDeg: p.tzLongitudeDeg, windHeightM: p.windHeightM,
  };
  const holder = createModelHolder({ modelPath: 'models/irrigation/model.onnx', cardPath: 'models/irrigation/model.json', pollMs: 60_000 }, silentLogger());

  beforeAll(async () => {
    await influx.createDatabase(database);
    const api = createInfluxClient(target).getWriteApi(target.org, database, 'ms');
    for (const field of [settings.field, 'other']) {
      api.writePoints(
        readings.map((r) => {
          const pt = new Point('reading').tag('farm', settings.farm).tag('field', field).tag('device', r.device).timestamp(new Date(r.ts));
          for (const [k, v] of Object.entries(r.values)) pt.floatField(k, v);
          return pt;
        }),
      );
    }
    await api.close();
    await holder.start();
  });
  afterAll(() => holder.stop());

  it('loads one field\'s readings in order, quoting tag values safely', async () => {
    const loader = createHistoryLoader(target);
    const from = Date.parse(readings[0]!.ts) - HOUR;
    const to = Date.parse(readings.at(-1)!.ts);
    const byField = await loader.load(from, to, [settings]);
    expect([...byField.keys()]).toEqual([fieldKey(settings.farm, settings.field)]);
    const loaded = byField.get(fieldKey(settings.farm, settings.field))!;
    expect(loaded).toHaveLength(readings.length);
    expect(loaded[5]).toEqual({ ts: Date.parse(readings[5]!.ts), values: readings[5]!.values });
    expect((await loader.load(from, to)).size).toBe(2);
    expect(historyQuery(0, 1, [settings])).toContain(`"farm" = 'o\\'farm'`);
    // A database that does not exist yet is an empty history, not a failure.
    expect((await createHistoryLoader({ ...target, bucket: 'no_such_db' }).load(from, to)).size).toBe(0);
  });

  it('replays hourly, writes a recommendation point per evaluation, publishes only with send', async () => {
    const published: PublishInput[] = [];
    const fromTs = Date.parse(readings[80]!.ts);
    const toTs = Date.parse(readings.at(-1)!.ts) + 6 * HOUR; // the last hours are silent: stale
    const deps = {
      history: createHistoryLoader(target),
      model: holder,
      writer: createRecommendationWriter(createInfluxClient(target), target.org, database),
      publish: async (e: PublishInput) => {
        published.push(e);
        return { id: e.id!, deliveries: 1, duplicate: false };
      },
      evaluator: { ...DEFAULT_DECISION_OPTIONS, staleAfterMs: 3 * HOUR },
    };
    const field = { key: fieldKey(settings.farm, settings.field), settings, profile: p };
    const summary = await replay([field], { fromTs, toTs }, deps);
    const hours = Math.floor((toTs - fromTs) / HOUR) + 1;
    expect(summary.evaluations).toBe(hours);
    expect(summary.events['sensor.stale']).toBe(1);
    expect(published).toHaveLength(0);

    const body = await influx.query<{ results: { series?: { values: number[][] }[] }[] }>(database, `SELECT count("stale") FROM "recommendation" WHERE "field" = 'north field'`);
    expect(body.results[0]!.series![0]!.values[0]![1]).toBe(hours);

    const again = await replay([field], { fromTs, toTs, send: true }, deps);
    expect(again.events).toEqual(summary.events);
    expect(published.length).toBe(Object.values(summary.events).reduce((a, b) => a + b, 0));
    // Same decision at the same time gives the same event id: re-sending is idempotent downstream.
    const ids = published.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    await deps.writer.close();
  });
});
