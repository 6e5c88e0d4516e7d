/**
 * The start-up check of InfluxDB against a real InfluxDB 1.8: one with authentication enabled,
 * started here (the shared one has none), and the shared one for a missing database. A start that
 * fails stops every part and the command exits non-zero; a write refused later for a reason of
 * configuration fails `/readyz` and names the setting.
 * InfluxDB 1.8 only: users with passwords, `CREATE DATABASE` and 1.8's answers are what it tests;
 * what 2.x answers (tokens, orgs, buckets) is in influxdb-setup.influx2.test.ts.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { influxdBinaryPath, startInfluxDB } from '../../../infra/harness/influxdb.js';
import { freePort, startProcess, waitUntil, type ManagedProcess } from '../../../infra/harness/process.js';
import { PIPELINE_CONFIG } from '../../../services/host/config.js';
import { createInfluxComponent } from '../../../services/host/influxdb-component.js';
import { startFieldhook } from '../../../services/host/fieldhook.js';
import { loadConfig } from '../../../services/shared/config.js';
import { checkInfluxServer } from '../../../services/shared/influx-server.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { createIngestFixture, reading } from '../../helpers/ingest-fixture.js';
import { testInflux } from '../../helpers/test-influx.js';
import { influxql, provisionedInfluxHeaders } from '../grafana/grafana-queries.js';
import { eventually } from '../../helpers/eventually.js';
import { asEnvironment } from '../../helpers/settings.js';

const exec = promisify(execFile);

/** InfluxDB 1.8 with `auth-enabled`: an admin, a user that may only write and one that may only read. */
async function startAuthInflux(dir: string): Promise<{ url: string; proc: ManagedProcess }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = startProcess(influxdBinaryPath(), ['run', '-config', '/dev/null'], {
    ...process.env,
    INFLUXDB_HTTP_BIND_ADDRESS: `127.0.0.1:${port}`,
    INFLUXDB_BIND_ADDRESS: `127.0.0.1:${await freePort()}`,
    INFLUXDB_HTTP_AUTH_ENABLED: 'true',
    INFLUXDB_HTTP_LOG_ENABLED: 'false',
    INFLUXDB_REPORTING_DISABLED: 'true',
    INFLUXDB_META_DIR: join(dir, 'meta'),
    INFLUXDB_DATA_DIR: join(dir, 'data'),
    INFLUXDB_DATA_WAL_DIR: join(dir, 'wal'),
    INFLUXDB_LOGGING_LEVEL: 'warn',
  });
  await waitUntil(async () => (await fetch(`${url}/ping`)).status === 204, 30_000, 'InfluxDB with auth');
  const q = async (query: string, auth?: string) => {
    const res = await fetch(`${url}/query`, {
      method: 'POST',
      body: new URLSearchParams({ q: query }),
      headers: auth ? { authorization: `Basic ${Buffer.from(auth).toString('base64')}` } : {},
    });
    if (!res.ok) throw new Error(`${query}: ${res.status} ${await res.text()}`);
  };
  // The first admin may be created without credentials; everything after needs them.
  await q(`CREATE USER admin WITH PASSWORD 'admin-pw' WITH ALL PRIVILEGES`);
  for (const s of [
    'CREATE DATABASE farm',
    `CREATE USER writer WITH PASSWORD 'writer-pw'`,
    'GRANT WRITE ON farm TO writer',
    `CREATE USER reader WITH PASSWORD 'reader-pw'`,
    'GRANT READ ON farm TO reader',
    `CREATE USER both WITH PASSWORD 'both-pw'`,
    'GRANT ALL ON farm TO both',
  ]) {
    await q(s, 'admin:admin-pw');
  }
  // The grants reach the server's authorizer a moment after they are answered (seen once on a
  // loaded machine: the writer refused the write it was just granted). Wait until they hold.
  const basic = (auth: string) => ({ authorization: `Basic ${Buffer.from(auth).toString('base64')}` });
  await eventually(
    async () =>
      (await fetch(`${url}/write?db=farm`, { method: 'POST', headers: basic('writer:writer-pw'), body: 'fh_grant_probe ok=1' })).status === 204 &&
      (await fetch(`${url}/query?db=farm&q=${encodeURIComponent('SHOW MEASUREMENTS')}`, { headers: basic('reader:reader-pw') })).ok,
    { timeoutMs: 20_000, what: 'the grants in force' },
  );
  return { url, proc };
}

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });

