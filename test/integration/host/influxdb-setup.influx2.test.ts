/**
 * The start-up check, `fieldhook doctor` and `/readyz` against a real InfluxDB 2.7 (project
 * `integration-influx2`): what 2.x answers differs from 1.8 (test/integration/host/influxdb-setup.test.ts)
 * where it matters most. A token that may only write gets 200 "database not found" from `/query`,
 * a wrong org or a `db/rp` bucket name gets 404 on every write, and `CREATE DATABASE` answers
 * 200 with the error in the body.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, tcpOpen } from '../../../infra/harness/process.js';
import { runDoctor } from '../../../services/cli/doctor.js';
import { createInfluxComponent } from '../../../services/host/influxdb-component.js';
import { ensureInfluxDatabase } from '../../../services/host/local-influxdb.js';
import { checkInfluxServer } from '../../../services/shared/influx-server.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { eventually } from '../../helpers/eventually.js';
import { createIngestFixture, reading } from '../../helpers/ingest-fixture.js';
import { testInflux } from '../../helpers/test-influx.js';

const exec = promisify(execFile);
const influx = testInflux();
const BUCKET = `setup2_${process.pid}`;
const ADMIN_TOKEN = 'influx2-setup-admin-token-0123';

describe('InfluxDB 2.7: the set-up check names the setting to change', () => {
  const tokens: Record<'write' | 'read' | 'both', string> = { write: '', read: '', both: '' };
  const root = mkdtempSync(join(tmpdir(), 'fh-influx2-setup-'));

  beforeAll(async () => {
    expect(influx.kind).toBe('2.x');
    await influx.createDatabase(BUCKET);
    tokens.write = await influx.createToken(BUCKET, ['write']);
    tokens.read = await influx.createToken(BUCKET, ['read']);
    tokens.both = await influx.createToken(BUCKET, ['read', 'write']);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const check = (over: { token?: string; org?: string; bucket?: string }) =>
    checkInfluxServer({ url: influx.url, token: tokens.both, org: influx.org, bucket: BUCKET, ...over }, { timeoutMs: 5_000 });

  it('a token that may write and read its bucket passes; the server is 2.x', async () => {
    const report = await check({});
    expect(report).toEqual({ reachable: true, server: { kind: '2.x', version: expect.stringMatching(/^v?2\.7\./), build: expect.stringMatching(/oss/i) }, problems: [] });
  });

  it('a write-only token is INFLUX_TOKEN: /query says "database not found", which is never read as "no history"', async () => {
    const report = await check({ token: tokens.write });
    expect(report.problems).toEqual([{ setting: 'INFLUX_TOKEN', message: expect.stringContaining('the token cannot read bucket') }]);
  });

  it('a read-only token is INFLUX_TOKEN: it could not write', async () => {
    const report = await check({ token: tokens.read });
    expect(report.problems).toEqual([{ setting: 'INFLUX_TOKEN', message: expect.stringMatching(/may not write|refused the credentials/) }]);
  });

  it('a token InfluxDB does not know is INFLUX_TOKEN, answered 401', async () => {
    const report = await check({ token: 'no-such-token' });
    expect(report.problems).toEqual([{ setting: 'INFLUX_TOKEN', message: expect.stringContaining('refused the credentials (401') }]);
  });

  it('an organisation that does not exist is INFLUX_ORG', async () => {
    const report = await check({ org: 'no-such-org' });
    expect(report.problems).toEqual([{ setting: 'INFLUX_ORG', message: expect.stringContaining('no organisation "no-such-org" (404') }]);
  });

  it('the 1.x `db/rp` form of the bucket is INFLUX_BUCKET, with the hint to use the bucket name', async () => {
    const report = await check({ bucket: `${BUCKET}/autogen` });
    expect(report.problems).toEqual([{ setting: 'INFLUX_BUCKET', message: expect.stringContaining('`db/rp`, the 1.x form: set it to the bucket name') }]);
  });

  it('CREATE DATABASE is refused by 2.x with 200 and the error in the body: reported as not created', async () => {
    const outcome = await ensureInfluxDatabase(influx.url, influx.token, `created_${process.pid}`, silentLogger());
    expect(outcome).toMatchObject({ created: false, reason: expect.stringMatching(/.+/) });
    // Nothing was created behind the answer.
    expect((await check({ bucket: `created_${process.pid}` })).problems).toEqual([expect.objectContaining({ setting: 'INFLUX_BUCKET' })]);
  });

  it('the influxdb component refuses to start with a write-only token: FH_ERR_INFLUX_SETUP names INFLUX_TOKEN', async () => {
    const component = createInfluxComponent(
      { url: influx.url, token: tokens.write, org: influx.org, bucket: BUCKET, createDatabase: true, dataDir: root, timeoutMs: 5_000 },
      silentLogger(),
    );
    await expect(component.start()).rejects.toMatchObject({ code: 'FH_ERR_INFLUX_SETUP', message: expect.stringContaining('INFLUX_TOKEN: /query answered "database not found') });
  });

  it('fieldhook doctor fails the influxdb check for a write-only token and names FIELDHOOK_INFLUX_TOKEN', async () => {
    const env = {
      FIELDHOOK_DATA_DIR: join(root, 'doctor'), FIELDHOOK_INFLUX_URL: influx.url, FIELDHOOK_INFLUX_TOKEN: tokens.write,
      FIELDHOOK_INFLUX_ORG: influx.org, FIELDHOOK_INFLUX_BUCKET: BUCKET, FIELDHOOK_ADMIN_TOKEN: ADMIN_TOKEN,
    };
    const report = await runDoctor(env);
    expect(report.ok).toBe(false);
    expect(report.checks.find((c) => c.name === 'influxdb')).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/^InfluxDB 2\.x v?2\.7\.\d+ .*the token cannot read bucket/),
      fix: 'change FIELDHOOK_INFLUX_TOKEN',
    });
    const passing = await runDoctor({ ...env, FIELDHOOK_INFLUX_TOKEN: tokens.both });
    expect(passing.checks.find((c) => c.name === 'influxdb')).toMatchObject({ status: 'ok' });
  });

  /** `fieldhook start` as a process, on fixed ports so that what it left listening can be checked after it exits. */
  async function startCommand(settings: Record<string, string>) {
    const [httpPort, mqttPort] = [await freePort(), await freePort()];
    const env: NodeJS.ProcessEnv = { ...process.env };
    const all = {
      DATA_DIR: join(root, `cli-${httpPort}`), HTTP_HOST: '127.0.0.1', HTTP_PORT: String(httpPort), MQTT_LISTEN_HOST: '127.0.0.1',
      MQTT_LISTEN_PORT: String(mqttPort), MQTT_TLS_PORT: '0', INFLUX_URL: influx.url, INFLUX_ORG: influx.org, INFLUX_BUCKET: BUCKET,
      ADMIN_TOKEN, LOG_LEVEL: 'error', ...settings,
    };
    for (const [key, value] of Object.entries(all)) env[`FIELDHOOK_${key}`] = value;
    const outcome = await exec(process.execPath, ['--import', 'tsx', 'services/cli/main.ts', 'start'], { env, timeout: 90_000 }).then(
      () => ({ code: 0 as number | null, killed: false, output: '' }),
      (err: { code: number | null; killed?: boolean; stdout: string; stderr: string }) => ({ code: err.code, killed: err.killed === true, output: `${err.stdout}${err.stderr}` }),
    );
    return { ...outcome, httpOpen: await tcpOpen(httpPort), mqttOpen: await tcpOpen(mqttPort) };
  }

  it('fieldhook start with a token InfluxDB does not know exits by itself, non-zero, naming INFLUX_TOKEN, leaving nothing listening', async () => {
    const outcome = await startCommand({ INFLUX_TOKEN: 'no-such-token' });
    expect(outcome).toMatchObject({ killed: false, httpOpen: false, mqttOpen: false });
    expect(outcome.code).not.toBe(0);
    expect(outcome.output).toContain('FH_ERR_INFLUX_SETUP');
    expect(outcome.output).toContain('INFLUX_TOKEN: InfluxDB refused the credentials (401');
  }, 120_000);

  it('fieldhook start with a write-only token exits non-zero naming INFLUX_TOKEN (fields would otherwise go stale silently)', async () => {
    const outcome = await startCommand({ INFLUX_TOKEN: tokens.write });
    expect(outcome).toMatchObject({ killed: false, httpOpen: false, mqttOpen: false });
    expect(outcome.code).not.toBe(0);
    expect(outcome.output).toContain('INFLUX_TOKEN: /query answered \\"database not found');
  }, 120_000);

  it('fieldhook predict and replay with a write-only token fail naming INFLUX_TOKEN instead of reading "no history"', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    const settings = { DATA_DIR: join(root, 'predict'), INFLUX_URL: influx.url, INFLUX_ORG: influx.org, INFLUX_BUCKET: BUCKET, INFLUX_TOKEN: tokens.write, LOG_LEVEL: 'error' };
    for (const [key, value] of Object.entries(settings)) env[`FIELDHOOK_${key}`] = value;
    const run = (...args: string[]) =>
      exec(process.execPath, ['--import', 'tsx', 'services/cli/main.ts', ...args], { env, timeout: 60_000 }).then(
        () => ({ code: 0 as number | null, output: '' }),
        (err: { code: number | null; stdout: string; stderr: string }) => ({ code: err.code, output: `${err.stdout}${err.stderr}` }),
      );
    for (const args of [['predict', '--field', 'farm-a/north'], ['replay', '--from', '2026-01-01T00:00:00Z', '--to', '2026-01-02T00:00:00Z']]) {
      const outcome = await run(...args);
      expect(outcome.code, args.join(' ')).not.toBe(0);
      expect(outcome.output).toContain('FH_ERR_INFLUX_SETUP');
      expect(outcome.output).toContain('INFLUX_TOKEN');
    }
  }, 150_000);
});

