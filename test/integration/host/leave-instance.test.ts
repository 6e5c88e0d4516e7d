/**
 * Scaling in for good with `fieldhook leave`, against a real Mosquitto (this file's own: the
 * sessions a stopped instance keeps take a share of its groups), PostgreSQL and InfluxDB. Two
 * instances share the devices' readings; one is stopped, and its sessions keep taking a share of
 * what devices publish (queued for its return); `fieldhook leave` on its data folder takes that
 * share, hands it on to InfluxDB, ends every session, and exits 0 saying so. Afterwards the
 * other instance takes every reading.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type RunningMosquitto } from '../../../infra/harness/mosquitto.js';
import { PIPELINE_CONFIG } from '../../../services/host/config.js';
import { startFieldhook, type RunningFieldhook } from '../../../services/host/fieldhook.js';
import { describeLeave, leaveFieldhook } from '../../../services/host/leave-instance.js';
import type { OpenableDeviceRepository } from '../../../services/registry/device.js';
import { createDeviceRepository } from '../../../services/registry/open-devices.js';
import { EVENTS_TOPIC, deviceReadingsTopic } from '../../../services/shared/bus/topics.js';
import { loadConfig } from '../../../services/shared/config.js';
import { closeControlPlane, createControlPlane, type ControlPlane } from '../../../services/shared/database/control-plane.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { eventually } from '../../helpers/eventually.js';
import { sessionPresent } from '../../helpers/mqtt-session.js';
import { countPoints, reading } from '../../helpers/ingest-fixture.js';
import { createTestDatabase } from '../../helpers/postgres-database.js';
import { testInflux } from '../../helpers/test-influx.js';
import { asEnvironment } from '../../helpers/settings.js';
import { startReceiver, type Receiver } from '../dispatcher/helpers.js';

const exec = promisify(execFile);
const influx = testInflux();
const N = 30;
/** Events published while the instance is stopped: its dispatcher session keeps a share of them. */
const EVENTS = 20;
const ADMIN_TOKEN = 'leave-admin-token';

/** The log lines (JSON) a command wrote at error level or above. */
function errorLines(output: string): unknown[] {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { level?: number })
    .filter((l) => (l.level ?? 0) >= 50);
}

