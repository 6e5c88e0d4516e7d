import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type RunningMosquitto } from '../../../infra/harness/mosquitto.js';
import { exportMosquitto } from '../../../services/registry/mosquitto-export.js';
import { countPoints, createIngestFixture, reading, type IngestFixture } from '../../helpers/ingest-fixture.js';
import { eventually } from '../../helpers/eventually.js';
import { testInflux } from '../../helpers/test-influx.js';

const influx = testInflux();
const INGESTOR = { username: 'ingestor', password: 'ingestor-secret' };

/** Wait for the next message on `topic` (bounded). */
function nextMessage(client: MqttClient, topic: string, timeoutMs = 10_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no message on ${topic}`)), timeoutMs);
    client.on('message', (t, payload) => {
      if (t !== topic) return;
      clearTimeout(timer);
      resolve(JSON.parse(payload.toString()));
    });
  });
}

describe(`MQTT ingest through a real Mosquitto with the exported password file and ACL (InfluxDB ${influx.kind})`, () => {
  const database = `mqtt_${process.pid}`;
  let fx: IngestFixture;
  let mosquitto: RunningMosquitto;
  const secrets: Record<string, string> = {};
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    await influx.createDatabase(database);
    const dir = mkdtempSync(join(tmpdir(), 'fieldhook-mosq-'));
    // The registry comes first: the broker's files are exported from it, as an operator would.
    fx = createIngestFixture({ database, config: { MQTT_URL: 'mqtt://127.0.0.1:1' } });
    for (const id of ['m-1', 'm-2']) secrets[id] = (await fx.devices.add({ id, farm: 'farm-m', field: 'east', kind: 'device' })).secret;
    const all = await Promise.all(['m-1', 'm-2'].map((id) => fx.devices.get(id)));
    const files = exportMosquitto(all.filter((d) => d !== undefined), INGESTOR);
    writeFileSync(join(dir, 'passwords'), files.passwordFile);
    writeFileSync(join(dir, 'acl'), files.aclFile);
    mosquitto = await startMosquitto({
      dir,
      extraConfig: ['allow_anonymous false', `password_file ${join(dir, 'passwords')}`, `acl_file ${join(dir, 'acl')}`],
    });
    await fx.close();
    // Now the real fixture, pointed at that broker, on the same registry contents.
    fx = createIngestFixture({
      database,
      config: { MQTT_URL: mosquitto.url, MQTT_USERNAME: INGESTOR.username, MQTT_PASSWORD: INGESTOR.password, MQTT_CLIENT_ID_PREFIX: `it-${process.pid}` },
    });
    for (const id of ['m-1', 'm-2']) await fx.devices.add({ id, farm: 'farm-m', field: 'east', kind: 'device', secret: secrets[id]! });
    await fx.ingestor.start();
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.endAsync()));
    await fx.close();
    await mosquitto.stop();
  });

  const device = async (id: string) => {
    const client = await connectAsync(mosquitto.url, { username: id, password: secrets[id]!, clientId: `${id}-${process.pid}-${clients.length}`, protocolVersion: 5 });
    clients.push(client);
    return client;
  };

  it('stores QoS 1 readings in InfluxDB and republishes them on the field topic', async () => {
    const watcher = await connectAsync(mosquitto.url, { ...INGESTOR, clientId: `watch-${process.pid}` });
    clients.push(watcher);
    await watcher.subscribeAsync('fieldhook/v1/farms/farm-m/fields/east/readings', { qos: 1 });
    // Every bus message on the field topic, flattened: the consumer reads through several
    // connections of a shared subscription, so readings reach the bus in commit order, not
    // necessarily in the order the device sent them.
    const onBus: Record<string, unknown>[] = [];
    watcher.on('message', (topic, payload) => {
      if (topic === 'fieldhook/v1/farms/farm-m/fields/east/readings') onBus.push(...(JSON.parse(payload.toString()) as Record<string, unknown>[]));
    });

    const m1 = await device('m-1');
    const base = Date.parse('2026-11-25T08:00:00Z');
    for (let i = 0; i < 20; i++) {
      await m1.publishAsync('fieldhook/v1/devices/m-1/readings', JSON.stringify(reading('m-1', i, base)), { qos: 1 });
    }
    const where = `WHERE "device" = 'm-1'`;
    await eventually(async () => (await countPoints(database, where)) === 20);
    await eventually(() => onBus.length >= 20);
    const sent = Array.from({ length: 20 }, (_, i) => new Date(base + i * 1000).toISOString());
    expect(onBus.map((r) => r['ts']).sort()).toEqual(sent);
    expect(onBus.find((r) => r['ts'] === sent[0])).toEqual(
      expect.objectContaining({ device: 'm-1', farm: 'farm-m', field: 'east', values: { battery_voltage: 3.7, soil_moisture: 0.25 } }),
    );
  });

  it('sends refusals to the device’s errors topic', async () => {
    const m2 = await device('m-2');
    await m2.subscribeAsync('fieldhook/v1/devices/m-2/errors', { qos: 0 });
    const refusal = nextMessage(m2, 'fieldhook/v1/devices/m-2/errors');
    await m2.publishAsync('fieldhook/v1/devices/m-2/readings', JSON.stringify({ ts: Date.now(), values: { soil_moisture: 7 } }), { qos: 1 });
    expect(await refusal).toEqual({ refused: [expect.objectContaining({ index: 0, code: 'FH_ERR_READING_VALUE_OUT_OF_RANGE' })] });
  });

  it('refuses a payload above INGEST_BODY_LIMIT_BYTES before parsing it, and one of more than INGEST_MAX_BATCH readings', async () => {
    const m2 = await device('m-2');
    await m2.subscribeAsync('fieldhook/v1/devices/m-2/errors', { qos: 0 });
    const base = Date.parse('2026-11-25T11:00:00Z');
    // Valid readings, under INGEST_MAX_BATCH, but more bytes than one message may hold; below the
    // maximumPacketSize the consumer announces, so Mosquitto delivers it.
    const limit = fx.config.INGEST_BODY_LIMIT_BYTES;
    const padded = Array.from({ length: 40 }, (_, i) => ({ id: `pad-${i}-${'p'.repeat(Math.ceil(limit / 40))}`, ts: base + i, values: { battery_voltage: 3.7 } }));
    const big = Buffer.from(JSON.stringify(padded));
    expect(big.length).toBeGreaterThan(limit);
    expect(big.length).toBeLessThan(limit + 16_384);
    const tooLarge = nextMessage(m2, 'fieldhook/v1/devices/m-2/errors');
    await m2.publishAsync('fieldhook/v1/devices/m-2/readings', big, { qos: 1 });
    expect(await tooLarge).toEqual({ refused: [expect.objectContaining({ code: 'FH_ERR_INGEST_PAYLOAD_TOO_LARGE' })] });

    const many = Array.from({ length: fx.config.INGEST_MAX_BATCH + 1 }, (_, i) => ({ ts: base + i, values: { battery_voltage: 3.7 } }));
    const tooMany = nextMessage(m2, 'fieldhook/v1/devices/m-2/errors');
    await m2.publishAsync('fieldhook/v1/devices/m-2/readings', JSON.stringify(many), { qos: 1 });
    expect(await tooMany).toEqual({ refused: [expect.objectContaining({ code: 'FH_ERR_INGEST_BATCH_TOO_LARGE' })] });
    expect(await countPoints(database, `WHERE time >= ${base}ms AND time < ${base + 3_600_000}ms`)).toBe(0);
  });

  it('does not let a device publish as another (the ACL refuses it)', async () => {
    const m2 = await device('m-2');
    const base = Date.parse('2026-11-25T09:00:00Z');
    await expect(m2.publishAsync('fieldhook/v1/devices/m-1/readings', JSON.stringify(reading('m-1', 999, base)), { qos: 1 })).rejects.toThrow(
      /Not authorized/,
    );
    // A legitimate reading sent afterwards proves the pipeline has processed what came before.
    await m2.publishAsync('fieldhook/v1/devices/m-2/readings', JSON.stringify(reading('m-2', 1, base)), { qos: 1 });
    await eventually(async () => (await countPoints(database, `WHERE "device" = 'm-2'`)) === 1);
    expect(await countPoints(database, `WHERE time = ${base + 999_000}ms`)).toBe(0);
  });

  it('stores a reading sent over both HTTP and MQTT once', async () => {
    const base = Date.parse('2026-11-25T10:00:00Z');
    const same = { id: 'both-ways', ts: new Date(base).toISOString(), values: { battery_voltage: 3.9 } };
    const http = await fx.app.inject({ method: 'POST', url: '/v1/readings', headers: { authorization: `Bearer ${secrets['m-1']}` }, payload: same });
    expect(http.json()).toMatchObject({ accepted: 1 });
    const m1 = await device('m-1');
    await m1.publishAsync('fieldhook/v1/devices/m-1/readings', JSON.stringify(same), { qos: 1 });
    await m1.publishAsync('fieldhook/v1/devices/m-1/readings', JSON.stringify(reading('m-1', 1, base + 60_000)), { qos: 1 });
    const window = `WHERE time >= ${base}ms AND time < ${base + 3_600_000}ms`;
    await eventually(async () => (await countPoints(database, window)) === 2);
    const metrics = (await fx.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/fieldhook_readings_duplicate_total 1/);
  });
});

describe(`MQTT ingest on the embedded broker (InfluxDB ${influx.kind})`, () => {
  const database = `embedded_${process.pid}`;
  let fx: IngestFixture;
  let secret: string;

  beforeAll(async () => {
    await influx.createDatabase(database);
    fx = createIngestFixture({ database });
    secret = (await fx.devices.add({ id: 'e-1', farm: 'farm-x', field: 'west', kind: 'device' })).secret;
    await fx.devices.add({ id: 'e-2', farm: 'farm-x', field: 'west', kind: 'device' });
    await fx.ingestor.start();
  });
  afterAll(() => fx.close());

  it('acknowledges only durable readings and writes them to InfluxDB', async () => {
    const client = await connectAsync(fx.ingestor.busConnection('bus').url, { username: 'e-1', password: secret, clientId: 'e-1', protocolVersion: 4 });
    const base = Date.parse('2026-11-24T08:00:00Z');
    for (let i = 0; i < 10; i++) await client.publishAsync('fieldhook/v1/devices/e-1/readings', JSON.stringify(reading('e-1', i, base)), { qos: 1 });
    // The PUBACK came after the spool commit: the readings are there before InfluxDB has them.
    expect((await fx.ingestor.spool.usage()).consumers.influx!.pendingReadings + (await countPoints(database))).toBeGreaterThanOrEqual(10);
    await eventually(async () => (await countPoints(database)) === 10);
    await client.endAsync();
  });

  it('refuses a wrong password', async () => {
    await expect(connectAsync(fx.ingestor.busConnection('bus').url, { username: 'e-1', password: 'wrong', clientId: 'e-1', reconnectPeriod: 0 })).rejects.toThrow();
  });

  it('keeps the refusals for a device with a persistent session while it is away (QoS 1)', async () => {
    const url = fx.ingestor.busConnection('bus').url;
    const login = { username: 'e-1', password: secret, protocolVersion: 4 as const, reconnectPeriod: 0 };
    const sleeper = await connectAsync(url, { ...login, clientId: 'e-1/persist', clean: false });
    await sleeper.subscribeAsync('fieldhook/v1/devices/e-1/errors', { qos: 1 });
    await sleeper.endAsync();
    const sender = await connectAsync(url, { ...login, clientId: 'e-1/sender' });
    await sender.publishAsync('fieldhook/v1/devices/e-1/readings', JSON.stringify({ ts: new Date().toISOString(), values: { no_such_quantity: 1 } }), { qos: 1 });
    await sender.endAsync();
    const back = await connectAsync(url, { ...login, clientId: 'e-1/persist', clean: false });
    const refusals: { refused: { code: string }[] }[] = [];
    back.on('message', (_topic, payload) => refusals.push(JSON.parse(payload.toString())));
    await eventually(() => refusals.length === 1);
    expect(refusals[0]!.refused.map((r) => r.code)).toEqual(['FH_ERR_READING_UNKNOWN_QUANTITY']);
    await back.endAsync();
  });

  it('acknowledges a publish to a topic not its own, refuses it on its errors topic, forwards and stores nothing, and keeps the connection', async () => {
    const { url, username, password } = fx.ingestor.busConnection('bus');
    // An internal part subscribed to everything: what the broker would forward, it sees.
    const watcher = await connectAsync(url, { username, password, clientId: 'fieldhook-watcher', protocolVersion: 4 });
    const forwarded: string[] = [];
    watcher.on('message', (topic) => forwarded.push(topic));
    await watcher.subscribeAsync('fieldhook/v1/#', { qos: 1 });
    const client = await connectAsync(url, { username: 'e-1', password: secret, clientId: 'e-1/refused', protocolVersion: 4, reconnectPeriod: 0 });
    const refusals: unknown[] = [];
    client.on('message', (_topic, payload) => refusals.push(JSON.parse(payload.toString())));
    // A filter beyond its own errors topic is refused in the SUBACK (0x80), the connection kept.
    await client.subscribeAsync('fieldhook/v1/devices/e-1/errors', { qos: 1 });
    await expect(client.subscribeAsync('#', { qos: 1 })).rejects.toMatchObject({ packet: { cmd: 'suback', granted: [128] } });
    // Every QoS, retained or not: none of them is forwarded or kept.
    const sent = [
      ['fieldhook/v1/devices/e-2/readings', 1, false],
      ['fieldhook/v1/farms/farm-y/fields/east/readings', 1, true],
      ['fieldhook/v1/devices/e-2/readings', 0, true],
      ['fieldhook/v1/farms/farm-y/fields/east/readings', 2, true],
    ] as const;
    for (const [topic, qos, retain] of sent) await client.publishAsync(topic, JSON.stringify(reading('e-2', 1)), { qos, retain });
    await eventually(() => refusals.length === sent.length);
    expect(refusals).toEqual(sent.map(([topic]) => ({ refused: [{ code: 'FH_ERR_INGEST_TOPIC_FORBIDDEN', message: `e-1 may not publish to ${topic}` }] })));
    expect(client.connected).toBe(true);
    // Its own readings still go in on the same connection; the refused ones never reached anyone.
    await client.publishAsync('fieldhook/v1/devices/e-1/readings', JSON.stringify(reading('e-1', 99)), { qos: 1 });
    await eventually(async () => (await countPoints(database, `WHERE "device" = 'e-1'`)) === 11);
    expect(await countPoints(database, `WHERE "device" = 'e-2'`)).toBe(0);
    // The watcher does see what the broker forwards: the bus message of e-1's own reading.
    await eventually(() => forwarded.includes('fieldhook/v1/farms/farm-x/fields/west/readings'));
    expect(forwarded.filter((t) => t.endsWith('/e-2/readings') || t === 'fieldhook/v1/farms/farm-y/fields/east/readings')).toEqual([]);
    // Nor retained: a subscriber that comes later gets nothing on those topics.
    const late = await connectAsync(url, { username, password, clientId: 'fieldhook-late', protocolVersion: 4 });
    const retained: string[] = [];
    late.on('message', (topic, _payload, packet) => packet.retain && retained.push(topic));
    await late.subscribeAsync(['fieldhook/v1/devices/e-2/readings', 'fieldhook/v1/farms/farm-y/fields/east/readings'], { qos: 1 });
    await late.publishAsync('fieldhook/v1/probe', 'after', { qos: 1 });
    expect(retained).toEqual([]);
    await late.endAsync();
    await client.endAsync();
    await watcher.endAsync();
  });
});