describe('InfluxDB 2.7: /readyz while writes are refused for a reason of configuration', () => {
  let fixtures: ReturnType<typeof createIngestFixture>[] = [];
  afterAll(async () => {
    await Promise.all(fixtures.map((f) => f.close()));
  });

  /** An ingestor writing to InfluxDB 2.7 with these settings, one reading sent and acknowledged. */
  async function ingestorWith(over: { org?: string; bucket: string; token?: string }) {
    const fx = createIngestFixture({ database: over.bucket, influx: testInflux({ ...influx, token: over.token ?? influx.token, org: over.org ?? influx.org }) });
    fixtures.push(fx);
    const secret = (await fx.devices.add({ id: 'rz2-1', farm: 'farm-a', field: 'north', kind: 'device' })).secret;
    await fx.ingestor.start();
    const sent = await fx.app.inject({ method: 'POST', url: '/v1/readings', headers: { authorization: `Bearer ${secret}` }, payload: [reading('rz2-1', 0), reading('rz2-1', 1)] });
    expect(sent.statusCode).toBeLessThan(300);
    return fx;
  }
  const refusedFor = async (fx: ReturnType<typeof createIngestFixture>, setting: string) => {
    const body = await eventually(async () => {
      const r = await fx.app.inject({ method: 'GET', url: '/readyz' });
      return r.statusCode === 503 && r.body.includes(setting) ? r.body : undefined;
    }, { what: `/readyz 503 naming ${setting}` });
    return JSON.parse(body) as { checks: { name: string; ok: boolean; detail: { refused?: { status: number; setting: string } } }[] };
  };
  const count = async (bucket: string) => {
    const body = await influx.query<{ results: { series?: { values: [number, number][] }[] }[] }>(bucket, 'SELECT count("battery_voltage") FROM "reading"');
    return body.results[0]?.series?.[0]?.values[0]?.[1] ?? 0;
  };

  it('a wrong org fails /readyz naming INFLUX_ORG (404); the readings stay in the spool', async () => {
    const bucket = `rz2_org_${process.pid}`;
    await influx.createDatabase(bucket);
    const fx = await ingestorWith({ org: 'no-such-org', bucket });
    const ready = await refusedFor(fx, 'INFLUX_ORG');
    expect(ready.checks.find((c) => c.name === 'influxdb')).toMatchObject({ ok: false, detail: { refused: { status: 404, setting: 'INFLUX_ORG' } } });
    expect((await fx.ingestor.spool.usage()).consumers['influx']?.pendingReadings).toBe(2);
    expect(await count(bucket)).toBe(0);
  });

  it('a `db/rp` bucket name fails /readyz naming INFLUX_BUCKET (404)', async () => {
    const bucket = `rz2_dbrp_${process.pid}`;
    await influx.createDatabase(bucket);
    const fx = await ingestorWith({ bucket: `${bucket}/autogen` });
    const ready = await refusedFor(fx, 'INFLUX_BUCKET');
    expect(ready.checks.find((c) => c.name === 'influxdb')).toMatchObject({ ok: false, detail: { refused: { status: 404, setting: 'INFLUX_BUCKET' } } });
  });

  it('a token that may only read fails /readyz naming INFLUX_TOKEN', async () => {
    const bucket = `rz2_token_${process.pid}`;
    const fx = await ingestorWith({ bucket, token: await influx.createToken(bucket, ['read']) });
    const ready = await refusedFor(fx, 'INFLUX_TOKEN');
    expect(ready.checks.find((c) => c.name === 'influxdb')).toMatchObject({ ok: false, detail: { refused: { setting: 'INFLUX_TOKEN' } } });
  });

  it('a bucket that does not exist yet fails /readyz naming INFLUX_BUCKET; once created, the spooled readings are written and /readyz passes', async () => {
    const bucket = `rz2_late_${process.pid}`;
    const fx = await ingestorWith({ bucket });
    await refusedFor(fx, 'INFLUX_BUCKET');
    await influx.createDatabase(bucket);
    await eventually(async () => (await fx.app.inject({ method: 'GET', url: '/readyz' })).statusCode === 200, { what: '/readyz 200 once the bucket exists' });
    expect(await count(bucket)).toBe(2);
  });
});
