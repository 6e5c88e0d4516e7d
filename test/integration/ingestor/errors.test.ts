import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { NewDevice } from '../../../services/registry/device.js';
import { createIngestFixture, reading, type IngestFixture } from '../../helpers/ingest-fixture.js';
import { eventually } from '../../helpers/eventually.js';
import { TTN_UPLINK } from '../../fixtures/lorawan.js';
import { testInflux } from '../../helpers/test-influx.js';
import { CHIRPSTACK_UP } from '../../fixtures/lorawan.js';

const influx = testInflux();
const database = `errors_${process.pid}`;

/** A Standard-Webhooks-signed request from a device. */
function signed(secret: string, body: string, opts: { id?: string; at?: Date; device?: string } = {}) {
  const id = opts.id ?? `msg_${Math.random().toString(36).slice(2)}`;
  const at = opts.at ?? new Date();
  const signature = new Webhook(secret).sign(id, at, body);
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signature,
    ...(opts.device ? { 'fieldhook-device': opts.device } : {}),
  };
}

describe(`ingest refusals: every bad input gets its own code (InfluxDB ${influx.kind})`, () => {
  let fx: IngestFixture;
  const secrets: Record<string, string> = {};

  beforeAll(async () => {
    await influx.createDatabase(database);
    fx = createIngestFixture({ database, config: { INGEST_MAX_BATCH: '50', INGEST_BODY_LIMIT_BYTES: '20000' } });
    const fleet: [string, Partial<NewDevice>][] = [
      ['n-1', {}],
      ['n-2', {}],
      ['off', { enabled: false }],
      ['gw-1', { kind: 'gateway' }],
      ['behind-gw', { gateway: 'gw-1' }],
      ['lan-only', { allowedNetworks: ['10.0.0.0/8'] }],
    ];
    for (const [id, extra] of fleet) {
      const device = await fx.devices.add({ id, farm: 'farm-e', field: 'f', kind: 'device', ...extra });
      secrets[id] = device.secret;
    }
    await fx.ingestor.start();
  });
  afterAll(() => fx.close());

  const post = (headers: Record<string, string>, payload: unknown) =>
    fx.app.inject({ method: 'POST', url: '/v1/readings', headers: { 'content-type': 'application/json', ...headers }, payload: typeof payload === 'string' ? payload : JSON.stringify(payload) });
  const bearer = (id: string) => ({ authorization: `Bearer ${secrets[id]}` });
  const now = () => new Date().toISOString();

  const itemCases: [string, unknown, string][] = [
    ['not an object', 42, 'FH_ERR_READING_NOT_OBJECT'],
    ['missing ts', { values: { soil_moisture: 0.2 } }, 'FH_ERR_READING_TS_MISSING'],
    ['ts without zone', { ts: '2026-11-26T10:00:00', values: { soil_moisture: 0.2 } }, 'FH_ERR_READING_TS_INVALID'],
    ['ts in epoch seconds', { ts: 1_790_000_000, values: { soil_moisture: 0.2 } }, 'FH_ERR_READING_TS_INVALID'],
    ['ts ten minutes ahead', { ts: Date.now() + 600_000, values: { soil_moisture: 0.2 } }, 'FH_ERR_READING_TS_FUTURE'],
    ['ts a year old', { ts: Date.now() - 365 * 86_400_000, values: { soil_moisture: 0.2 } }, 'FH_ERR_READING_TS_TOO_OLD'],
    ['no values', { ts: Date.now() }, 'FH_ERR_READING_VALUES_MISSING'],
    ['empty values', { ts: Date.now(), values: {} }, 'FH_ERR_READING_VALUES_MISSING'],
    ['unknown quantity', { ts: Date.now(), values: { soil_moisture_pct: 23 } }, 'FH_ERR_READING_UNKNOWN_QUANTITY'],
    ['string value', { ts: Date.now(), values: { soil_moisture: '0.2' } }, 'FH_ERR_READING_VALUE_TYPE'],
    ['infinite value (1e400)', '[{"ts":' + Date.now() + ',"values":{"soil_moisture":1e400}}]', 'FH_ERR_READING_VALUE_NOT_FINITE'],
    ['impossible value', { ts: Date.now(), values: { soil_moisture: 0.95 } }, 'FH_ERR_READING_VALUE_OUT_OF_RANGE'],
    ['bad device id', { device: 'a/b', ts: Date.now(), values: { rssi: -80 } }, 'FH_ERR_READING_DEVICE_INVALID'],
    ['bad message id', { id: '', ts: Date.now(), values: { rssi: -80 } }, 'FH_ERR_READING_ID_INVALID'],
  ];

  it.each(itemCases)('%s → %s', async (_name, item, code) => {
    const res = await post(bearer('n-1'), typeof item === 'string' ? item : [item]);
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.json()).toMatchObject({ code: 'FH_ERR_INGEST_ALL_REFUSED', refused: [{ index: 0, code }] });
  });

  const requestCases: [string, () => Promise<{ statusCode: number; json(): unknown }>, number, string][] = [
    ['malformed JSON', () => post(bearer('n-1'), '{"ts": '), 400, 'FH_ERR_HTTP_MALFORMED_JSON'],
    ['empty array', () => post(bearer('n-1'), []), 400, 'FH_ERR_INGEST_EMPTY_BATCH'],
    ['too many readings', () => post(bearer('n-1'), Array.from({ length: 51 }, (_, i) => reading('n-1', i))), 413, 'FH_ERR_INGEST_BATCH_TOO_LARGE'],
    ['body over the limit', () => post(bearer('n-1'), JSON.stringify({ pad: 'x'.repeat(30_000) })), 413, 'FH_ERR_HTTP_BODY_TOO_LARGE'],
    ['no credential', () => post({}, [reading('n-1', 1)]), 401, 'FH_ERR_AUTH_MISSING'],
    ['unknown bearer secret', () => post({ authorization: 'Bearer whsec_nope' }, [reading('n-1', 1)]), 401, 'FH_ERR_AUTH_INVALID'],
    ['disabled device', () => post(bearer('off'), [reading('off', 1)]), 403, 'FH_ERR_DEVICE_DISABLED'],
    ['source outside allowed networks', () => post(bearer('lan-only'), [reading('lan-only', 1)]), 403, 'FH_ERR_AUTH_NETWORK_FORBIDDEN'],
    ['another device’s reading', () => post(bearer('n-1'), [reading('n-2', 1)]), 403, 'FH_ERR_AUTH_DEVICE_FORBIDDEN'],
    ['unsupported media type', () => fx.app.inject({ method: 'POST', url: '/v1/readings', headers: { ...bearer('n-1'), 'content-type': 'text/csv' }, payload: 'a,b' }), 415, 'FH_ERR_HTTP_UNSUPPORTED_MEDIA_TYPE'],
    ['a valid reading as text/plain', () => fx.app.inject({ method: 'POST', url: '/v1/readings', headers: { ...bearer('n-1'), 'content-type': 'text/plain' }, payload: JSON.stringify([reading('n-1', 3)]) }), 415, 'FH_ERR_HTTP_UNSUPPORTED_MEDIA_TYPE'],
    ['unknown route', () => fx.app.inject({ method: 'GET', url: '/v1/nothing' }), 404, 'FH_ERR_HTTP_NOT_FOUND'],
  ];

  it.each(requestCases)('%s → %i %s', async (_name, send, status, code) => {
    const res = await send();
    expect(res.statusCode).toBe(status);
    expect(res.json()).toMatchObject({ status, code });
  });

  describe('signed requests (Standard Webhooks HMAC)', () => {
    const body = () => JSON.stringify([{ ts: now(), id: `s-${Math.random()}`, values: { soil_moisture: 0.3 } }]);

    it('accepts a valid signature, naming the device in a header', async () => {
      const payload = body();
      const res = await post(signed(secrets['n-2']!, payload, { device: 'n-2' }), payload);
      expect(res.statusCode).toBe(202);
      expect(res.json()).toMatchObject({ accepted: 1 });
    });

    it('refuses a signed request without the fieldhook-device header, even when the body names one device', async () => {
      // The device is checked before the body is read, so it cannot come from the body.
      const payload = JSON.stringify([{ device: 'n-2', ts: now(), id: 'from-body', values: { rssi: -70 } }]);
      const res = await post(signed(secrets['n-2']!, payload), payload);
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ code: 'FH_ERR_AUTH_SIGNED_DEVICE_MISSING' });
    });

    it('refuses a body changed after signing', async () => {
      const payload = body();
      const res = await post(signed(secrets['n-2']!, payload, { device: 'n-2' }), payload.replace('0.3', '0.4'));
      expect(res.json()).toMatchObject({ code: 'FH_ERR_AUTH_SIGNATURE_INVALID' });
    });

    it('refuses a signature with another device’s secret', async () => {
      const payload = body();
      const res = await post(signed(secrets['n-1']!, payload, { device: 'n-2' }), payload);
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ code: 'FH_ERR_AUTH_SIGNATURE_INVALID' });
    });

    it('refuses a timestamp more than 300 s old', async () => {
      const payload = body();
      const res = await post(signed(secrets['n-2']!, payload, { device: 'n-2', at: new Date(Date.now() - 301_000) }), payload);
      expect(res.json()).toMatchObject({ code: 'FH_ERR_AUTH_SIGNATURE_STALE' });
    });

    it('refuses a replayed webhook-id with 409', async () => {
      const payload = body();
      const headers = signed(secrets['n-2']!, payload, { device: 'n-2', id: 'msg_replay' });
      expect((await post(headers, payload)).statusCode).toBe(202);
      const again = await post(headers, payload);
      expect(again.statusCode).toBe(409);
      expect(again.json()).toMatchObject({ code: 'FH_ERR_AUTH_REPLAYED' });
    });

    it('refuses an unknown device', async () => {
      const payload = body();
      const res = await post(signed(secrets['n-2']!, payload, { device: 'ghost' }), payload);
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ code: 'FH_ERR_DEVICE_UNKNOWN' });
    });
  });

  it('stores the good readings of a mixed batch and lists the bad ones by index', async () => {
    const res = await post(bearer('n-1'), [reading('n-1', 500), { ts: 'yesterday', values: { rssi: -1 } }, reading('n-1', 501), reading('n-2', 502)]);
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({
      accepted: 2,
      duplicates: 0,
      refused: [
        { index: 1, code: 'FH_ERR_READING_TS_INVALID', message: expect.any(String), field: 'ts' },
        { index: 3, code: 'FH_ERR_AUTH_DEVICE_FORBIDDEN', message: expect.any(String), field: 'device' },
      ],
    });
  });

  it('lets a gateway write for its own devices only', async () => {
    const res = await post(bearer('gw-1'), [reading('behind-gw', 1), reading('n-1', 2), { ts: now(), values: { rssi: -9 } }]);
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({
      accepted: 1,
      refused: [
        { index: 1, code: 'FH_ERR_AUTH_DEVICE_FORBIDDEN' },
        { index: 2, code: 'FH_ERR_READING_DEVICE_MISSING' },
      ],
    });
  });

  it('counts refusals by code on /metrics', async () => {
    const metrics = await fx.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/fieldhook_readings_refused_total\{code="FH_ERR_READING_VALUE_OUT_OF_RANGE"\} [1-9]/);
    expect(metrics.body).toMatch(/fieldhook_readings_refused_total\{code="FH_ERR_AUTH_REPLAYED"\} 1/);
    // Requests refused before any reading was read count too, once each (the cases above).
    for (const code of ['FH_ERR_HTTP_MALFORMED_JSON', 'FH_ERR_AUTH_INVALID', 'FH_ERR_HTTP_UNSUPPORTED_MEDIA_TYPE', 'FH_ERR_DEVICE_DISABLED']) {
      expect(metrics.body, code).toMatch(new RegExp(`fieldhook_readings_refused_total\\{code="${code}"\\} [1-9]`));
    }
    // A request whose every reading was refused is counted by its readings' codes, not once more.
    expect(metrics.body).not.toContain('FH_ERR_INGEST_ALL_REFUSED');
  });
});

