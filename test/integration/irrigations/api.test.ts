/**
 * Irrigation records through their ways in: `POST /v1/irrigations` with device, gateway and admin
 * credentials and idempotency keys, `GET /v1/irrigations`, and a valve controller's MQTT topic on
 * the embedded broker (PUBACK once stored). Records reach the real InfluxDB as `irrigation` points.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHostApp } from '../../../services/host/http-app.js';
import { buildIngestor, type Ingestor } from '../../../services/ingestor/build-ingestor.js';
import { buildIrrigations, type Irrigations } from '../../../services/irrigations/build-irrigations.js';
import type { DeviceRepository } from '../../../services/registry/device.js';
import { createSqliteDeviceRepository } from '../../../services/registry/sqlite-devices.js';
import { deviceErrorsTopic, deviceIrrigationsTopic } from '../../../services/shared/bus/topics.js';
import { queryInfluxQl } from '../../../services/shared/influxql.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { eventually } from '../../helpers/eventually.js';
import { testConfig } from '../../helpers/ingest-fixture.js';
import { testInflux } from '../../helpers/test-influx.js';

const influx = testInflux();

const ADMIN = 'irrigations-admin-token-0123456';

describe(`irrigation records: API and MQTT (InfluxDB ${influx.kind})`, () => {
  const database = `irrigations_api_${process.pid}`;
  const target = influx.target(database);
  const dir = mkdtempSync(join(tmpdir(), 'fh-irrigations-'));
  let devices: DeviceRepository;
  let ingestor: Ingestor;
  let irrigations: Irrigations;
  let app: FastifyInstance;
  const secrets: Record<string, string> = {};

  const post = (secret: string, body: unknown, key?: string) =>
    app.inject({
      method: 'POST',
      url: '/v1/irrigations',
      headers: { authorization: `Bearer ${secret}`, ...(key ? { 'idempotency-key': key } : {}) },
      payload: body as Record<string, unknown>,
    });

  beforeAll(async () => {
    await influx.createDatabase(database);
    devices = createSqliteDeviceRepository(join(dir, 'registry.db'));
    for (const d of [
      { id: 'valve-1', farm: 'f1', field: 'north', kind: 'device' as const },
      { id: 'gw-1', farm: 'f1', field: 'yard', kind: 'gateway' as const },
      { id: 'probe-2', farm: 'f1', field: 'south', kind: 'device' as const, gateway: 'gw-1' },
    ]) {
      secrets[d.id] = (await devices.add(d)).secret;
    }
    const config = testConfig({ DATA_DIR: dir, MQTT_LISTEN_PORT: '0', MQTT_LISTEN_HOST: '127.0.0.1', INGEST_BODY_LIMIT_BYTES: '4096' });
    irrigations = buildIrrigations({ config: { DATA_DIR: dir, ADMIN_TOKEN: ADMIN }, logger: silentLogger(), devices, influx: target, bus: () => ingestor.busConnection('bus') });
    ingestor = buildIngestor({ config, logger: silentLogger(), devices, influx: target, deviceTopics: [irrigations.deviceTopic] });
    app = buildHostApp([ingestor, irrigations], { logger: silentLogger() });
    await ingestor.start();
    await irrigations.start();
  });

  afterAll(async () => {
    await app?.close();
    await irrigations?.stop();
    await ingestor?.stop();
    devices?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('records a device\'s irrigation for its field, once per Idempotency-Key', async () => {
    const body = { farm: 'f1', field: 'north', depth_mm: 18, start: '2026-07-06T04:00:00Z', end: '2026-07-06T05:30:00Z' };
    const first = await post(secrets['valve-1']!, body, 'valve-1-run-7');
    expect(first.statusCode).toBe(201);
    const record = first.json();
    expect(record).toEqual({
      id: expect.stringMatching(/^irr_[0-9a-f]{24}$/), farm: 'f1', field: 'north', depth_mm: 18, start: '2026-07-06T04:00:00.000Z', end: '2026-07-06T05:30:00.000Z',
      source: 'api', who: 'device:valve-1', recorded_at: expect.any(String),
    });
    // The same request again (the same times as epoch ms, the depth as 18.0) is the same record.
    const again = await post(secrets['valve-1']!, { ...body, start: Date.parse(body.start), end: Date.parse(body.end), depth_mm: 18.0 }, 'valve-1-run-7');
    expect(again.statusCode).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(record);
    const conflict = await post(secrets['valve-1']!, { ...body, depth_mm: 20 }, 'valve-1-run-7');
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json()).toMatchObject({ code: 'FH_ERR_IRRIGATION_IDEMPOTENCY_CONFLICT', id: record.id });
    // A key is the reporter's own: another credential's same key is another record.
    const admin = await post(ADMIN, body, 'valve-1-run-7');
    expect(admin.statusCode).toBe(201);
    expect(admin.json()).toMatchObject({ source: 'api', who: 'admin' });
    expect(admin.json().id).not.toBe(record.id);
  });

  it('without an Idempotency-Key, records the same water sent again once when it says when it ended', async () => {
    const body = { farm: 'f1', field: 'north', depth_mm: 10, start: '2026-07-05T21:40:00Z', end: '2026-07-05T21:50:00Z' };
    const first = await post(secrets['valve-1']!, body);
    expect(first.statusCode).toBe(201);
    const again = await post(secrets['valve-1']!, body);
    expect(again.statusCode).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json().id).toBe(first.json().id);
    // Other water (another depth or end) is another record; so is every report that does not say when it ended.
    expect((await post(secrets['valve-1']!, { ...body, depth_mm: 11 })).statusCode).toBe(201);
    // The same water however its times are written: ISO or epoch ms, `start` given as `end` or left to default to it.
    const instant = { farm: 'f1', field: 'north', depth_mm: 6, end: '2026-07-05T23:00:00Z' };
    const once = await post(secrets['valve-1']!, instant);
    expect(once.statusCode).toBe(201);
    for (const same of [{ ...instant, end: Date.parse(instant.end) }, { ...instant, start: instant.end }]) {
      expect((await post(secrets['valve-1']!, same)).json().id, JSON.stringify(same)).toBe(once.json().id);
    }
    const open = { farm: 'f3', field: 'west', depth_mm: 4 };
    const ids = [(await post(ADMIN, open)).json().id, (await post(ADMIN, open)).json().id];
    expect(new Set(ids).size).toBe(2);
  });

  it('lets a device record only for its field and a gateway for its own devices\' fields', async () => {
    const other = await post(secrets['valve-1']!, { farm: 'f1', field: 'south', depth_mm: 5 });
    expect(other.statusCode).toBe(403);
    expect(other.json().code).toBe('FH_ERR_IRRIGATION_FORBIDDEN');
    expect((await post(secrets['gw-1']!, { farm: 'f1', field: 'south', depth_mm: 5 })).statusCode).toBe(201);
    expect((await post(secrets['gw-1']!, { farm: 'f1', field: 'north', depth_mm: 5 })).json().code).toBe('FH_ERR_IRRIGATION_FORBIDDEN');
    expect((await post(secrets['gw-1']!, { farm: 'f2', field: 'south', depth_mm: 5 })).statusCode).toBe(403);
    // The admin credential records for any field, and may say it reports through the CLI.
    const cli = await post(ADMIN, { farm: 'f2', field: 'east', depth_mm: 7.5, source: 'cli', who: 'cli:maria' });
    expect(cli.json()).toMatchObject({ source: 'cli', who: 'cli:maria', depth_mm: 7.5 });
  });

  it('refuses bad records and bad credentials with catalog codes', async () => {
    const cases: [unknown, string][] = [
      [{ farm: 'f1', field: 'north', depth_mm: 0 }, 'FH_ERR_IRRIGATION_INVALID'],
      [{ farm: 'f1', field: 'north', depth_mm: 600 }, 'FH_ERR_IRRIGATION_INVALID'],
      [{ farm: 'f1', field: 'north', depth_mm: 10, end: Date.now() + 3_600_000 }, 'FH_ERR_IRRIGATION_INVALID'],
      [{ farm: 'f1', field: 'north', depth_mm: 10, start: '2026-07-06T06:00:00Z', end: '2026-07-06T05:00:00Z' }, 'FH_ERR_IRRIGATION_INVALID'],
      [{ farm: 'f1', field: 'north', depth_mm: 10, end: 'yesterday' }, 'FH_ERR_IRRIGATION_INVALID'],
      [{ farm: 'f1', field: 'north', depth_mm: 10, source: 'mqtt' }, 'FH_ERR_IRRIGATION_INVALID'],
    ];
    for (const [body, code] of cases) {
      const res = await post(secrets['valve-1']!, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().code, JSON.stringify(body)).toMatch(code === 'FH_ERR_IRRIGATION_INVALID' ? /^FH_ERR_(IRRIGATION_INVALID|HTTP_)/ : code);
    }
    // Who reports and the key break the rules the schema states: the service's code, naming the field.
    for (const [body, key, field] of [
      [{ farm: 'f1', field: 'north', depth_mm: 10, who: 'x'.repeat(129) }, undefined, 'who'],
      [{ farm: 'f1', field: 'north', depth_mm: 10, source: 'chat' }, undefined, 'source'],
      [{ farm: 'f1', field: 'north', depth_mm: 10 }, 'k'.repeat(256), 'Idempotency-Key'],
    ] as const) {
      const res = await post(ADMIN, body, key);
      expect([res.statusCode, res.json().code, res.json().field], field).toEqual([400, 'FH_ERR_IRRIGATION_INVALID', field]);
    }
    expect((await post(secrets['valve-1']!, { farm: 'f1', field: 'north', depth_mm: 10, depth: 3 })).statusCode).toBe(400);
    const anonymous = await app.inject({ method: 'POST', url: '/v1/irrigations', payload: { farm: 'f1', field: 'north', depth_mm: 10 } });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json().code).toBe('FH_ERR_AUTH_MISSING');
    // The credential is judged first: an anonymous caller learns nothing of the body's rules.
    const anonymousBad = await app.inject({ method: 'POST', url: '/v1/irrigations', payload: {} });
    expect([anonymousBad.statusCode, anonymousBad.json().code]).toEqual([401, 'FH_ERR_AUTH_MISSING']);
    expect((await post('not-a-secret', { farm: 'f1', field: 'north', depth_mm: 10 })).json().code).toBe('FH_ERR_AUTH_INVALID');
  });

  it('states the rules it enforces in its OpenAPI document; a request breaking one is refused as the service refuses it', async () => {
    const document = (await app.inject({ method: 'GET', url: '/documentation/json' })).json();
    const body = document.paths['/v1/irrigations'].post.requestBody.content['application/json'].schema;
    expect(body.properties.depth_mm).toMatchObject({ minimum: 0.005, maximum: 500 });
    expect(body.properties.farm.pattern).toBeDefined();
    expect(body.properties.end.oneOf).toHaveLength(2);
    const since = document.paths['/v1/irrigations'].get.parameters.find((p: { name: string }) => p.name === 'since');
    expect(since.schema.pattern).toBeDefined();
    // The schema refuses these now; the client is told what the service told it before: its code, its field, its words.
    const cases: [unknown, string, RegExp][] = [
      [{ farm: 'f1', field: 'north', depth_mm: 0 }, 'depth_mm', /at least 0.01 and at most 500/],
      [{ farm: 'f1', field: 'north', depth_mm: 600 }, 'depth_mm', /at least 0.01 and at most 500/],
      [{ farm: 'f1 north', field: 'north', depth_mm: 10 }, 'farm', /farm must match/],
      [{ farm: 'f1', field: 'north', depth_mm: 10, end: 1_700_000 }, 'end', /epoch seconds/],
      [{ farm: 'f1', field: 'north', depth_mm: 10, end: '2026-02-29T06:00:00Z' }, 'end', /not a date and time that exists/],
      [{ farm: 'f1', field: 'north', depth_mm: 10, depth: 3 }, 'depth', /Unknown property/],
    ];
    for (const [record, field, message] of cases) {
      const res = await post(secrets['valve-1']!, record);
      expect([res.statusCode, res.json().code, res.json().field], JSON.stringify(record)).toEqual([400, 'FH_ERR_IRRIGATION_INVALID', field]);
      expect(res.json().title).toMatch(message);
    }
    // Who reports is refused as the service refuses a record, naming the field.
    const mqttByAdmin = await post(ADMIN, { farm: 'f1', field: 'north', depth_mm: 10, source: 'mqtt' });
    expect([mqttByAdmin.statusCode, mqttByAdmin.json().code, mqttByAdmin.json().field]).toEqual([400, 'FH_ERR_IRRIGATION_INVALID', 'source']);
    const list = (query: string) => app.inject({ method: 'GET', url: `/v1/irrigations${query}`, headers: { authorization: `Bearer ${ADMIN}` } });
    for (const since of ['nonsense', '2026-07-06', '2026-13-01T00:00Z', '12345678901234567']) {
      expect([(await list(`?since=${since}`)).json().code, (await list(`?since=${since}`)).json().field], since).toEqual(['FH_ERR_IRRIGATION_INVALID', 'since']);
    }
    expect((await list('?since=0')).statusCode).toBe(200);
    expect((await list(`?since=${encodeURIComponent('2026-07-06T05:00+02:00')}`)).statusCode).toBe(200);
    expect((await list('?limit=0')).json().code).toBe('FH_ERR_HTTP_INVALID_REQUEST');
  });

  it('lists records for the admin only, filtered by farm, field and time', async () => {
    const list = (query: string, secret = ADMIN) => app.inject({ method: 'GET', url: `/v1/irrigations${query}`, headers: { authorization: `Bearer ${secret}` } });
    const north = (await list('?farm=f1&field=north')).json().irrigations as { field: string; depth_mm: number }[];
    expect(north.length).toBeGreaterThanOrEqual(2);
    expect(north.every((r) => r.field === 'north')).toBe(true);
    expect((await list('?farm=f1&since=2026-07-06T05:00:00Z')).json().irrigations.every((r: { end: string }) => r.end >= '2026-07-06T05:00:00')).toBe(true);
    expect((await list('?since=nonsense')).json().code).toBe('FH_ERR_IRRIGATION_INVALID');
    const device = await list('', secrets['valve-1']!);
    expect(device.statusCode).toBe(401);
    expect(device.json().code).toBe('FH_ERR_AUTH_UNAUTHORIZED');
  });

  it('says when the list was cut at `limit`: the newest records, oldest first, and truncated', async () => {
    const list = async (query: string) => (await app.inject({ method: 'GET', url: `/v1/irrigations${query}`, headers: { authorization: `Bearer ${ADMIN}` } })).json();
    for (const hour of ['01', '02', '03']) {
      expect((await post(ADMIN, { farm: 'f8', field: 'east', depth_mm: 4, end: `2026-07-05T${hour}:00:00Z` })).statusCode).toBe(201);
    }
    const cut = await list('?farm=f8&limit=2');
    expect(cut.truncated).toBe(true);
    expect(cut.irrigations.map((r: { end: string }) => r.end)).toEqual(['2026-07-05T02:00:00.000Z', '2026-07-05T03:00:00.000Z']);
    const whole = await list('?farm=f8&limit=3');
    expect([whole.truncated, whole.irrigations.length]).toEqual([false, 3]);
    expect((await list('?farm=f8')).truncated).toBe(false);
  });

  it('takes a valve controller\'s report over MQTT, acknowledged once stored, once per report id', async () => {
    const client = await mqtt.connectAsync(ingestor.busConnection('bus').url.replace(/\/\/.*@/, '//'), {
      clientId: 'valve-1', username: 'valve-1', password: secrets['valve-1']!, protocolVersion: 4, clean: true,
    });
    try {
      const refusals: unknown[] = [];
      client.on('message', (_topic, payload) => refusals.push(JSON.parse(payload.toString())));
      await client.subscribeAsync(deviceErrorsTopic('valve-1'), { qos: 0 });
      const report = { id: 'run-42', depth_mm: 12.5, start: '2026-07-07T04:00:00Z', end: '2026-07-07T05:00:00Z' };
      await client.publishAsync(deviceIrrigationsTopic('valve-1'), JSON.stringify(report), { qos: 1 });
      // The PUBACK came after the commit: the record is there now, without waiting.
      const stored = await irrigations.service.list({ farm: 'f1', field: 'north', since: Date.parse(report.start) });
      expect(stored).toEqual([expect.objectContaining({ depth_mm: 12.5, source: 'mqtt', who: 'device:valve-1', end: '2026-07-07T05:00:00.000Z' })]);
      await client.publishAsync(deviceIrrigationsTopic('valve-1'), JSON.stringify(report), { qos: 1 });
      expect(await irrigations.service.list({ farm: 'f1', field: 'north', since: Date.parse(report.start) })).toHaveLength(1);
      await client.publishAsync(deviceIrrigationsTopic('valve-1'), JSON.stringify([{ depth_mm: -1 }, { depth_mm: 3, field: 'south' }]), { qos: 1 });
      const refused = await eventually(() => refusals[0], { what: 'the refusal on the errors topic' });
      expect(refused).toEqual({
        refused: [
          { index: 0, code: 'FH_ERR_IRRIGATION_INVALID', message: expect.any(String), field: 'depth_mm' },
          { index: 1, code: 'FH_ERR_IRRIGATION_FORBIDDEN', message: expect.any(String) },
        ],
      });
      // Above the message limit: acknowledged, refused on the errors topic, never parsed nor kept.
      await client.publishAsync(deviceIrrigationsTopic('valve-1'), JSON.stringify({ depth_mm: 1, pad: 'x'.repeat(5000) }), { qos: 1, retain: true });
      const tooLarge = await eventually(() => refusals[1], { what: 'the size refusal' });
      expect(tooLarge).toEqual({ refused: [{ code: 'FH_ERR_INGEST_PAYLOAD_TOO_LARGE', message: expect.stringMatching(/larger than 4096 bytes/) }] });
      expect(client.connected).toBe(true);
    } finally {
      await client.endAsync();
    }
  });

  it('keeps two records of one reporter that end at the same instant apart', async () => {
    const end = '2026-07-06T18:00:00Z';
    for (const [key, depth] of [['zone-a', 12], ['zone-b', 7]] as const) {
      expect((await post(secrets['valve-1']!, { farm: 'f1', field: 'north', depth_mm: depth, end }, key)).statusCode).toBe(201);
    }
    const q = `SELECT sum("depth_mm"), count("depth_mm") FROM "irrigation" WHERE time >= '${end}' AND time < '${end}' + 1ms`;
    const row = await eventually(async () => {
      const values = (await queryInfluxQl(target, q))[0]?.series?.[0]?.values[0];
      return values?.[2] === 2 ? values : undefined;
    }, { what: 'both records in InfluxDB' });
    expect(row[1]).toBe(19);
  });

  it('writes every record to InfluxDB as an irrigation point', async () => {
    const stored = await irrigations.service.list({});
    const series = await eventually(async () => {
      const [result] = await queryInfluxQl(target, 'SELECT sum("n") FROM (SELECT count("depth_mm") AS "n" FROM "irrigation" GROUP BY *)');
      const count = result?.series?.[0]?.values[0]?.[1];
      return count === stored.length ? result!.series : undefined;
    }, { what: 'every record in InfluxDB' });
    expect(series).toHaveLength(1);
    const [tags] = await queryInfluxQl(target, 'SHOW TAG KEYS FROM "irrigation"');
    expect(tags?.series?.[0]?.values.flat()).toEqual(['farm', 'field', 'source', 'who']);
    const [fields] = await queryInfluxQl(target, 'SHOW FIELD KEYS FROM "irrigation"');
    expect(fields?.series?.[0]?.values).toEqual([['depth_mm', 'float'], ['duration_s', 'float'], ['id', 'string'], ['recorded_at_ms', 'integer']]);
    const metrics = await irrigations.metrics!.metrics();
    expect(metrics).toMatch(/fieldhook_irrigations_recorded_total\{source="mqtt"\} 1\n/);
    expect(metrics).toMatch(/fieldhook_irrigations_unforwarded\{target="influx"\} 0\n/);
  });
});
