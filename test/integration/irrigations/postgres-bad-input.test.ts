/**
 * Bad input on the PostgreSQL backend: PostgreSQL cannot store a NUL character (SQLSTATE 22021),
 * so a value carrying one must be refused as the request's fault (a 400 catalog error, a refusal
 * on the device's errors topic) and never taken for the database being down (a 503, no PUBACK: the
 * broker would hand the same poison message over again and again, and every later report of the
 * instance would wait behind it). Only an unavailable database is a 503. InfluxDB 1.8 only: what
 * is refused never reaches InfluxDB, and nothing here reads it back.
 */
import type { FastifyInstance } from 'fastify';
import mqtt from 'mqtt';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildForecasts, type Forecasts } from '../../../services/forecasts/build-forecasts.js';
import { buildHostApp } from '../../../services/host/http-app.js';
import { buildIrrigations, type Irrigations } from '../../../services/irrigations/build-irrigations.js';
import { createIrrigationRepository } from '../../../services/irrigations/open-store.js';
import { parseIrrigationInput } from '../../../services/irrigations/record.js';
import type { DeviceRepository } from '../../../services/registry/device.js';
import { createSqliteDeviceRepository } from '../../../services/registry/sqlite-devices.js';
import { deviceErrorsTopic, deviceIrrigationsTopic } from '../../../services/shared/bus/topics.js';
import { databaseUnavailable, orUnavailable } from '../../../services/shared/database/postgres.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { planeFixture, type PlaneFixture } from '../../helpers/control-plane-fixture.js';
import { eventually } from '../../helpers/eventually.js';
import { testInflux } from '../../helpers/test-influx.js';

const influx = testInflux();

const ADMIN = 'bad-input-admin-token-0123456789';
const NOW = Date.parse('2026-07-07T09:00:00Z');
const codeOf = (promise: Promise<unknown>) => promise.then(() => 'resolved', (err: { code?: string }) => err.code);

describe(`database errors on PostgreSQL`, () => {
  let fixture: PlaneFixture;
  beforeAll(async () => {
    fixture = await planeFixture('postgres', 'db_errors');
  });
  afterAll(() => fixture?.close());

  it('calls a refused value the request\'s fault (400), an unreachable or timed-out database unavailable (503), and a broken statement a bug', async () => {
    const pool = new pg.Pool({ connectionString: fixture.databaseUrl, max: 1 });
    fixture.onClose(() => pool.end());
    const refused = await orUnavailable(pool.query('SELECT $1::text AS t', ['a\u0000b']), 'db', 'read').catch((err: unknown) => err);
    expect(refused).toMatchObject({ code: 'FH_ERR_DATABASE_VALUE_REFUSED', statusCode: 400, details: { sqlState: '22021' } });
    const outOfRange = await orUnavailable(pool.query('SELECT $1::int AS n', ['99999999999']), 'db', 'read').catch((err: unknown) => err);
    expect(outOfRange).toMatchObject({ code: 'FH_ERR_DATABASE_VALUE_REFUSED', statusCode: 400 });

    const client = await pool.connect();
    await client.query('SET statement_timeout = 50');
    const timedOut = await orUnavailable(client.query('SELECT pg_sleep(5)'), 'db', 'sleep').catch((err: unknown) => err);
    await client.query('RESET statement_timeout');
    client.release();
    expect(timedOut).toMatchObject({ code: 'FH_ERR_DATABASE_UNAVAILABLE', statusCode: 503 });

    const nowhere = new pg.Pool({ connectionString: 'postgres://fieldhook@127.0.0.1:1/none', max: 1 });
    const unreachable = await orUnavailable(nowhere.query('SELECT 1'), 'db', 'read').catch((err: unknown) => err);
    await nowhere.end();
    expect(unreachable).toMatchObject({ code: 'FH_ERR_DATABASE_UNAVAILABLE', statusCode: 503 });

    // A statement no database could run (a syntax error) is fieldhook's bug, not the database's state.
    const bug = await pool.query('SELEC 1').catch((err: unknown) => err);
    expect(databaseUnavailable(bug, 'db', 'read')).toBe(bug);
  });

  it('refuses a NUL in an idempotency key at the store with a 400, not a 503', async () => {
    const store = createIrrigationRepository(fixture.plane());
    await store.open();
    const input = { ...parseIrrigationInput({ farm: 'f1', field: 'north', depth_mm: 5, end: NOW }, NOW), source: 'api' as const, who: 'admin', recordedAt: NOW };
    expect(await codeOf(store.record(input, { scope: 'device:v', key: 'a\u0000b' }))).toBe('FH_ERR_DATABASE_VALUE_REFUSED');
    expect((await store.record(input, { scope: 'device:v', key: 'ab' })).replayed).toBe(false);
  });
});