describe('InfluxDB set-up check at start, against a real InfluxDB 1.8 with authentication', () => {
  const root = mkdtempSync(join(tmpdir(), 'fh-influx-setup-'));
  let influx: { url: string; proc: ManagedProcess };

  beforeAll(async () => {
    influx = await startAuthInflux(join(root, 'influxdb'));
  }, 60_000);
  afterAll(async () => {
    await influx?.proc.stop();
    rmSync(root, { recursive: true, force: true });
  });

  const check = (token: string, bucket = 'farm') => checkInfluxServer({ url: influx.url, token, org: 'ignored', bucket }, { timeoutMs: 5_000 });

  it('a user that may write and read passes; the server is 1.x (a source build says version "unknown")', async () => {
    const report = await check('both:both-pw');
    expect(report).toEqual({ reachable: true, server: { kind: '1.x', version: 'unknown', build: 'OSS' }, problems: [] });
  });

  it('bad credentials are INFLUX_TOKEN, answered 401', async () => {
    const report = await check('both:wrong');
    expect(report.problems).toEqual([{ setting: 'INFLUX_TOKEN', message: expect.stringContaining('refused the credentials (401 authorization failed)') }]);
  });

  it('a user that may only write is refused at start: the predictor could not read its history', async () => {
    const report = await check('writer:writer-pw');
    expect(report.problems).toEqual([{ setting: 'INFLUX_TOKEN', message: expect.stringContaining('may not read farm (403') }]);
  });

  it('a user that may only read is refused: it could not write', async () => {
    const report = await check('reader:reader-pw');
    expect(report.problems).toEqual([{ setting: 'INFLUX_TOKEN', message: expect.stringContaining('may not write to farm (403') }]);
  });

  it('the provisioned Grafana data source reads with a user that may only read (`Authorization: Token user:password`)', async () => {
    const q = 'SELECT count(*) FROM "reading"';
    const reader = await influxql(influx.url, 'farm', q, provisionedInfluxHeaders({ FIELDHOOK_GRAFANA_INFLUX_TOKEN: 'reader:reader-pw' }));
    expect(reader.error).toBeUndefined();
    const nobody = await influxql(influx.url, 'farm', q, provisionedInfluxHeaders({}));
    // Without FIELDHOOK_GRAFANA_INFLUX_TOKEN the header is `Token ` alone, which 1.8 with authentication refuses.
    expect(nobody.error).toBe('unable to parse authentication credentials');
  });

  it('a database that does not exist is INFLUX_BUCKET', async () => {
    const report = await check('admin:admin-pw', 'no_such_db');
    expect(report.problems).toEqual([{ setting: 'INFLUX_BUCKET', message: expect.stringContaining('InfluxDB has no database "no_such_db" (404') }]);
  });

  it('a retention policy the database does not have (`database/policy`) is INFLUX_BUCKET, not the token', async () => {
    const report = await check('admin:admin-pw', 'farm/no_such_policy');
    expect(report.problems.map((p) => p.setting)).toContain('INFLUX_BUCKET');
    expect(report.problems.map((p) => p.setting)).not.toContain('INFLUX_TOKEN');
  });

  it('the influxdb component fails to start with FH_ERR_INFLUX_SETUP naming the setting', async () => {
    const component = createInfluxComponent(
      { url: influx.url, token: 'both:wrong', org: 'x', bucket: 'farm', createDatabase: true, dataDir: root, timeoutMs: 5_000 },
      silentLogger(),
    );
    await expect(component.start()).rejects.toMatchObject({ code: 'FH_ERR_INFLUX_SETUP', message: expect.stringContaining('INFLUX_TOKEN: InfluxDB refused the credentials') });
  });

  it('fieldhook start with a bad token stops every part and rejects: nothing is left listening', async () => {
    const [httpPort, mqttPort] = [await freePort(), await freePort()];
    const env = {
      DATA_DIR: join(root, 'start'), HTTP_HOST: '127.0.0.1', HTTP_PORT: String(httpPort), MQTT_LISTEN_HOST: '127.0.0.1', MQTT_LISTEN_PORT: String(mqttPort),
      MQTT_TLS_PORT: '0', INFLUX_URL: influx.url, INFLUX_TOKEN: 'both:wrong', INFLUX_BUCKET: 'farm', ADMIN_TOKEN: 'influx-setup-admin-token-0123',
    };
    const config = loadConfig(PIPELINE_CONFIG, asEnvironment(env));
    await expect(startFieldhook(config, silentLogger(), { handleSignals: false })).rejects.toMatchObject({ code: 'FH_ERR_INFLUX_SETUP' });
    expect(await portOpen(httpPort)).toBe(false);
    expect(await portOpen(mqttPort)).toBe(false);
  });

  it('the fieldhook start command exits non-zero and says which setting to change', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    const settings = {
      DATA_DIR: join(root, 'cli'), HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', MQTT_LISTEN_HOST: '127.0.0.1', MQTT_LISTEN_PORT: '0', MQTT_TLS_PORT: '0',
      INFLUX_URL: influx.url, INFLUX_TOKEN: 'writer:writer-pw', INFLUX_BUCKET: 'farm', ADMIN_TOKEN: 'influx-setup-admin-token-0123', LOG_LEVEL: 'error',
    };
    for (const [key, value] of Object.entries(settings)) env[`FIELDHOOK_${key}`] = value;
    const outcome = await exec(process.execPath, ['--import', 'tsx', 'services/cli/main.ts', 'start'], { env, timeout: 60_000 }).then(
      () => ({ code: 0, output: '' }),
      (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, output: `${err.stdout}${err.stderr}` }),
    );
    expect(outcome.code).not.toBe(0);
    expect(outcome.output).toContain('FH_ERR_INFLUX_SETUP');
    expect(outcome.output).toContain('INFLUX_TOKEN');
  }, 60_000);
});

