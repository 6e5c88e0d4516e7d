/**
 * The embedded broker under attack: message size and count limits before the parser, and client
 * ids bound to logins (no device takes over an internal part's or another device's session).
 */
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_FIELD_READINGS, connectSubscriber, deviceErrorsTopic, deviceReadingsTopic, type Subscriber } from '../../../services/shared/bus/index.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { countPoints, createIngestFixture, reading, type IngestFixture } from '../../helpers/ingest-fixture.js';
import { eventually } from '../../helpers/eventually.js';
import { testInflux } from '../../helpers/test-influx.js';
import { Errors } from '../../../services/shared/error-catalog.js';

const influx = testInflux();
const MB = 1024 * 1024;

describe(`embedded broker limits and client ids (InfluxDB ${influx.kind})`, () => {
  const database = `embedded_broker_${process.pid}`;
  let fx: IngestFixture;
  const secrets: Record<string, string> = {};
  const clients: MqttClient[] = [];
  let registryAway = false;

  beforeAll(async () => {
    await influx.createDatabase(database);
    fx = createIngestFixture({
      database,
      // The registry as a database away for a moment would answer it, while `registryAway`.
      wrapDevices: (devices) => ({
        ...devices,
        get: (id) => (registryAway ? Promise.reject(Errors.databaseUnavailable('database away')) : devices.get(id)),
      }),
    });
    for (const id of ['b-1', 'b-2', 'b-3', 'b-4', 'b-5']) secrets[id] = (await fx.devices.add({ id, farm: 'farm-b', field: 'north', kind: 'device' })).secret;
    await fx.ingestor.start();
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await fx.close();
  });

  const url = () => fx.ingestor.busConnection('bus').url;
  const device = async (id: string, options: IClientOptions = {}) => {
    const client = await connectAsync(url(), { username: id, password: secrets[id]!, clientId: id, protocolVersion: 4, reconnectPeriod: 0, ...options });
    clients.push(client);
    return client;
  };
  /** The next message on a device's errors topic (bounded). */
  const nextError = (client: MqttClient, id: string) =>
    new Promise<{ refused: { code: string; message: string }[] }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no message on ${deviceErrorsTopic(id)}`)), 15_000);
      client.on('message', (topic, payload) => {
        if (topic !== deviceErrorsTopic(id)) return;
        clearTimeout(timer);
        resolve(JSON.parse(payload.toString()));
      });
    });
  const healthy = async () => (await fx.app.inject({ method: 'GET', url: '/healthz' })).statusCode === 200;

  it('acknowledges a 10 MB publish of 200,000 readings, refuses it on the errors topic, and stays responsive with bounded memory', async () => {
    const base = Date.parse('2026-11-26T00:00:00Z');
    const payload = Buffer.from(JSON.stringify(Array.from({ length: 200_000 }, (_, i) => ({ ts: base + i, values: { soil_moisture: 0.251234, battery_voltage: 3.7 } }))));
    expect(payload.length).toBeGreaterThan(10_000_000);
    const b1 = await device('b-1');
    await b1.subscribeAsync(deviceErrorsTopic('b-1'), { qos: 0 });
    const refusal = nextError(b1, 'b-1');
    // Heap, not buffers: socket chunks already dropped stay counted in arrayBuffers until a GC.
    const heapBefore = process.memoryUsage().heapUsed;
    let peakHeap = heapBefore;
    const sample = () => (peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed));
    const sampler = setInterval(sample, 5);

    // QoS 1: the PUBACK comes (so the device does not send it again) …
    await b1.publishAsync(deviceReadingsTopic('b-1'), payload, { qos: 1 });
    // … and the reason is on its errors topic; the payload was never parsed.
    expect(await refusal).toEqual({ refused: [expect.objectContaining({ code: 'FH_ERR_INGEST_PAYLOAD_TOO_LARGE' })] });
    clearInterval(sampler);
    sample();
    // Parsed whole, 200,000 readings are hundreds of MB of heap (the process ran out of it); the
    // guard drops the payload as it arrives, so nothing of it reaches the heap.
    expect(peakHeap - heapBefore).toBeLessThan(32 * MB);

    expect(await healthy()).toBe(true);
    // The same connection still ingests a normal reading.
    await b1.publishAsync(deviceReadingsTopic('b-1'), JSON.stringify(reading('b-1', 1, base)), { qos: 1 });
    const metrics = (await fx.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/fieldhook_readings_refused_total\{code="FH_ERR_INGEST_PAYLOAD_TOO_LARGE"\} 1/);
  });

  it('closes a connection open since before its secret was rotated or its device disabled, storing nothing it sent after', async () => {
    const topic = deviceReadingsTopic('b-4');
    const base = Date.parse('2026-11-26T06:00:00Z');
    const closedAfter = async (client: MqttClient, i: number) => {
      const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
      client.publish(topic, JSON.stringify(reading('b-4', i, base)), { qos: 1 });
      await closed;
    };
    const first = await device('b-4');
    await first.publishAsync(topic, JSON.stringify(reading('b-4', 0, base)), { qos: 1 });
    const rotated = await fx.devices.rotateSecret('b-4');
    await closedAfter(first, 1);
    // The old secret is refused at CONNECT too; the new one connects and publishes.
    await expect(device('b-4')).rejects.toThrow();
    secrets['b-4'] = rotated;
    const second = await device('b-4');
    await second.publishAsync(topic, JSON.stringify(reading('b-4', 2, base)), { qos: 1 });
    await fx.devices.setEnabled('b-4', false);
    await closedAfter(second, 3);

    const where = (i: number) => `WHERE "device" = 'b-4' AND time = ${base + i * 1000}ms`;
    await eventually(async () => (await countPoints(database, `WHERE "device" = 'b-4'`)) === 2, { what: 'the readings sent with a valid login' });
    expect(await countPoints(database, where(0))).toBe(1);
    expect(await countPoints(database, where(2))).toBe(1);
    expect(await countPoints(database, where(1))).toBe(0);
    expect(await countPoints(database, where(3))).toBe(0);
  });

  it('keeps a connection publishing when the registry cannot be read for a moment: only a revoked login closes it', async () => {
    const topic = deviceReadingsTopic('b-5');
    const base = Date.parse('2026-11-26T07:00:00Z');
    const b5 = await device('b-5');
    let closed = false;
    b5.on('close', () => (closed = true));
    // Any change makes the cache forget every login; the next publish asks the registry again.
    await fx.devices.setFarmNetworks('farm-elsewhere', []);
    registryAway = true;
    try {
      await b5.publishAsync(topic, JSON.stringify(reading('b-5', 0, base)), { qos: 1 });
    } finally {
      registryAway = false;
    }
    expect(closed).toBe(false);
    await eventually(async () => (await countPoints(database, `WHERE "device" = 'b-5'`)) === 1, { what: 'the reading sent while the registry was away' });
  });

  it('tells a device it has not heard of "server unavailable" while the registry cannot be read, not "bad user name or password"', async () => {
    secrets['b-9'] = (await fx.devices.add({ id: 'b-9', farm: 'farm-b', field: 'north', kind: 'device' })).secret;
    registryAway = true;
    try {
      // MQTT 3.1.1 CONNACK return code 3: the device retries; 4 would have it give up its login.
      await expect(device('b-9')).rejects.toMatchObject({ code: 3 });
    } finally {
      registryAway = false;
    }
    await (await device('b-9')).endAsync();
  });

  it('refuses a message of more than INGEST_MAX_BATCH readings whole, before validating any', async () => {
    const base = Date.parse('2026-11-26T01:00:00Z');
    const items = Array.from({ length: fx.config.INGEST_MAX_BATCH + 1 }, (_, i) => ({ ts: base + i, values: { battery_voltage: 3.7 } }));
    const payload = JSON.stringify(items);
    expect(payload.length).toBeLessThan(fx.config.INGEST_BODY_LIMIT_BYTES);
    const b2 = await device('b-2');
    await b2.subscribeAsync(deviceErrorsTopic('b-2'), { qos: 0 });
    const refusal = nextError(b2, 'b-2');
    const before = (await fx.ingestor.spool.usage()).consumers.influx!.pendingReadings;
    await b2.publishAsync(deviceReadingsTopic('b-2'), payload, { qos: 1 });
    expect(await refusal).toEqual({ refused: [expect.objectContaining({ code: 'FH_ERR_INGEST_BATCH_TOO_LARGE' })] });
    expect((await fx.ingestor.spool.usage()).consumers.influx!.pendingReadings).toBeLessThanOrEqual(before);
  });

  it('refuses a device that connects with a reserved client id; the predictor’s subscriber keeps receiving', async () => {
    const received: string[] = [];
    const predictor: Subscriber = connectSubscriber(
      fx.ingestor.busConnection('predictor'),
      { clientId: 'fieldhook-predict', filter: ALL_FIELD_READINGS, group: 'fieldhook-predict' },
      (packet) => void received.push(packet.payload.toString()),
      silentLogger(),
    );
    await predictor.start();
    let closed = 0;
    predictor.client.on('close', () => closed++);
    try {
      // A device reconnecting in a loop with the predictor's client id, clean session: refused every time.
      for (let i = 0; i < 5; i++) {
        await expect(device('b-3', { clientId: 'fieldhook-predict', clean: true })).rejects.toThrow(/Identifier rejected/i);
      }
      await expect(device('b-3', { clientId: 'fieldhook-dispatcher-1' })).rejects.toThrow(/Identifier rejected/i);
      expect(predictor.connected()).toBe(true);
      expect(closed).toBe(0);

      // Readings posted meanwhile reach the predictor's subscription.
      const base = Date.parse('2026-11-26T02:00:00Z');
      const res = await fx.app.inject({ method: 'POST', url: '/v1/readings', headers: { authorization: `Bearer ${secrets['b-3']}` }, payload: reading('b-3', 7, base) });
      expect(res.statusCode).toBe(202);
      await eventually(() => received.some((m) => m.includes('"device":"b-3"')), { what: 'the reading on the predictor’s subscription' });
    } finally {
      await predictor.stop();
    }
  });

  it('gives each internal part its own login and refuses a device login with an internal username', async () => {
    const predictor = fx.ingestor.busConnection('predictor');
    const dispatcher = fx.ingestor.busConnection('dispatcher');
    expect(predictor.username).not.toBe(dispatcher.username);
    expect(predictor.password).not.toBe(dispatcher.password);
    // The predictor's password is not the dispatcher's.
    await expect(
      connectAsync(predictor.url, { username: dispatcher.username!, password: predictor.password!, clientId: 'x', reconnectPeriod: 0 }),
    ).rejects.toThrow(/Bad username or password/i);
  });

  it('refuses a device that connects with another device’s id as client id; that device’s session stays', async () => {
    const b2 = await device('b-2', { clientId: 'b-2', clean: false });
    let closed = 0;
    b2.on('close', () => closed++);
    await expect(device('b-1', { clientId: 'b-2', clean: true })).rejects.toThrow(/Identifier rejected/i);
    await expect(device('b-1', { clientId: 'b-2/x' })).rejects.toThrow(/Identifier rejected/i);
    await expect(device('b-1', { clientId: 'anything-else' })).rejects.toThrow(/Identifier rejected/i);
    // Its own id, its own id with a suffix, or none at all (the broker assigns one).
    await device('b-1', { clientId: 'b-1/gateway-port-2' });
    await device('b-1', { clientId: '', clean: true });
    expect(b2.connected).toBe(true);
    expect(closed).toBe(0);
    await b2.publishAsync(deviceReadingsTopic('b-2'), JSON.stringify(reading('b-2', 1, Date.parse('2026-11-26T03:00:00Z'))), { qos: 1 });
  });
});