describe(`ingest under pressure (InfluxDB ${influx.kind})`, () => {
  const pressureConfig = { SPOOL_HIGH_WATER_BYTES: '1000', SPOOL_BUDGET_BYTES: '3000', SPOOL_RETRY_AFTER_S: '7', INGEST_RATE_LIMIT_PER_MINUTE: '0' };

  async function fillUntilRefused(fx: IngestFixture) {
    const { secret } = await fx.devices.add({ id: 'p-1', farm: 'farm-p', field: 'f', kind: 'device' });
    const statuses: number[] = [];
    for (let i = 0; i < 40 && !statuses.some((s) => s !== 202); i++) {
      const batch = Array.from({ length: 5 }, (_, j) => reading('p-1', i * 10 + j));
      const res = await fx.app.inject({ method: 'POST', url: '/v1/readings', headers: { authorization: `Bearer ${secret}` }, payload: batch });
      statuses.push(res.statusCode);
      if (res.statusCode !== 202) {
        expect(res.headers['retry-after']).toBe('7');
        return { statuses, pending: fx.ingestor.spool.pendingBytes(), body: res.json() };
      }
    }
    throw new Error('never refused');
  }

  it('answers 429 above the high-water mark while InfluxDB keeps up (the sender is too fast)', async () => {
    const db = `pressure_${process.pid}`;
    await influx.createDatabase(db);
    // The writer is not started: the spool only grows, but nothing says InfluxDB is failing.
    const fx = createIngestFixture({ database: db, config: pressureConfig });
    const { statuses, pending, body } = await fillUntilRefused(fx);
    expect(statuses.at(-1)).toBe(429);
    expect(body).toMatchObject({ code: 'FH_ERR_INGEST_BACKPRESSURE' });
    expect(pending).toBeGreaterThanOrEqual(1000);
    expect(pending).toBeLessThan(3000);
    await fx.close();
  });

  it('absorbs an InfluxDB outage past the high-water mark, then answers 503 when the disk budget is spent', async () => {
    // Nothing listens on port 9 of loopback: every write fails, as in an outage.
    const fx = createIngestFixture({ influx: testInflux({ ...inject('influx'), url: 'http://127.0.0.1:9' }), database: 'none', config: pressureConfig });
    await fx.ingestor.start();
    const { secret } = await fx.devices.add({ id: 'warm', farm: 'farm-p', field: 'f', kind: 'device' });
    await fx.app.inject({ method: 'POST', url: '/v1/readings', headers: { authorization: `Bearer ${secret}` }, payload: [reading('warm', 1)] });
    await eventually(async () => !fx.ingestor.writerHealthy());
    const { statuses, pending, body } = await fillUntilRefused(fx);
    expect(statuses.at(-1)).toBe(503);
    expect(body).toMatchObject({ code: 'FH_ERR_INGEST_SPOOL_FULL' });
    expect(pending).toBeGreaterThanOrEqual(3000);
    await fx.close();
  });

  it('limits requests per device per minute', async () => {
    const db = `ratelimit_${process.pid}`;
    await influx.createDatabase(db);
    const fx = createIngestFixture({ database: db, config: { INGEST_RATE_LIMIT_PER_MINUTE: '3' } });
    const a = await fx.devices.add({ id: 'r-1', farm: 'farm-r', field: 'f', kind: 'device' });
    const b = await fx.devices.add({ id: 'r-2', farm: 'farm-r', field: 'f', kind: 'device' });
    const send = (secret: string, device: string, i: number) =>
      fx.app.inject({ method: 'POST', url: '/v1/readings', headers: { authorization: `Bearer ${secret}` }, payload: [reading(device, i)] });
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) codes.push((await send(a.secret, 'r-1', i)).statusCode);
    expect(codes).toEqual([202, 202, 202, 429]);
    const limited = await send(a.secret, 'r-1', 9);
    expect(limited.json()).toMatchObject({ code: 'FH_ERR_INGEST_RATE_LIMITED' });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // Another device has its own budget.
    expect((await send(b.secret, 'r-2', 1)).statusCode).toBe(202);

    // A network server's uplinks spend the budget of the end device each carries, not its gateway's.
    const ns = await fx.devices.add({ id: 'ns-1', farm: 'farm-r', field: 'f', kind: 'gateway' });
    const euis = ['0a0a0a0a0a0a0a01', '0a0a0a0a0a0a0a02', '0a0a0a0a0a0a0a03', '0a0a0a0a0a0a0a04', '0a0a0a0a0a0a0a05'];
    for (const id of euis) await fx.devices.add({ id, farm: 'farm-r', field: 'f', kind: 'device', gateway: 'ns-1' });
    const uplink = (eui: string, i: number) =>
      fx.app.inject({
        method: 'POST',
        url: '/v1/uplinks/chirpstack?event=up',
        headers: { authorization: `Bearer ${ns.secret}` },
        payload: { ...CHIRPSTACK_UP, deduplicationId: `rate-${eui}-${i}`, time: new Date(Date.now() - 60_000 + i).toISOString(), deviceInfo: { ...CHIRPSTACK_UP.deviceInfo, devEui: eui } },
      });
    const uplinks: number[] = [];
    for (const eui of euis) uplinks.push((await uplink(eui, 0)).statusCode);
    expect(uplinks).toEqual([202, 202, 202, 202, 202]);
    for (let i = 1; i < 3; i++) expect((await uplink(euis[0]!, i)).statusCode).toBe(202);
    expect((await uplink(euis[0]!, 3)).statusCode).toBe(429);
    await fx.close();
  });
});

