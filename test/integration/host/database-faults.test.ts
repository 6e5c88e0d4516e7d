/**
 * What an operator does to the PostgreSQL database under a running fieldhook (a privilege
 * revoked, a table renamed away) is the service being unavailable: the HTTP answer is a 503
 * with FH_ERR_DATABASE_UNAVAILABLE and the SQLSTATE, logged at error, whichever store the route
 * reads (the dispatcher's, whose SQL runs bare, or the forecasts', which maps its errors), and
 * never a bare 500, a stack or the driver's message alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDispatcher, createDispatchConfig, type FieldhookDispatcher } from '../../../services/dispatcher/index.js';
import { createDispatchStore } from '../../../services/dispatcher/store/open-store.js';
import { buildForecasts, type Forecasts } from '../../../services/forecasts/build-forecasts.js';
import { createForecastRepository } from '../../../services/forecasts/open-store.js';
import { buildHostApp } from '../../../services/host/http-app.js';
import { createSqliteDeviceRepository } from '../../../services/registry/sqlite-devices.js';
import { closeControlPlane, createControlPlane } from '../../../services/shared/database/control-plane.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { captureLogger } from '../../helpers/capture-logger.js';
import { planeFixture, type PlaneFixture } from '../../helpers/control-plane-fixture.js';

const ADMIN = 'database-faults-admin-token-0123456789';
const auth = { authorization: `Bearer ${ADMIN}` };

describe('operator-side database faults answer 503 with a catalog code (PostgreSQL)', () => {
  const role = `fh_faults_${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'fh-db-faults-'));
  const devices = createSqliteDeviceRepository(join(dir, 'registry.db'));
  const { lines, logger } = captureLogger();
  let fixture: PlaneFixture;
  let admin: pg.Client;
  let dispatcher: FieldhookDispatcher;
  let forecasts: Forecasts;
  let app: FastifyInstance;

  beforeAll(async () => {
    fixture = await planeFixture('postgres', 'db_faults');
    // The schema as the operator's own login applied it; fieldhook then runs under a login of its own.
    const setup = fixture.plane('setup');
    await createDispatchStore(setup, join(dir, 'unused.sqlite'), 'setup').open();
    await createForecastRepository(setup, silentLogger()).open();
    admin = new pg.Client({ connectionString: fixture.databaseUrl });
    await admin.connect();
    await admin.query(`CREATE ROLE ${role} LOGIN`);
    await admin.query(`GRANT ALL ON ALL TABLES IN SCHEMA public TO ${role}`);
    await admin.query(`GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO ${role}`);
    await admin.query(`GRANT CREATE ON SCHEMA public TO ${role}`);
    const url = new URL(fixture.databaseUrl!);
    url.username = role;
    const config = createDispatchConfig({ ADMIN_TOKEN: ADMIN, DATA_DIR: dir, DATABASE_URL: url.toString(), INSTANCE_ID: 'faults' });
    const plane = createControlPlane(config, silentLogger());
    fixture.onClose(() => closeControlPlane(plane));
    dispatcher = buildDispatcher({ config, logger: silentLogger(), plane });
    forecasts = buildForecasts({ config: { DATA_DIR: dir, ADMIN_TOKEN: ADMIN }, logger: silentLogger(), devices, bus: () => { throw new Error('no broker'); }, plane });
    await dispatcher.start();
    await forecasts.start();
    app = buildHostApp([dispatcher, forecasts], { logger });
  });
  afterAll(async () => {
    await app?.close();
    await forecasts?.stop();
    await dispatcher?.stop();
    await fixture?.close();
    await admin?.query(`DROP OWNED BY ${role}`);
    await admin?.query(`DROP ROLE ${role}`);
    await admin?.end();
    devices.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The answer is a catalog 503 naming the SQLSTATE, and the request's log line at error says it too. */
  const expectUnavailable = (res: { statusCode: number; headers: Record<string, unknown>; body: string }, sqlState: string) => {
    expect(res.statusCode).toBe(503);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const body = JSON.parse(res.body) as Record<string, unknown>;
    expect(body).toMatchObject({ code: 'FH_ERR_DATABASE_UNAVAILABLE', status: 503, sqlState });
    expect(res.body).not.toMatch(/\n\s+at /);
    const logged = lines.filter((l) => l.level === 50 && l.msg === 'request failed').at(-1) as { err?: { code?: string; details?: { sqlState?: string } } } | undefined;
    expect(logged?.err).toMatchObject({ code: 'FH_ERR_DATABASE_UNAVAILABLE', details: { sqlState } });
  };

  it('a privilege revoked (42501) on the dispatcher\'s subscriptions', async () => {
    expect((await app.inject({ method: 'GET', url: '/v1/subscriptions', headers: auth })).statusCode).toBe(200);
    await admin.query(`REVOKE SELECT ON dispatch_subscriptions FROM ${role}`);
    try {
      expectUnavailable(await app.inject({ method: 'GET', url: '/v1/subscriptions', headers: auth }), '42501');
    } finally {
      await admin.query(`GRANT SELECT ON dispatch_subscriptions TO ${role}`);
    }
    expect((await app.inject({ method: 'GET', url: '/v1/subscriptions', headers: auth })).statusCode).toBe(200);
  });

  it('a table renamed away (42P01) under the forecasts', async () => {
    const post = () => app.inject({ method: 'POST', url: '/v1/forecasts', headers: auth, payload: { farm: 'f1', hours: [{ ts: Math.ceil(Date.now() / 3_600_000) * 3_600_000, rain_mm: 2 }] } });
    expect((await post()).statusCode).toBe(201);
    await admin.query('ALTER TABLE forecast_hour RENAME TO forecast_hour_elsewhere');
    try {
      expectUnavailable(await post(), '42P01');
    } finally {
      await admin.query('ALTER TABLE forecast_hour_elsewhere RENAME TO forecast_hour');
    }
    expect((await post()).statusCode).toBe(201);
  });
});
