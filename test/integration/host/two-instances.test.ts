/**
 * Two `fieldhook start` instances side by side, as docs/operations.md lays them out: one broker
 * (a real Mosquitto, readings shared through the ingestors' shared subscription), one PostgreSQL
 * registry, one InfluxDB, a data folder each. With client ids of their own they stay connected
 * together instead of taking each other's session; both take readings, and every reading is
 * stored once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type RunningMosquitto } from '../../../infra/harness/mosquitto.js';
import { PIPELINE_CONFIG } from '../../../services/host/config.js';
import { startFieldhook, type RunningFieldhook } from '../../../services/host/fieldhook.js';
import type { OpenableDeviceRepository } from '../../../services/registry/device.js';
import { createDeviceRepository } from '../../../services/registry/open-devices.js';
import { deviceReadingsTopic } from '../../../services/shared/bus/topics.js';
import { loadConfig } from '../../../services/shared/config.js';
import { closeControlPlane, createControlPlane, type ControlPlane } from '../../../services/shared/database/control-plane.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { eventually } from '../../helpers/eventually.js';
import { countPoints, reading } from '../../helpers/ingest-fixture.js';
import { createTestDatabase } from '../../helpers/postgres-database.js';
import { testInflux } from '../../helpers/test-influx.js';
import { asEnvironment } from '../../helpers/settings.js';

const influx = testInflux();

const MQTT_READINGS = 60;
const HTTP_READINGS = 20;

/** `fieldhook_readings_accepted_total{protocol}` of one instance. */
async function accepted(instance: RunningFieldhook, protocol: 'mqtt' | 'http'): Promise<number> {
  const text = await (await fetch(`${instance.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`fieldhook_readings_accepted_total{protocol="${protocol}"}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe(`two instances on one broker, one PostgreSQL and one InfluxDB ${influx.kind}`, () => {
  const bucket = `two_instances_${process.pid}`;
  const root = mkdtempSync(join(tmpdir(), 'fh-two-'));
  let mosquitto: RunningMosquitto;
  let plane: ControlPlane;
  let devices: OpenableDeviceRepository;
  const instances: RunningFieldhook[] = [];
  let device: MqttClient | undefined;

  beforeAll(async () => {
    await influx.createDatabase(bucket);
    mosquitto = await startMosquitto({ dir: join(root, 'mosquitto') });
    const databaseUrl = await createTestDatabase('two_instances');
    for (const id of ['ingest-a', 'ingest-b']) {
      const env = {
        DATA_DIR: join(root, id), INSTANCE_ID: id, DATABASE_URL: databaseUrl, MQTT_URL: mosquitto.url,
        HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', ...influx.settings(bucket),
        ADMIN_TOKEN: 'two-instances-admin-token', PREDICT_ENABLED: 'false',
      };
      const config = loadConfig(PIPELINE_CONFIG, asEnvironment(env));
      instances.push(await startFieldhook(config, silentLogger(), { handleSignals: false }));
    }
    plane = createControlPlane({ DATA_DIR: root, DATABASE_URL: databaseUrl }, silentLogger());
    devices = createDeviceRepository(plane);
    await devices.open();
  }, 180_000);

  afterAll(async () => {
    await device?.endAsync();
    for (const instance of instances) await instance.stop();
    await devices?.close();
    if (plane) await closeControlPlane(plane);
    await mosquitto?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('shares the MQTT readings between both, takes HTTP readings at either, and stores every reading once', async () => {
    const { secret } = await devices.add({ id: 'two-1', farm: 'f', field: 'north', kind: 'device' });
    const base = Date.now() - 3_600_000;
    device = await connectAsync(mosquitto.url, { clientId: `two-1-${process.pid}`, protocolVersion: 5 });
    for (let i = 0; i < MQTT_READINGS; i++) await device.publishAsync(deviceReadingsTopic('two-1'), JSON.stringify(reading('two-1', i, base)), { qos: 1 });
    for (let i = MQTT_READINGS; i < MQTT_READINGS + HTTP_READINGS; i++) {
      const res = await fetch(`${instances[i % 2]!.url}/v1/readings`, {
        method: 'POST',
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
        body: JSON.stringify(reading('two-1', i, base)),
      });
      expect(res.status).toBe(202);
    }

    await eventually(async () => (await countPoints(bucket)) === MQTT_READINGS + HTTP_READINGS, { timeoutMs: 60_000, what: 'every reading stored' });
    const [a, b] = instances as [RunningFieldhook, RunningFieldhook];
    const mqtt = [await accepted(a, 'mqtt'), await accepted(b, 'mqtt')];
    expect(mqtt[0]! + mqtt[1]!).toBe(MQTT_READINGS);
    // The broker split them: both consumers were connected, neither took the other's session.
    expect(mqtt[0]).toBeGreaterThan(0);
    expect(mqtt[1]).toBeGreaterThan(0);
    expect([await accepted(a, 'http'), await accepted(b, 'http')]).toEqual([HTTP_READINGS / 2, HTTP_READINGS / 2]);
    for (const instance of instances) expect((await fetch(`${instance.url}/readyz`)).status).toBe(200);
  }, 120_000);
});