/** `fieldhook_readings_accepted_total{protocol="mqtt"}` of one instance. */
async function acceptedMqtt(instance: RunningFieldhook): Promise<number> {
  const text = await (await fetch(`${instance.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('fieldhook_readings_accepted_total{protocol="mqtt"}'));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe(`fieldhook leave: an instance scaled in for good (InfluxDB ${influx.kind})`, () => {
  const bucket = `leave_instance_${process.pid}`;
  const root = mkdtempSync(join(tmpdir(), 'fh-leave-'));
  let mosquitto: RunningMosquitto;
  let plane: ControlPlane;
  let devices: OpenableDeviceRepository;
  const env: Record<string, Record<string, string>> = {};
  let leaving: RunningFieldhook | undefined;
  let staying: RunningFieldhook;
  let device: MqttClient | undefined;
  let receiver: Receiver | undefined;

  const start = (id: string) =>
    startFieldhook(loadConfig(PIPELINE_CONFIG, env[id]!), silentLogger(), { handleSignals: false });


  async function publish(from: number, count: number, base: number): Promise<void> {
    for (let i = from; i < from + count; i++) await device!.publishAsync(deviceReadingsTopic('leave-1'), JSON.stringify(reading('leave-1', i, base)), { qos: 1 });
  }

  beforeAll(async () => {
    await influx.createDatabase(bucket);
    mosquitto = await startMosquitto({ dir: join(root, 'mosquitto') });
    const databaseUrl = await createTestDatabase('leave_instance');
    for (const id of ['leave-a', 'leave-b']) {
      const settings = {
        DATA_DIR: join(root, id), INSTANCE_ID: id, DATABASE_URL: databaseUrl, MQTT_URL: mosquitto.url, MQTT_PROTOCOL_VERSION: '5',
        HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', ...influx.settings(bucket),
        ADMIN_TOKEN, PREDICT_ENABLED: 'false', LOG_LEVEL: 'warn', WEBHOOK_ALLOW_CIDRS: '{"*":["127.0.0.1/32"]}',
      };
      env[id] = asEnvironment(settings);
    }
    leaving = await start('leave-a');
    staying = await start('leave-b');
    plane = createControlPlane({ DATA_DIR: root, DATABASE_URL: databaseUrl }, silentLogger());
    devices = createDeviceRepository(plane);
    await devices.open();
  }, 180_000);

  afterAll(async () => {
    await device?.endAsync();
    await receiver?.close();
    await leaving?.stop();
    await staying?.stop();
    await devices?.close();
    if (plane) await closeControlPlane(plane);
    await mosquitto?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('takes what the stopped instance\'s sessions hold into InfluxDB, ends them, and the other instance then gets every reading', async () => {
    await devices.add({ id: 'leave-1', farm: 'f', field: 'north', kind: 'device' });
    const base = Date.now() - 3_600_000;
    device = await mqtt.connectAsync(mosquitto.url, { clientId: `leave-1-${process.pid}`, protocolVersion: 5 });
    receiver = await startReceiver();
    const subscribed = await fetch(`${staying.url}/v1/subscriptions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: receiver.url, events: ['sensor.stale'] }),
    });
    expect(subscribed.status, await subscribed.clone().text()).toBe(201);

    // A plain stop keeps the sessions: the broker goes on assigning the stopped instance a share.
    await leaving!.stop();
    leaving = undefined;
    await publish(0, N, base);
    await eventually(async () => (await acceptedMqtt(staying)) > 0, { what: 'the staying instance taking its share' });
    expect(await acceptedMqtt(staying)).toBeLessThan(N);
    // Events too: the stopped instance's share goes into the shared outbox when it leaves, its
    // delivery loop at work while it stops.
    const ops = await mqtt.connectAsync(mosquitto.url, { clientId: `leave-ops-${process.pid}`, protocolVersion: 5 });
    for (let i = 0; i < EVENTS; i++) await ops.publishAsync(EVENTS_TOPIC, JSON.stringify({ type: 'sensor.stale', data: { device: 'leave-1', i } }), { qos: 1 });
    await ops.endAsync();

    // `fieldhook leave` on the stopped instance's data folder, as an operator runs it.
    const { stdout, stderr } = await exec(process.execPath, ['--import', 'tsx', 'services/cli/main.ts', 'leave', '--timeout-ms', '60000'], { env: { ...process.env, ...env['leave-a'] } });
    expect(stdout).toContain('fieldhook leave: instance leave-a');
    // Every part stopped before the shared PostgreSQL pool was ended: nothing logged an error.
    expect(errorLines(`${stdout}\n${stderr}`)).toEqual([]);
    // Every event delivered, the stopped instance's share included (none leased and left behind).
    await eventually(() => new Set(receiver!.received.map((r) => r.headers['webhook-id'])).size === EVENTS, { timeoutMs: 30_000, what: 'every event delivered' });
    expect(stdout).toContain('spool handed on: InfluxDB and the bus have every stored reading');
    expect(stdout).toContain(`left every shared group on ${mosquitto.url}`);
    // On PostgreSQL the other instances take the outbox and the irrigation records.
    expect(stdout).toContain('the instance can be removed');
    // Its share of the readings, queued while it was stopped, was taken and written.
    await eventually(async () => (await countPoints(bucket, '', influx)) === N, { what: 'every reading of the first batch stored' });
    for (const clientId of ['fieldhook-ingest-leave-a-0', 'fieldhook-ingest-leave-a-3', 'fieldhook-dispatcher-leave-a', 'fieldhook-forecasts-leave-a', 'fieldhook-irrigations-leave-a']) {
      expect(await sessionPresent(mosquitto.url, clientId), clientId).toBe(false);
    }

    // Nothing is assigned to the instance that left: the other one takes all of the next batch.
    const takenBefore = await acceptedMqtt(staying);
    expect(takenBefore).toBeLessThan(N);
    await publish(N, N, base);
    await eventually(async () => (await acceptedMqtt(staying)) === takenBefore + N, { what: 'the staying instance taking every reading' });
    await eventually(async () => (await countPoints(bucket, '', influx)) === 2 * N, { what: 'every reading stored' });
  }, 120_000);

  it('on the embedded broker (one instance, nothing shared): hands the spool on, exits with its report, and frees the data folder', async () => {
    const settings = {
      DATA_DIR: join(root, 'embedded'), INSTANCE_ID: 'leave-embedded', ...influx.settings(bucket),
      HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', MQTT_LISTEN_HOST: '127.0.0.1', MQTT_LISTEN_PORT: '0',
      ADMIN_TOKEN: 'leave-admin-token', PREDICT_ENABLED: 'false', LOG_LEVEL: 'warn',
    };
    const config = loadConfig(PIPELINE_CONFIG, asEnvironment(settings));
    const report = await leaveFieldhook(config, silentLogger(), { timeoutMs: 60_000 });
    expect(report).toMatchObject({ instance: 'leave-embedded', parts: ['ingestor', 'dispatcher'], spool: { influxPending: 0, busPending: 0, deadLetters: 0 } });
    const said = describeLeave(report, 60_000);
    expect(said).toContain('fieldhook leave: instance leave-embedded (ingestor, dispatcher)');
    expect(said).toContain('spool handed on');
    // The predictor is off here: nothing to release.
    expect(said).not.toContain('predictor partitions');
    // On SQLite the outbox and the irrigation records are the folder's own: not 'can be removed' outright.
    expect(report.folderHoldsState).toBe(true);
    expect(said).toContain('keep its data folder while it holds anything you need');
    expect(said).not.toContain('the instance can be removed');
    // Stopped for good: the data folder's lock is free for whatever comes next.
    const again = await startFieldhook(config, silentLogger(), { handleSignals: false });
    await again.stop();
  }, 120_000);
});
