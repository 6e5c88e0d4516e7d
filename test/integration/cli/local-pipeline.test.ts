/**
 * The local CLI finds the pipeline of its data folder: `fieldhook start` records the URLs it
 * serves and the admin token it generated (both 0600), and `predict`, `subscriptions` and
 * `doctor` use them when nothing else is configured. The local InfluxDB never takes a port where
 * another server listens.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN_FILE, PIPELINE_FILE, type PipelineRecord } from '../../../services/cli/local-pipeline.js';
import { chooseLocalInfluxPort, startInfluxDB } from '../../../services/host/local-influxdb.js';
import { eventually } from '../../helpers/eventually.js';
import { modeOf } from '../../helpers/file-modes.js';
import { captureLogger } from '../../helpers/capture-logger.js';
import { testInflux } from '../../helpers/test-influx.js';

const influx = testInflux();

const exec = promisify(execFile);

/** The environment without any fieldhook setting of the machine running the tests. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FIELDHOOK_')));
  return { ...env, ...extra };
}

describe(`fieldhook start and the local CLI (InfluxDB ${influx.kind})`, () => {
  const database = `cli_local_${process.pid}`;
  const root = mkdtempSync(join(tmpdir(), 'fh-cli-local-'));
  const dataDir = join(root, 'data');
  // What the local CLI is given: the data folder and the database name, no URL, no admin token.
  // On InfluxDB 2.x also its token and org: the record says where the pipeline's InfluxDB is,
  // never its credentials (a secret stays in the environment it was given in).
  const { FIELDHOOK_INFLUX_URL: _url, ...influxCredentials } = influx.env(database);
  const cliEnv = cleanEnv({ FIELDHOOK_DATA_DIR: dataDir, ...influxCredentials });
  const startEnv = cleanEnv({
    FIELDHOOK_DATA_DIR: dataDir, ...influx.env(database), FIELDHOOK_LOG_FORMAT: 'json',
    FIELDHOOK_HTTP_HOST: '127.0.0.1', FIELDHOOK_HTTP_PORT: '0', FIELDHOOK_MQTT_LISTEN_HOST: '127.0.0.1', FIELDHOOK_MQTT_LISTEN_PORT: '0', FIELDHOOK_MQTT_TLS_PORT: '0',
  });
  const cli = (...args: string[]) => exec(process.execPath, ['--import', 'tsx', 'services/cli/main.ts', ...args], { env: cliEnv });
  const record = () => JSON.parse(readFileSync(join(dataDir, PIPELINE_FILE), 'utf8')) as PipelineRecord;

  let child: ChildProcess | undefined;
  let stderr = '';
  const start = async () => {
    stderr = '';
    child = spawn(process.execPath, ['--import', 'tsx', 'services/cli/main.ts', 'start'], { env: startEnv, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const pid = child.pid;
    return eventually(() => (existsSync(join(dataDir, PIPELINE_FILE)) && record().pid === pid ? record() : undefined), {
      timeoutMs: 60_000,
      intervalMs: 100,
      what: 'pipeline.json of this start',
    });
  };
  const stop = async () => {
    const running = child;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGTERM');
    await exited;
  };

  beforeAll(() => influx.createDatabase(database));
  afterAll(async () => {
    await stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('start records the URLs it serves and a generated admin token, both 0600; the token is printed once and reused', async () => {
    const first = await start();
    expect(first.httpUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(first.influxUrl).toBe(influx.url);
    expect(first.mqttUrl).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
    expect(modeOf(join(dataDir, PIPELINE_FILE)).toString(8)).toBe('600');
    expect(modeOf(join(dataDir, ADMIN_TOKEN_FILE)).toString(8)).toBe('600');
    const token = readFileSync(join(dataDir, ADMIN_TOKEN_FILE), 'utf8').trim();
    expect(token.length).toBeGreaterThanOrEqual(32);
    expect(stderr).toContain(token);

    await stop();
    // The record leaves with the process; the token stays with the folder.
    expect(existsSync(join(dataDir, PIPELINE_FILE))).toBe(false);
    await start();
    expect(readFileSync(join(dataDir, ADMIN_TOKEN_FILE), 'utf8').trim()).toBe(token);
    expect(stderr).not.toContain(token);
  }, 120_000);

  it('subscriptions and deliveries reach the running pipeline with its token, with no URL or token given', async () => {
    if (!existsSync(join(dataDir, PIPELINE_FILE))) await start();
    const added = JSON.parse((await cli('subscriptions', 'add', 'https://example.com/hook', '--events', 'irrigation.*')).stdout) as { id: string };
    expect(added.id).toMatch(/^sub_/);
    const listed = JSON.parse((await cli('subscriptions', 'list')).stdout) as { data: { id: string }[] };
    expect(listed.data.map((s) => s.id)).toContain(added.id);
    expect(JSON.parse((await cli('deliveries', 'list')).stdout)).toHaveProperty('data');
  }, 120_000);

  it('predict reads the InfluxDB of the running pipeline when FIELDHOOK_INFLUX_URL is not set', async () => {
    if (!existsSync(join(dataDir, PIPELINE_FILE))) await start();
    const sown = new Date(Date.now() - 30 * 86_400_000).toISOString().slice(0, 10);
    await cli('fields', 'add', 'home', 'north', '--crop', 'tomato', '--sowing-date', sown, '--soil', 'loam', '--lat', '50.8', '--lon', '4.35');
    const assessed = JSON.parse((await cli('predict', '--field', 'home/north')).stdout) as { field: string; assessment: { kind: string; reason?: string } };
    // No readings yet: the pipeline's InfluxDB was asked, and holds nothing for the field.
    expect(assessed).toMatchObject({ field: 'home/north', assessment: { kind: 'stale', reason: 'no readings' } });
  }, 120_000);

  it('doctor checks the running pipeline, its InfluxDB (write and query), the broker and the model; --json', async () => {
    if (!existsSync(join(dataDir, PIPELINE_FILE))) await start();
    const report = JSON.parse((await cli('doctor', '--json')).stdout) as { ok: boolean; checks: { name: string; status: string }[] };
    const status = Object.fromEntries(report.checks.map((c) => [c.name, c.status]));
    expect(report.ok).toBe(true);
    expect(status).toMatchObject({ config: 'ok', pipeline: 'ok', readiness: 'ok', influxdb: 'ok', clock: 'ok', broker: 'ok', model: 'ok', disk: 'ok', tls: 'skip' });
  }, 120_000);

  it('doctor fails with exit code 1 and says what to fix when InfluxDB does not answer', async () => {
    const env = cleanEnv({ FIELDHOOK_DATA_DIR: join(root, 'elsewhere'), FIELDHOOK_INFLUX_URL: 'http://127.0.0.1:9' });
    const failed = await exec(process.execPath, ['--import', 'tsx', 'services/cli/main.ts', 'doctor', '--json'], { env }).then(
      () => undefined,
      (err: { code: number; stdout: string }) => err,
    );
    expect(failed?.code).toBe(1);
    const report = JSON.parse(failed!.stdout) as { ok: boolean; checks: { name: string; status: string; fix?: string }[] };
    expect(report.ok).toBe(false);
    expect(report.checks.find((c) => c.name === 'influxdb')).toMatchObject({ status: 'fail', fix: expect.stringContaining('FIELDHOOK_INFLUX_URL') });
  }, 60_000);
});

describe(`the local InfluxDB and a port that is taken (InfluxDB ${influx.kind})`, () => {
  const taken = Number(new URL(influx.url).port);

  it('takes a free port instead, and says which InfluxDB is in the way', async () => {
    const { lines, logger } = captureLogger('warn');
    const port = await chooseLocalInfluxPort(logger, taken);
    expect(port).not.toBe(taken);
    expect(lines[0]).toMatchObject({ level: 40, taken, port, inTheWay: expect.stringMatching(/^an InfluxDB/) });
  });

  it('refuses to start on a port another server answers on, rather than write into it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'fh-influx-taken-'));
    try {
      await expect(startInfluxDB({ dataDir, port: taken })).rejects.toThrow(/an InfluxDB .*already listens there/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
