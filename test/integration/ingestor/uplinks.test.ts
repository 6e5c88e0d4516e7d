import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countPoints, createIngestFixture, type IngestFixture } from '../../helpers/ingest-fixture.js';
import { CHIRPSTACK_UP, TTN_UPLINK } from '../../fixtures/lorawan.js';
import { eventually } from '../../helpers/eventually.js';
import { VENDOR_EXAMPLES } from '../../fixtures/vendor-payloads.js';
import { testInflux } from '../../helpers/test-influx.js';

const influx = testInflux();
const database = `uplinks_${process.pid}`;

describe(`LoRaWAN network server webhooks (InfluxDB ${influx.kind})`, () => {
  let fx: IngestFixture;
  let secret: string;
  const recent = (iso: string) => new Date(Date.now() - 60_000 + (Date.parse(iso) % 1000)).toISOString();

  beforeAll(async () => {
    await influx.createDatabase(database);
    fx = createIngestFixture({ database });
    // The network server holds a gateway credential; its devices are registered by DevEUI.
    secret = (await fx.devices.add({ id: 'chirpstack', farm: 'farm-l', field: 'north', kind: 'gateway' })).secret;
    await fx.devices.add({ id: '0101010101010101', farm: 'farm-l', field: 'north', kind: 'device', gateway: 'chirpstack' });
    await fx.devices.add({ id: '70b3d57ed005a1b2', farm: 'farm-l', field: 'south', kind: 'device', gateway: 'chirpstack' });
    await fx.devices.add({ id: '0202020202020202', farm: 'farm-l', field: 'east', kind: 'device', gateway: 'chirpstack', deviceProfile: 'milesight-em500-smtc' });
    await fx.ingestor.start();
  });
  afterAll(() => fx.close());

  const post = (url: string, payload: unknown) =>
    fx.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${secret}` }, payload: payload as object });

  it('stores a ChirpStack uplink once, however often ChirpStack retries it, and ignores other events', async () => {
    const up = { ...CHIRPSTACK_UP, time: recent(CHIRPSTACK_UP.time) };
    expect((await post('/v1/uplinks/chirpstack?event=up', up)).json()).toEqual({ accepted: 1, duplicates: 0, refused: [] });
    expect((await post('/v1/uplinks/chirpstack?event=up', up)).json()).toMatchObject({ accepted: 0, duplicates: 1 });
    expect((await post('/v1/uplinks/chirpstack?event=status', { margin: 7 })).statusCode).toBe(204);
    await eventually(async () => (await countPoints(database, `WHERE "device" = '0101010101010101'`)) === 1);
  });

  it('stores a TTN uplink for the field of its DevEUI', async () => {
    const uplink = { ...TTN_UPLINK, uplink_message: { ...TTN_UPLINK.uplink_message, decoded_payload: { battery_voltage: 3.3 }, received_at: recent(TTN_UPLINK.received_at) } };
    expect((await post('/v1/uplinks/ttn', uplink)).statusCode).toBe(202);
    const params = new URLSearchParams({ q: `SELECT "battery_voltage", "rssi" FROM "reading" WHERE "field" = 'south'`, db: database });
    await eventually(async () => JSON.stringify(await (await fetch(`${influx.url}/query?${params}`, { headers: influx.headers })).json()).includes('3.3'));
  });

  it('stores the other values of an uplink whose codec wrote null for an absent sensor', async () => {
    const up = { ...CHIRPSTACK_UP, deduplicationId: 'null-field-1', time: recent(CHIRPSTACK_UP.time), object: { soil_moisture: 0.22, air_temperature: null } };
    expect((await post('/v1/uplinks/chirpstack?event=up', up)).json()).toEqual({ accepted: 1, duplicates: 0, refused: [] });
    const params = new URLSearchParams({ q: `SELECT "soil_moisture", "air_temperature" FROM "reading" WHERE "device" = '0101010101010101' AND "soil_moisture" = 0.22`, db: database });
    await eventually(async () => JSON.stringify(await (await fetch(`${influx.url}/query?${params}`, { headers: influx.headers })).json()).includes('0.22'));
    // The plain readings API still refuses a null value: there it is a client's mistake, not an absent sensor.
    const plain = await fx.app.inject({ method: 'POST', url: '/v1/readings', headers: { authorization: `Bearer ${secret}` }, payload: { device: '0101010101010101', ts: Date.now(), values: { soil_moisture: 0.2, air_temperature: null } } });
    expect(plain.statusCode).toBe(400);
    expect(plain.json().code).toBe('FH_ERR_INGEST_ALL_REFUSED');
    // Nothing but nulls (or nothing at all): no reading, though the uplink carries the gateway's RSSI.
    for (const [id, object] of [['null-field-2', { soil_moisture: null, air_temperature: null }], ['null-field-3', {}]] as const) {
      const empty = await post('/v1/uplinks/chirpstack?event=up', { ...up, deduplicationId: id, object });
      expect(empty.statusCode, id).toBe(400);
      expect(empty.json()).toMatchObject({ code: 'FH_ERR_INGEST_ALL_REFUSED', refused: [{ index: 0, code: 'FH_ERR_READING_VALUES_MISSING', field: 'values' }] });
    }
  });

  it('answers a The Things Stack simulated uplink 204 and stores nothing of it', async () => {
    const uplink = (value: number, simulated: boolean) => ({
      ...TTN_UPLINK,
      correlation_ids: [`as:up:simulated-test-${value}`],
      ...(simulated ? { simulated: true } : {}),
      uplink_message: { ...TTN_UPLINK.uplink_message, decoded_payload: { soil_moisture: value }, received_at: new Date(Date.now() - 120_000 + value * 1000).toISOString() },
    });
    expect((await post('/v1/uplinks/ttn', uplink(0.55, true))).statusCode).toBe(204);
    // Its envelope is read as any uplink's: a malformed one is refused, not waved through.
    const malformed = await post('/v1/uplinks/ttn', { ...uplink(0.55, true), uplink_message: { decoded_payload: null } });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().code).toBe('FH_ERR_INGEST_BAD_ENVELOPE');
    // A real uplink after it: once that one is in InfluxDB, the simulated one would be too, had it been stored.
    expect((await post('/v1/uplinks/ttn', uplink(0.25, false))).statusCode).toBe(202);
    const params = new URLSearchParams({ q: `SELECT "soil_moisture" FROM "reading" WHERE "device" = '70b3d57ed005a1b2' AND "soil_moisture" > 0`, db: database });
    let text = '';
    await eventually(async () => (text = JSON.stringify(await (await fetch(`${influx.url}/query?${params}`, { headers: influx.headers })).json())).includes('0.25'));
    expect(text).not.toContain('0.55');
  });

  it('reads a vendor codec through the device profile the uplink names (ChirpStack device profile, TTN version_ids)', async () => {
    // The LSE01 example's EC (28,200 µS/cm = 28.2 dS/m) is above soil_ec's range: a field probe's value here.
    const lse01 = { ...VENDOR_EXAMPLES['dragino-lse01']![0]!.decoded, conduct_SOIL: 1200 };
    const up = {
      ...CHIRPSTACK_UP,
      deduplicationId: 'profile-1',
      time: recent(CHIRPSTACK_UP.time),
      deviceInfo: { ...CHIRPSTACK_UP.deviceInfo, deviceProfileName: 'Dragino LSE01' },
      object: lse01,
    };
    expect((await post('/v1/uplinks/chirpstack?event=up', up)).json()).toEqual({ accepted: 1, duplicates: 0, refused: [] });
    const params = new URLSearchParams({ q: `SELECT "soil_moisture", "soil_ec" FROM "reading" WHERE "device" = '0101010101010101'`, db: database });
    await eventually(async () => {
      const text = JSON.stringify(await (await fetch(`${influx.url}/query?${params}`, { headers: influx.headers })).json());
      return text.includes('0.1957') && text.includes('1.2');
    });
    const lht65n = {
      ...TTN_UPLINK,
      correlation_ids: ['as:up:profile-2'],
      uplink_message: {
        ...TTN_UPLINK.uplink_message,
        decoded_payload: VENDOR_EXAMPLES['dragino-lht65n']![0]!.decoded,
        version_ids: { brand_id: 'dragino', model_id: 'lht65n' },
        received_at: recent(TTN_UPLINK.received_at),
      },
    };
    expect((await post('/v1/uplinks/ttn', lht65n)).json()).toEqual({ accepted: 1, duplicates: 0, refused: [] });
    // Every field refused: the uplink is refused, each field with its reason — with the gateway's
    // RSSI too, which alone is no reading of the device's.
    for (const [id, rxInfo] of [['profile-3', []], ['profile-4', [{ rssi: -80 }]]] as const) {
      const refused = await post('/v1/uplinks/chirpstack?event=up', { ...up, deduplicationId: id, object: { water_SOIL: 'n/a', odd: 1 }, rxInfo });
      expect(refused.statusCode).toBe(400);
      expect(refused.json()).toMatchObject({
        code: 'FH_ERR_INGEST_ALL_REFUSED',
        refused: [
          { index: 0, code: 'FH_ERR_PROFILE_NO_VALUE', field: 'object.water_SOIL' },
          { index: 0, code: 'FH_ERR_PROFILE_UNMAPPED_FIELD', field: 'object.odd' },
          { index: 0, code: 'FH_ERR_READING_VALUES_MISSING', field: 'values' },
        ],
      });
    }
    // Fields refused and the reading then refused by ingest (EC out of range): the 400 names both.
    const both = await post('/v1/uplinks/chirpstack?event=up', { ...up, deduplicationId: 'profile-6', object: { ...lse01, conduct_SOIL: 28_200, odd: 1 } });
    expect(both.statusCode).toBe(400);
    expect(both.json().refused.map((r: { code: string }) => r.code)).toEqual(['FH_ERR_PROFILE_UNMAPPED_FIELD', 'FH_ERR_READING_VALUE_OUT_OF_RANGE']);
    // Some fields refused: the others are stored, and the answer names the refused ones.
    const partly = await post('/v1/uplinks/chirpstack?event=up', { ...up, deduplicationId: 'profile-5', object: { ...lse01, odd: 1 } });
    expect(partly.statusCode).toBe(202);
    expect(partly.json()).toEqual({
      accepted: 1,
      duplicates: 0,
      refused: [{ index: 0, code: 'FH_ERR_PROFILE_UNMAPPED_FIELD', message: 'odd is not in profile dragino-lse01', field: 'object.odd' }],
    });
  });

  it('reads an uplink with the profile its device names in the registry, over the one the uplink names', async () => {
    const up = {
      ...CHIRPSTACK_UP,
      deduplicationId: 'profile-own-1',
      time: recent(CHIRPSTACK_UP.time),
      deviceInfo: { ...CHIRPSTACK_UP.deviceInfo, devEui: '0202020202020202', deviceProfileName: 'Dragino LSE01' },
      object: VENDOR_EXAMPLES['milesight-em500-smtc']![0]!.decoded,
    };
    expect((await post('/v1/uplinks/chirpstack?event=up', up)).json()).toEqual({ accepted: 1, duplicates: 0, refused: [] });
    const params = new URLSearchParams({ q: `SELECT "soil_moisture" FROM "reading" WHERE "field" = 'east'`, db: database });
    await eventually(async () => JSON.stringify(await (await fetch(`${influx.url}/query?${params}`, { headers: influx.headers })).json()).includes('0.505'));
  });

  it('stores the readings a node buffered during an outage at their own times, once however often they come', async () => {
    const at = (minutesAgo: number) => Math.floor((Date.now() - minutesAgo * 60_000) / 1000);
    const [t1, t2] = [at(90), at(60)];
    const object = {
      battery: 88,
      history: [
        { timestamp: t1, electricity: 140, temperature: 18.5, moisture: 27.25 },
        { timestamp: t2, electricity_error: 'collection failed', temperature: 18.25, moisture: 'n/a' },
        { moisture: 26 },
      ],
    };
    const up = { ...CHIRPSTACK_UP, deduplicationId: 'history-1', time: recent(CHIRPSTACK_UP.time), deviceInfo: { ...CHIRPSTACK_UP.deviceInfo, devEui: '0202020202020202' }, object };
    // No reading of its own (battery only): the two buffered ones, the second without its failed values.
    const first = await post('/v1/uplinks/chirpstack?event=up', up);
    expect(first.statusCode).toBe(202);
    expect(first.json()).toEqual({
      accepted: 2,
      duplicates: 0,
      refused: [
        { index: 0, code: 'FH_ERR_PROFILE_HISTORY_INVALID', message: 'history[2].timestamp is not a time', field: 'object.history[2].timestamp' },
        { index: 1, code: 'FH_ERR_PROFILE_NO_VALUE', message: 'history[1].moisture (soil_moisture) holds text, not a number', field: 'object.history[1].moisture' },
      ],
    });
    // Sent again with the next uplink: the same readings, not new ones.
    expect((await post('/v1/uplinks/chirpstack?event=up', { ...up, deduplicationId: 'history-2' })).json()).toMatchObject({ accepted: 0, duplicates: 2 });
    const params = new URLSearchParams({ q: `SELECT "soil_moisture", "soil_temperature", "soil_ec" FROM "reading" WHERE "device" = '0202020202020202' AND time >= ${t1}s AND time <= ${t2}s`, db: database, epoch: 's' });
    await eventually(async () => {
      const body = (await (await fetch(`${influx.url}/query?${params}`, { headers: influx.headers })).json()) as { results: { series?: { values: unknown[][] }[] }[] };
      return JSON.stringify(body.results[0]!.series?.[0]?.values) === JSON.stringify([[t1, 0.2725, 18.5, 0.14], [t2, null, 18.25, null]]);
    }, { what: 'the buffered readings at their own times' });
  });

  it('refuses an uplink for a device not registered to the credential, and a malformed envelope', async () => {
    const stranger = { ...CHIRPSTACK_UP, deduplicationId: 'x-1', time: recent(CHIRPSTACK_UP.time), deviceInfo: { devEui: 'FFFFFFFFFFFFFFFF' } };
    const refused = await post('/v1/uplinks/chirpstack?event=up', stranger);
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toMatchObject({ refused: [{ index: 0, code: 'FH_ERR_DEVICE_UNKNOWN' }] });
    const malformed = await post('/v1/uplinks/ttn', { end_device_ids: {}, uplink_message: { decoded_payload: {} } });
    expect(malformed.json()).toMatchObject({ status: 400, code: 'FH_ERR_INGEST_BAD_ENVELOPE', field: 'end_device_ids.dev_eui' });
  });
});

describe(`SenML on /v1/readings (InfluxDB ${influx.kind})`, () => {
  it('stores a SenML pack as readings of the credential’s device, in canonical units', async () => {
    const db = `senml_${process.pid}`;
    await influx.createDatabase(db);
    const fx = createIngestFixture({ database: db });
    const { secret } = await fx.devices.add({ id: 's-1', farm: 'farm-s', field: 'f', kind: 'device' });
    await fx.ingestor.start();
    try {
      const t = Math.floor(Date.now() / 1000) - 600;
      const pack = [
        { bt: t, n: 'battery_voltage', u: 'V', v: 3.6 },
        { n: 'soil_temperature', u: 'K', v: 290.15 },
      ];
      const res = await fx.app.inject({
        method: 'POST',
        url: '/v1/readings',
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/senml+json' },
        payload: JSON.stringify(pack),
      });
      expect(res.json()).toEqual({ accepted: 1, duplicates: 0, refused: [] });
      const params = new URLSearchParams({ q: 'SELECT "soil_temperature" FROM "reading"', db, epoch: 'ms' });
      await eventually(async () => JSON.stringify(await (await fetch(`${influx.url}/query?${params}`, { headers: influx.headers })).json()).includes(`[${t * 1000},17`));
    } finally {
      await fx.close();
    }
  });
});

describe(`hostile uplinks and SenML packs: a 4xx code, never a 500 (InfluxDB ${influx.kind})`, () => {
  let fx: IngestFixture;
  let gateway: string;
  let device: string;

  beforeAll(async () => {
    const db = `hostile_${process.pid}`;
    await influx.createDatabase(db);
    fx = createIngestFixture({ database: db });
    gateway = (await fx.devices.add({ id: 'ns-hostile', farm: 'farm-h', field: 'f', kind: 'gateway' })).secret;
    await fx.devices.add({ id: '0101010101010101', farm: 'farm-h', field: 'f', kind: 'device', gateway: 'ns-hostile' });
    await fx.devices.add({ id: '70b3d57ed005a1b2', farm: 'farm-h', field: 'f', kind: 'device', gateway: 'ns-hostile' });
    device = (await fx.devices.add({ id: 'senml-h', farm: 'farm-h', field: 'f', kind: 'device' })).secret;
    await fx.ingestor.start();
  });
  afterAll(() => fx.close());

  const nestedText = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
  const postText = (url: string, secret: string, payload: string, contentType = 'application/json') =>
    fx.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${secret}`, 'content-type': contentType }, payload });

  it.each([
    ['ChirpStack', 5_000, '/v1/uplinks/chirpstack?event=up', (o: string) => JSON.stringify({ ...CHIRPSTACK_UP, object: '@' }).replace('"@"', o)],
    ['TTN', 20_000, '/v1/uplinks/ttn', (o: string) => JSON.stringify({ ...TTN_UPLINK, uplink_message: { ...TTN_UPLINK.uplink_message, decoded_payload: '@' } }).replace('"@"', o)],
    ['ChirpStack', 1_000, '/v1/uplinks/chirpstack?event=up', (o: string) => JSON.stringify({ ...CHIRPSTACK_UP, object: '@' }).replace('"@"', o)],
  ])('%s: a decoded payload nested %i deep is refused with FH_ERR_INGEST_PAYLOAD_TOO_DEEP and a short field', async (_ns, depth, url, envelope) => {
    const res = await postText(url, gateway, envelope(nestedText(depth)));
    expect(res.statusCode).toBe(400);
    const body = res.json() as { code: string; field: string; maxDepth: number };
    expect(body).toMatchObject({ code: 'FH_ERR_INGEST_PAYLOAD_TOO_DEEP', maxDepth: 8 });
    expect(body.field.length).toBeLessThanOrEqual(65);
    expect(res.body.length).toBeLessThan(1_000);
  });

  it('refuses prototype names in a decoded payload as unknown quantities, and Object.prototype stays clean', async () => {
    const up = JSON.stringify({ ...CHIRPSTACK_UP, deduplicationId: 'proto-1', time: new Date().toISOString(), object: '@' }).replace(
      '"@"',
      '{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}},"soil_moisture":0.2}',
    );
    const res = await postText('/v1/uplinks/chirpstack?event=up', gateway, up);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'FH_ERR_INGEST_ALL_REFUSED', refused: [{ index: 0, code: 'FH_ERR_READING_UNKNOWN_QUANTITY' }] });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    ['"u":"valueOf"', '{"n":"soil_moisture","u":"valueOf","v":0.2}'],
    ['"u":"__proto__"', '{"n":"soil_moisture","u":"__proto__","v":0.2}'],
    ['"u":"hasOwnProperty"', '{"n":"soil_moisture","u":"hasOwnProperty","v":0.2}'],
    ['"u":"toString"', '{"n":"soil_moisture","u":"toString","v":0.2}'],
    ['"n":"constructor","u":"name"', '{"n":"constructor","u":"name","v":1}'],
  ])('SenML %s is a unit that does not fit: 400 FH_ERR_INGEST_BAD_ENVELOPE on [0].u', async (_name, record) => {
    const t = Math.floor(Date.now() / 1000) - 60;
    const res = await postText('/v1/readings', device, `[${record.replace('{', `{"bt":${t},`)}]`, 'application/senml+json');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'FH_ERR_INGEST_BAD_ENVELOPE', field: '[0].u' });
  });

  it('SenML: a 2,000-character name is refused with FH_ERR_INGEST_NAME_TOO_LONG, repeating only a prefix', async () => {
    const t = Math.floor(Date.now() / 1000) - 60;
    const res = await postText('/v1/readings', device, JSON.stringify([{ bt: t, n: 'x'.repeat(2_000), v: 1 }]), 'application/senml+json');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'FH_ERR_INGEST_NAME_TOO_LONG', field: '[0].n', maxLength: 64 });
    expect(res.body.length).toBeLessThan(1_000);
  });
});