describe('an InfluxDB that answers after fieldhook starts (a compose file starting both at once)', () => {
  const root = mkdtempSync(join(tmpdir(), 'fh-influx-late-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('start waits for it, then checks it (and creates the 1.x database)', async () => {
    const port = await freePort();
    const component = createInfluxComponent(
      { url: `http://127.0.0.1:${port}`, token: '', org: 'x', bucket: 'late', createDatabase: true, dataDir: root, timeoutMs: 2_000, startWaitMs: 60_000 },
      silentLogger(),
    );
    const starting = component.start();
    const influx = await startInfluxDB({ dataDir: join(root, 'influxdb'), port });
    try {
      await expect(starting).resolves.toBeUndefined();
      // The database exists now: the start created it once InfluxDB answered.
      const report = await checkInfluxServer({ url: influx.url, token: '', org: 'x', bucket: 'late' }, { timeoutMs: 5_000 });
      expect(report.problems).toEqual([]);
    } finally {
      await influx.stop();
    }
  }, 90_000);

  it('goes on unchecked when nothing answers within the wait: the spool holds readings meanwhile', async () => {
    const port = await freePort();
    const component = createInfluxComponent(
      { url: `http://127.0.0.1:${port}`, token: '', org: 'x', bucket: 'none', createDatabase: true, dataDir: root, timeoutMs: 500, startWaitMs: 1_500 },
      silentLogger(),
    );
    await expect(component.start()).resolves.toBeUndefined();
  });
});

describe('/readyz while InfluxDB refuses writes for a reason of configuration (real InfluxDB 1.8)', () => {
  const database = `readyz_refusal_${process.pid}`;
  let fx: ReturnType<typeof createIngestFixture>;
  let secret: string;

  beforeAll(async () => {
    // The database does not exist yet: every write answers 404 database not found.
    fx = createIngestFixture({ database });
    secret = (await fx.devices.add({ id: 'rz-1', farm: 'farm-a', field: 'north', kind: 'device' })).secret;
    await fx.ingestor.start();
  });
  afterAll(() => fx.close());

  const readyz = async () => {
    const res = await fx.app.inject({ method: 'GET', url: '/readyz' });
    return { status: res.statusCode, body: res.body };
  };

  it('fails and names INFLUX_BUCKET until the database exists, then passes once a write succeeds', async () => {
    const sent = await fx.app.inject({ method: 'POST', url: '/v1/readings', headers: { authorization: `Bearer ${secret}` }, payload: reading('rz-1', 0) });
    expect(sent.statusCode).toBeLessThan(300);
    const refused = await eventually(async () => {
      const r = await readyz();
      return r.status === 503 && r.body.includes('INFLUX_BUCKET') ? r.body : undefined;
    }, { what: '/readyz 503 naming INFLUX_BUCKET' });
    expect(JSON.parse(refused)).toMatchObject({
      status: 'not_ready',
      checks: expect.arrayContaining([expect.objectContaining({ ok: false, detail: expect.objectContaining({ refused: expect.objectContaining({ status: 404, setting: 'INFLUX_BUCKET' }) }) })]),
    });
    await testInflux().createDatabase(database);
    await eventually(async () => (await readyz()).status === 200, { what: '/readyz 200 after the database was created' });
  });
});