describe(`a NUL character through the ways in, on PostgreSQL`, () => {
  const mosquittoUrl = inject('mosquittoUrl');
  const database = `irrigations_bad_input_${process.pid}`;
  const device = `valve-nul-${process.pid}`;
  let fixture: PlaneFixture;
  let devices: DeviceRepository;
  let irrigations: Irrigations;
  let forecasts: Forecasts;
  let app: FastifyInstance;

  beforeAll(async () => {
    fixture = await planeFixture('postgres', 'bad_input');
    await influx.createDatabase(database);
    devices = createSqliteDeviceRepository(`${fixture.dataDir}/registry.db`);
    await devices.add({ id: device, farm: 'f9', field: 'orchard', kind: 'device' });
    // A subscription of its own, not the shared group: test files running at once on the same
    // Mosquitto would otherwise take each other's reports (and drop them: unknown devices).
    const bus = () => ({ url: mosquittoUrl, protocolVersion: 5 as const, sharedSubscriptions: false });
    const config = { DATA_DIR: fixture.dataDir, ADMIN_TOKEN: ADMIN, MQTT_URL: mosquittoUrl, INSTANCE_ID: `bad-input-${process.pid}` };
    irrigations = buildIrrigations({
      config, logger: silentLogger(), devices, plane: fixture.plane(), bus,
      influx: influx.target(database),
    });
    // Forecasts only over HTTP here: no MQTT_URL, so no subscription.
    forecasts = buildForecasts({ config: { DATA_DIR: fixture.dataDir, ADMIN_TOKEN: ADMIN }, logger: silentLogger(), devices, plane: fixture.plane(), bus });
    app = buildHostApp([irrigations, forecasts], { logger: silentLogger() });
    await irrigations.start();
    await forecasts.start();
  });

  afterAll(async () => {
    await app?.close();
    await forecasts?.stop();
    await irrigations?.stop();
    devices?.close();
    await fixture?.close();
  });

  const post = (url: string, payload: Record<string, unknown>) =>
    app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${ADMIN}` }, payload });

  it('answers a NUL in an admin\'s `who` and in a forecast\'s `source` with the component\'s 400', async () => {
    const irrigation = await post('/v1/irrigations', { farm: 'f1', field: 'north', depth_mm: 5, end: NOW, who: 'ops\u0000' });
    expect(irrigation.statusCode).toBe(400);
    expect(irrigation.json()).toMatchObject({ code: 'FH_ERR_IRRIGATION_INVALID', field: 'who' });
    const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000 + 3_600_000;
    const forecast = await post('/v1/forecasts', { farm: 'f1', source: 'gfs\u0000', hours: [{ ts: hour, rain_mm: 1 }] });
    expect(forecast.statusCode).toBe(400);
    expect(forecast.json()).toMatchObject({ code: 'FH_ERR_FORECAST_INVALID', field: 'source' });
  });

  it('refuses a valve controller\'s report whose id holds a NUL on its errors topic, and records the next report', async () => {
    const watcher = await mqtt.connectAsync(mosquittoUrl, { protocolVersion: 5, clientId: `watcher-nul-${process.pid}` });
    const valve = await mqtt.connectAsync(mosquittoUrl, { protocolVersion: 5, clientId: device });
    try {
      const refusals: unknown[] = [];
      watcher.on('message', (_topic, payload) => refusals.push(JSON.parse(payload.toString())));
      await watcher.subscribeAsync(deviceErrorsTopic(device), { qos: 1 });
      const end = new Date(NOW).toISOString();
      await valve.publishAsync(deviceIrrigationsTopic(device), JSON.stringify({ id: 'run\u00001', depth_mm: 4, end }), { qos: 1 });
      await valve.publishAsync(deviceIrrigationsTopic(device), JSON.stringify({ id: 'run-2', depth_mm: 6, end }), { qos: 1 });
      const refused = await eventually(() => refusals[0], { what: 'the refusal' });
      expect(refused).toEqual({ refused: [{ code: 'FH_ERR_IRRIGATION_INVALID', message: expect.any(String), field: 'id' }] });
      const records = await eventually(async () => {
        const list = await irrigations.service.list({ farm: 'f9' });
        return list.length ? list : undefined;
      }, { what: 'the next report recorded' });
      expect(records.map((r) => r.depth_mm)).toEqual([6]);
    } finally {
      await valve.endAsync();
      await watcher.endAsync();
    }
  });
});
