/**
 * Two predictors sharing fields on one PostgreSQL (automatic partitions), in one process, with
 * the real model and a real InfluxDB for the readings: each field is evaluated by exactly one of
 * them, and a field that moves (a newcomer takes its share, its predictor stops or crashes)
 * keeps its advice in force: one need, one message.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createForecastRepository } from '../../../services/forecasts/open-store.js';
import type { ForecastRepository } from '../../../services/forecasts/store.js';
import type { BuildPredictorOptions } from '../../../services/predictor/build-predictor.js';
import { createHistoryLoader } from '../../../services/predictor/history-loader.js';
import type { FieldSettings } from '../../../services/predictor/field-profiles.js';
import { createModelHolder, type ModelHolder } from '../../../services/predictor/model-holder.js';
import { fieldHash } from '../../../services/predictor/partition.js';
import { AUTO_PARTITIONS } from '../../../services/predictor/partition-assignment.js';
import { DEFAULT_MEMBERSHIP_OPTIONS } from '../../../services/predictor/partition-membership.js';
import { createSqliteFieldProfiles, openPredictorDb } from '../../../services/predictor/sqlite-predictor-store.js';
import { closeControlPlane, createControlPlane, type ControlPlane } from '../../../services/shared/database/control-plane.js';
import { silentLogger } from '../../../services/shared/logger.js';
import type { SqliteDatabase } from '../../../services/shared/sqlite.js';
import { advisedSeason, afterHeartbeat, buildSharedPredictor, type SharedPredictor } from '../../helpers/advice-fixture.js';
import { eventually } from '../../helpers/eventually.js';
import { createTestDatabase } from '../../helpers/postgres-database.js';
import { testInflux } from '../../helpers/test-influx.js';

const influx = testInflux();

const FARM = 'shared';
const FIELDS = Array.from({ length: 8 }, (_, i) => `f${i}`);
const { heartbeatMs } = DEFAULT_MEMBERSHIP_OPTIONS;

describe(`predictors sharing fields on PostgreSQL (InfluxDB ${influx.kind})`, () => {
  const target = influx.target(`shared_fields_${process.pid}`);
  const dir = mkdtempSync(join(tmpdir(), 'fh-shared-fields-'));
  const model = createModelHolder({ modelPath: 'models/irrigation/model.onnx', cardPath: 'models/irrigation/model.json', pollMs: 60_000 }, silentLogger());
  // Each predictor starts and stops its own view of the one loaded model.
  const holder: ModelHolder = { start: async () => {}, stop: async () => {}, reload: () => model.reload(), current: () => model.current() };
  let databaseUrl: string;
  let profiles: SqliteDatabase;
  let adviceAt: number;
  const running: SharedPredictor[] = [];
  const planes: ControlPlane[] = [];
  const forecastStores: ForecastRepository[] = [];

  /** A predictor's own forecasts on PostgreSQL, holding in memory only what it names. */
  const forecastsFor = async (id: string): Promise<ForecastRepository> => {
    const plane = createControlPlane({ DATA_DIR: dir, DATABASE_URL: databaseUrl, INSTANCE_ID: `${id}-forecasts` }, silentLogger());
    planes.push(plane);
    const store = createForecastRepository(plane, silentLogger(), { following: 'declared' });
    forecastStores.push(store);
    await store.open();
    return store;
  };
  /** Hours far enough ahead that no evaluation reads them (the features read 24 h, the hold rule at most 96). */
  const farAhead = () => Math.floor(adviceAt / 3_600_000) * 3_600_000 + 100 * 3_600_000;
  const holdsForecast = (store: ForecastRepository, field: string) => store.hours(FARM, field, farAhead() - 3_600_000, farAhead()).length > 0;

  const start = async (id: string, at: number, extra: Partial<BuildPredictorOptions> = {}): Promise<SharedPredictor> => {
    // Field profiles are the same for both (one file); decision state is PostgreSQL's.
    const r = buildSharedPredictor({ id, at, planeDir: dir, dataDir: join(dir, id), databaseUrl, target, holder, extra: { fields: createSqliteFieldProfiles(profiles), ...extra } });
    running.push(r);
    await r.predictor.start();
    return r;
  };

  const recommended = (r: SharedPredictor) => r.published.filter((e) => e.type === 'irrigation.recommended').map((e) => (e.data as { field: string }).field).sort();
  const adviceIds = (r: SharedPredictor) => new Map(r.predictor.status().fields.map((f) => [f.settings.field, f.state?.advice?.eventId]));

  beforeAll(async () => {
    await influx.createDatabase(target.bucket);
    await model.start();
    const season = await advisedSeason('irrigation-advice', holder);
    adviceAt = season.adviceAt;
    await season.write(target, FIELDS.map((field) => ({ farm: FARM, field })));
    databaseUrl = await createTestDatabase('shared_fields');
    profiles = openPredictorDb(join(dir, 'profiles.db'));
    const repo = createSqliteFieldProfiles(profiles);
    for (const field of FIELDS) await repo.add(season.settings(FARM, field) as FieldSettings);
    // The fields fall into more than one partition, so both predictors get some once they share.
    expect(new Set(FIELDS.map((f) => fieldHash(`${FARM}/${f}`) % AUTO_PARTITIONS)).size).toBeGreaterThan(4);
  }, 120_000);

  afterAll(async () => {
    for (const r of running) {
      await r.predictor.stop().catch(() => {});
      await closeControlPlane(r.plane);
    }
    for (const store of forecastStores) await store.close();
    for (const plane of planes) await closeControlPlane(plane);
    profiles?.close();
    await model.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('advises each field once, then hands fields to a newcomer without advising them again, each holding only its own fields\' forecasts', async () => {
    const writer = await forecastsFor('writer');
    for (const field of FIELDS) await writer.save({ farm: FARM, field, issuedAt: adviceAt, source: 'api', hours: [{ ts: farAhead(), rainMm: 1 }] });
    const aForecasts = await forecastsFor('pred-a');
    const bForecasts = await forecastsFor('pred-b');
    const a = await start('pred-a', adviceAt, { forecasts: aForecasts });
    expect(FIELDS.filter((f) => holdsForecast(aForecasts, f))).toEqual(FIELDS);
    expect(a.predictor.status().partitions).toMatchObject({ mode: 'auto', count: AUTO_PARTITIONS });
    expect(a.predictor.status().partitions!.held).toHaveLength(AUTO_PARTITIONS);
    expect(recommended(a)).toEqual([...FIELDS].sort());
    const advised = adviceIds(a);

    // b joins: a holds everything, so b takes nothing until a's heartbeat gives its share up.
    const b = await start('pred-b', adviceAt, { forecasts: bForecasts });
    expect(FIELDS.filter((f) => holdsForecast(bForecasts, f))).toEqual([]);
    expect(b.predictor.status().partitions!.held).toEqual([]);
    await afterHeartbeat(a, (n) => n === AUTO_PARTITIONS / 2);
    await afterHeartbeat(b, (n) => n === AUTO_PARTITIONS / 2);
    const aFields = a.predictor.status().fields.map((f) => f.settings.field);
    const bFields = b.predictor.status().fields.map((f) => f.settings.field);
    // Every field with exactly one of them.
    expect([...aFields, ...bFields].sort()).toEqual([...FIELDS].sort());
    expect(bFields.length).toBeGreaterThan(0);
    expect(aFields.length).toBeGreaterThan(0);
    // Each holds the forecasts of its own fields only: b loaded those it took, a let them go.
    expect(FIELDS.filter((f) => holdsForecast(aForecasts, f)).sort()).toEqual([...aFields].sort());
    expect(FIELDS.filter((f) => holdsForecast(bForecasts, f)).sort()).toEqual([...bFields].sort());
    // b took its fields with a's advice in force and sent nothing.
    await b.predictor.evaluate();
    expect(b.published.filter((e) => e.type === 'irrigation.recommended')).toEqual([]);
    for (const [field, id] of adviceIds(b)) expect(id).toBe(advised.get(field));
  });

  it('takes every field over when the other stops, and sends none of their advice again', async () => {
    const [a, b] = running as [SharedPredictor, SharedPredictor];
    const advised = adviceIds(a);
    const sentByA = a.published.length;
    await a.predictor.stop();
    running.splice(0, 1);
    await closeControlPlane(a.plane);
    // a released at once: b takes them at its next heartbeat.
    await afterHeartbeat(b, (n) => n === AUTO_PARTITIONS);
    expect(b.predictor.status().fields.map((f) => f.settings.field).sort()).toEqual([...FIELDS].sort());
    await b.predictor.evaluate();
    expect(b.published.filter((e) => e.type === 'irrigation.recommended')).toEqual([]);
    for (const [field, id] of advised) expect(adviceIds(b).get(field)).toBe(id);
    expect(a.published).toHaveLength(sentByA);
  });

  it('takes a crashed predictor’s fields once its leases expire, and sends none of their advice again', async () => {
    const [b] = running as [SharedPredictor];
    const advised = adviceIds(b);
    const lastRenewal = b.clock.now();
    const c = await start('pred-c', lastRenewal);
    expect(c.predictor.status().partitions!.held).toEqual([]);
    // b crashes: its clock stops, so it renews nothing after `lastRenewal`. c beats on until b's
    // leases have expired, then takes every partition.
    while (c.clock.now() < lastRenewal + DEFAULT_MEMBERSHIP_OPTIONS.leaseMs) await c.clock.advance(heartbeatMs);
    await eventually(() => c.predictor.status().partitions!.held.length === AUTO_PARTITIONS, { what: "c holding b's partitions" });
    await c.predictor.idle();
    expect(c.predictor.status().fields.map((f) => f.settings.field).sort()).toEqual([...FIELDS].sort());
    await c.predictor.evaluate();
    expect(c.published.filter((e) => e.type === 'irrigation.recommended')).toEqual([]);
    for (const [field, id] of advised) expect(adviceIds(c).get(field)).toBe(id);
  });

  it('takes fields over whose history fails to load only once it has loaded them with their state, and sends none of their advice again', async () => {
    const c = running.at(-1)!;
    const advised = adviceIds(c);
    await c.predictor.stop();
    running.splice(running.indexOf(c), 1);
    await closeControlPlane(c.plane);
    // InfluxDB answers d's first history query for the fields it takes with an error.
    const history = createHistoryLoader(target);
    let failures = 0;
    const d = await start('pred-d', c.clock.now(), {
      history: {
        load: async (from, to, fields) => {
          if (fields && fields.length > 0 && failures++ === 0) throw new Error('InfluxDB unreachable');
          return history.load(from, to, fields);
        },
      },
    });
    await d.predictor.idle();
    expect(failures).toBe(1);
    // Leased but not loaded: nothing evaluated, nothing sent, nothing saved over c's state.
    expect(d.predictor.status().partitions!.held).toHaveLength(AUTO_PARTITIONS);
    expect(d.predictor.status().fields).toEqual([]);
    await d.predictor.evaluate();
    expect(d.published).toEqual([]);
    // The next heartbeat loads them again, with the advice in force.
    await d.clock.advance(heartbeatMs);
    await eventually(() => d.predictor.status().fields.length === FIELDS.length, { what: "d's fields loaded on the next heartbeat" });
    await d.predictor.idle();
    await d.predictor.evaluate();
    expect(d.published.filter((e) => e.type === 'irrigation.recommended')).toEqual([]);
    for (const [field, id] of advised) expect(adviceIds(d).get(field)).toBe(id);
  });
});
