/**
 * `fieldhook start` as one instance among several: its id (kept in DATA_DIR, or
 * FIELDHOOK_INSTANCE_ID) in logs and metrics, its data folder its own (a second start on it is
 * refused), and, with FIELDHOOK_DATABASE_URL, its device registry in the shared PostgreSQL.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PIPELINE_CONFIG } from '../../../services/host/config.js';
import { startFieldhook, type RunningFieldhook } from '../../../services/host/fieldhook.js';
import type { OpenableDeviceRepository } from '../../../services/registry/device.js';
import { createDeviceRepository } from '../../../services/registry/open-devices.js';
import { loadConfig } from '../../../services/shared/config.js';
import { closeControlPlane, createControlPlane } from '../../../services/shared/database/control-plane.js';
import { INSTANCE_ID_FILE } from '../../../services/shared/instance.js';
import { INSTANCE_LOCK_FILE } from '../../../services/shared/instance-lock.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { eventually } from '../../helpers/eventually.js';
import { createTestDatabase } from '../../helpers/postgres-database.js';
import { captureLogger } from '../../helpers/capture-logger.js';
import { testInflux } from '../../helpers/test-influx.js';

const influx = testInflux();

describe(`fieldhook start: one instance, its own data folder, the registry in PostgreSQL (InfluxDB ${influx.kind})`, () => {
  const bucket = `instance_${process.pid}`;
  const root = mkdtempSync(join(tmpdir(), 'fh-instance-'));
  const dataDir = join(root, 'data');
  let databaseUrl: string;
  let pipeline: RunningFieldhook;
  const logs = captureLogger();
  const plane = () => createControlPlane({ DATA_DIR: root, DATABASE_URL: databaseUrl }, silentLogger());
  let admin: { devices: OpenableDeviceRepository; close(): Promise<void> };

  const configOf = (extra: Record<string, string> = {}) => {
    const env = {
      DATA_DIR: dataDir, HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', MQTT_LISTEN_HOST: '127.0.0.1', MQTT_LISTEN_PORT: '0', MQTT_TLS_PORT: '0',
      ...influx.settings(bucket), ADMIN_TOKEN: 'instance-admin-token-0123', DATABASE_URL: databaseUrl, PREDICT_ENABLED: 'false',
      ...extra,
    };
    return loadConfig(PIPELINE_CONFIG, Object.fromEntries(Object.entries(env).map(([k, v]) => [`FIELDHOOK_${k}`, v])));
  };

  beforeAll(async () => {
    await influx.createDatabase(bucket);
    databaseUrl = await createTestDatabase('instance');
    pipeline = await startFieldhook(configOf(), logs.logger, { handleSignals: false });
    // Another instance's (or the CLI's) connection to the same registry.
    const other = plane();
    const devices = createDeviceRepository(other);
    await devices.open();
    admin = { devices, close: async () => (await devices.close(), await closeControlPlane(other)) };
  });

  afterAll(async () => {
    await pipeline?.stop();
    await admin?.close();
    rmSync(root, { recursive: true, force: true });
  });

  const post = (secret: string, device: string) =>
    fetch(`${pipeline.url}/v1/readings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ device, ts: Date.now(), values: { soil_moisture: 0.25 } }),
    });

  it('names itself in every log line and in fieldhook_instance_info, with the id kept in DATA_DIR', async () => {
    const id = readFileSync(join(dataDir, INSTANCE_ID_FILE), 'utf8').trim();
    expect(logs.lines.find((l) => l.msg === 'fieldhook is running')).toMatchObject({ instance: id, database: 'postgres' });
    const metrics = await (await fetch(`${pipeline.url}/metrics`)).text();
    expect(metrics).toContain(`fieldhook_instance_info{instance_id="${id}"} 1`);
  });

  it('is ready with PostgreSQL as its database', async () => {
    const ready = (await (await fetch(`${pipeline.url}/readyz`)).json()) as { status: string; checks: { name: string; ok: boolean }[] };
    expect(ready.status).toBe('ready');
    expect(ready.checks.filter((c) => c.name.includes('database'))).toEqual([expect.objectContaining({ ok: true })]);
  });

  it('authenticates devices from the shared registry, and refuses a rotated secret once another instance rotated it', async () => {
    const { secret } = await admin.devices.add({ id: 'pg-1', farm: 'f', field: 'north', kind: 'device' });
    await eventually(async () => (await post(secret, 'pg-1')).status === 202, { what: 'the device added elsewhere accepted' });
    const rotated = await admin.devices.rotateSecret('pg-1');
    await eventually(async () => (await post(secret, 'pg-1')).status === 401, { what: 'the old secret refused' });
    expect((await post(rotated, 'pg-1')).status).toBe(202);
  });

  it('refuses a second start on its data folder with FH_ERR_INSTANCE_LOCKED, and keeps running', async () => {
    const second = await startFieldhook(configOf({ INSTANCE_ID: 'intruder' }), silentLogger(), { handleSignals: false }).then(
      async (running) => (await running.stop(), undefined),
      (err: { code?: string; message: string }) => err,
    );
    expect(second?.code).toBe('FH_ERR_INSTANCE_LOCKED');
    expect(second?.message).toContain(`pid ${process.pid}`);
    expect((await fetch(`${pipeline.url}/healthz`)).status).toBe(200);
    expect(existsSync(join(dataDir, INSTANCE_LOCK_FILE))).toBe(true);
  });

  it('lets go of its data folder when it stops', async () => {
    await pipeline.stop();
    expect(existsSync(join(dataDir, INSTANCE_LOCK_FILE))).toBe(false);
  });

  it('fails to start on an unreachable database with FH_ERR_DATABASE_UNAVAILABLE, leaving its data folder free', async () => {
    const elsewhere = join(root, 'unreachable');
    const config = configOf({ DATA_DIR: elsewhere, DATABASE_URL: 'postgres://fieldhook:hunter2@127.0.0.1:1/fieldhook' });
    const error = await startFieldhook(config, silentLogger(), { handleSignals: false }).then(
      async (running) => (await running.stop(), undefined),
      (err: { code?: string; message: string }) => err,
    );
    expect(error?.code).toBe('FH_ERR_DATABASE_UNAVAILABLE');
    expect(error?.message).not.toContain('hunter2');
    expect(existsSync(join(elsewhere, INSTANCE_LOCK_FILE))).toBe(false);
  });
});