describe(`impossible dates are refused end to end (InfluxDB ${influx.kind})`, () => {
  let fx: IngestFixture;
  let device: string;
  let gateway: string;

  beforeAll(async () => {
    const db = `dates_${process.pid}`;
    await influx.createDatabase(db);
    // Ten years of back-fill, so only the calendar decides, not the age of the date.
    fx = createIngestFixture({ database: db, config: { INGEST_MAX_AGE_MS: String(10 * 365 * 86_400_000) } });
    device = (await fx.devices.add({ id: 'cal-1', farm: 'farm-c', field: 'f', kind: 'device' })).secret;
    gateway = (await fx.devices.add({ id: 'ns-cal', farm: 'farm-c', field: 'f', kind: 'gateway' })).secret;
    await fx.devices.add({ id: '70b3d57ed005a1b2', farm: 'farm-c', field: 'f', kind: 'device', gateway: 'ns-cal' });
    await fx.ingestor.start();
  });
  afterAll(() => fx.close());

  const post = (url: string, secret: string, payload: unknown) =>
    fx.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' }, payload: JSON.stringify(payload) });

  it.each([
    ['31 November', '2026-11-31T04:30:00Z'],
    ['31 November, in the past', '2024-11-31T04:30:00Z'],
    ['30 February', '2024-02-30T04:30:00Z'],
    ['29 February of a common year', '2023-02-29T04:30:00Z'],
    ['31 April, with an offset', '2025-04-31T10:00:00+02:00'],
  ])('%s (%s) → FH_ERR_READING_TS_INVALID', async (_name, ts) => {
    const res = await post('/v1/readings', device, [{ ts, values: { rssi: -80 } }]);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'FH_ERR_INGEST_ALL_REFUSED', refused: [{ index: 0, code: 'FH_ERR_READING_TS_INVALID', field: 'ts' }] });
  });

  it('accepts 29 February of a leap year', async () => {
    const res = await post('/v1/readings', device, [{ ts: '2024-02-29T04:30:00Z', values: { rssi: -80 } }]);
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ accepted: 1 });
  });

  it('refuses a TTN uplink received on 31 November', async () => {
    const uplink = { ...TTN_UPLINK, uplink_message: { ...TTN_UPLINK.uplink_message, received_at: '2024-11-31T10:00:00Z' } };
    const res = await post('/v1/uplinks/ttn', gateway, uplink);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ refused: [{ code: 'FH_ERR_READING_TS_INVALID', field: 'ts' }] });
  });
});
