/**
 * The three parts as separate processes' worth of instances (`FIELDHOOK_PARTS`), as the compose
 * file and the systemd units lay them out: an ingestor, a predictor and a dispatcher, each with a
 * data folder and an id of its own, meeting only on a real Mosquitto, one PostgreSQL registry and
 * one InfluxDB. Readings taken by the ingestor are stored and reach the predictor over the bus;
 * the predictor's events reach the dispatcher over the bus and are delivered.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type RunningMosquitto } from '../../../infra/harness/mosquitto.js';
import { PIPELINE_CONFIG } from '../../../services/host/config.js';
import { startFieldhook, type RunningFieldhook } from '../../../services/host/fieldhook.js';
import { createFieldProfileRepository } from '../../../services/predictor/open-field-profiles.js';
import { openPredictorDb } from '../../../services/predictor/sqlite-predictor-store.js';
import type { OpenableDeviceRepository } from '../../../services/registry/device.js';
import { createDeviceRepository } from '../../../services/registry/open-devices.js';
import { systemClock } from '../../../services/shared/clock.js';
import { loadConfig } from '../../../services/shared/config.js';
import { closeControlPlane, createControlPlane, type ControlPlane } from '../../../services/shared/database/control-plane.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { eventually } from '../../helpers/eventually.js';
import { sessionPresent } from '../../helpers/mqtt-session.js';
import { countPoints, reading } from '../../helpers/ingest-fixture.js';
import { createTestDatabase } from '../../helpers/postgres-database.js';
import { testInflux } from '../../helpers/test-influx.js';
import { asEnvironment } from '../../helpers/settings.js';

const influx = testInflux();

const ADMIN_TOKEN = 'parts-apart-admin-token';
const READINGS = 12;
const DAY_MS = 86_400_000;

/** The sum of one counter's series in an instance's /metrics. */
async function counter(instance: RunningFieldhook, name: string): Promise<number> {
  const text = await (await fetch(`${instance.url}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

describe(`ingestor, predictor and dispatcher as separate instances (InfluxDB ${influx.kind})`, () => {
  const bucket = `parts_apart_${process.pid}`;
  const root = mkdtempSync(join(tmpdir(), 'fh-parts-'));
  let mosquitto: RunningMosquitto;
  let plane: ControlPlane;
  let devices: OpenableDeviceRepository;
  let receiver: Server;
  const hooks: { type: string; farm: unknown }[] = [];
  const running: Partial<Record<'ingestor' | 'predictor' | 'dispatcher', RunningFieldhook>> = {};

  let databaseUrl: string;
  const configOf = (part: 'ingestor' | 'predictor' | 'dispatcher', name: string = part) => {
    const env = {
      PARTS: part, DATA_DIR: join(root, name), INSTANCE_ID: `${name}-1`, DATABASE_URL: databaseUrl, MQTT_URL: mosquitto.url,
      HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', ...influx.settings(bucket), ADMIN_TOKEN,
      WEBHOOK_ALLOW_CIDRS: JSON.stringify({ '*': ['127.0.0.1/32'] }),
      // Partitions set by hand, as the compose file does: a second predictor on one is refused.
      PREDICT_PARTITIONS: '1',
    };
    return loadConfig(PIPELINE_CONFIG, asEnvironment(env));
  };
  const start = async (part: 'ingestor' | 'predictor' | 'dispatcher') => {
    running[part] = await startFieldhook(configOf(part), silentLogger(), { handleSignals: false });
    return running[part];
  };

  beforeAll(async () => {
    await influx.createDatabase(bucket);
    mosquitto = await startMosquitto({ dir: join(root, 'mosquitto') });
    receiver = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString()) as { type: string; data: { farm?: unknown } };
        hooks.push({ type: body.type, farm: body.data.farm });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    databaseUrl = await createTestDatabase('parts_apart');
    plane = createControlPlane({ DATA_DIR: root, DATABASE_URL: databaseUrl }, silentLogger());
    devices = createDeviceRepository(plane);
    await devices.open();

    const dispatcher = await start('dispatcher');
    const sub = await fetch(`${dispatcher.url}/v1/subscriptions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`, events: ['sensor.*'] }),
    });
    expect(sub.status).toBe(201);
    await start('ingestor');
    // The predictor's field, in season, before it starts: its first round finds no readings.
    // In PostgreSQL, where the predictor instance reads them.
    const fields = createFieldProfileRepository(plane, { clock: systemClock, db: () => openPredictorDb(':memory:') });
    await fields.open();
    await fields.add({
      farm: 'parts', field: 'north', crop: 'tomato', soil: 'loam', efficiency: 0.9, latitudeDeg: 45.1, longitudeDeg: 9.2, elevationM: 100,
      sowingDate: new Date(Date.now() - 30 * DAY_MS).toISOString().slice(0, 10),
    });
    await fields.close();
    await start('predictor');
  }, 180_000);

  afterAll(async () => {
    for (const part of ['predictor', 'ingestor', 'dispatcher'] as const) await running[part]?.stop();
    await devices?.close();
    if (plane) await closeControlPlane(plane);
    await mosquitto?.stop();
    await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
    rmSync(root, { recursive: true, force: true });
  });

  it('serves only its own part: readings at the ingestor, subscriptions at the dispatcher', async () => {
    const { ingestor, predictor, dispatcher } = running as Required<typeof running>;
    const bearer = { authorization: `Bearer ${ADMIN_TOKEN}` };
    expect((await fetch(`${ingestor.url}/v1/subscriptions`, { headers: bearer })).status).toBe(404);
    expect((await fetch(`${dispatcher.url}/v1/subscriptions`, { headers: bearer })).status).toBe(200);
    for (const other of [predictor, dispatcher]) expect((await fetch(`${other.url}/v1/readings`, { method: 'POST' })).status).toBe(404);
    // The status page reads every part: it runs only where all do.
    expect((await fetch(`${ingestor.url}/ui/`)).status).toBe(404);
    for (const instance of [ingestor, predictor, dispatcher]) expect((await fetch(`${instance.url}/readyz`)).status).toBe(200);
    await expect(predictor.publish({ type: 'sensor.stale', data: {} })).rejects.toThrow(/runs no dispatcher/);
  });

  it("hands the predictor's events to the dispatcher over the bus, which delivers them", async () => {
    await eventually(() => hooks.some((h) => h.type === 'sensor.stale' && h.farm === 'parts'), { timeoutMs: 60_000, what: 'the stale event delivered' });
    expect(await counter(running.predictor!, 'fieldhook_predict_events_total')).toBeGreaterThanOrEqual(1);
  }, 90_000);

  it('stores what the ingestor takes and passes it over the bus to the predictor', async () => {
    const { ingestor, predictor } = running as Required<typeof running>;
    const { secret } = await devices.add({ id: 'parts-1', farm: 'parts', field: 'north', kind: 'device' });
    const before = await counter(predictor, 'fieldhook_predict_evaluations_total');
    for (let i = 0; i < READINGS; i++) {
      const res = await fetch(`${ingestor.url}/v1/readings`, {
        method: 'POST',
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
        body: JSON.stringify(reading('parts-1', i)),
      });
      expect(res.status).toBe(202);
    }
    await eventually(async () => (await countPoints(bucket)) === READINGS, { timeoutMs: 60_000, what: 'every reading stored' });
    // No schedule falls due within the test: a new evaluation is one the bus readings caused.
    await eventually(async () => (await counter(predictor, 'fieldhook_predict_evaluations_total')) > before, { timeoutMs: 60_000, what: 'the predictor evaluates the field on its readings' });
  }, 120_000);

  it('refuses a second predictor on the same partition, which would advise the same fields', async () => {
    const err = await startFieldhook(configOf('predictor', 'predictor-2'), silentLogger(), { handleSignals: false }).then(
      async (second) => (await second.stop(), undefined),
      (e: unknown) => e as { code: string; message: string },
    );
    expect(err?.code).toBe('FH_ERR_PREDICT_PARTITION_TAKEN');
    expect(err?.message).toContain('Partition 0 of 1 is run by fieldhook/predictor-1');
    // Its forecasts subscriber had joined the gateways' group before the refusal: it left, so no
    // session of a process that never ran takes a share of the forecasts.
    expect(await sessionPresent(mosquitto.url, 'fieldhook-forecasts-predictor-2-1')).toBe(false);
  }, 60_000);
});
