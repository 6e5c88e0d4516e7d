/**
 * Forecasts through their ways in: `POST /v1/forecasts` with gateway and admin credentials, a
 * gateway's MQTT topic on the embedded broker (PUBACK once stored), and the Open-Meteo pull against
 * a local server that answers with a recorded response in Open-Meteo's documented hourly shape and
 * checks the request the way Open-Meteo reads it. InfluxDB 1.8 only: forecasts are not stored in
 * it, and the ingestor beside them writes nothing these tests read back.
 */
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildForecasts, type Forecasts } from '../../../services/forecasts/build-forecasts.js';
import { OPEN_METEO_HOURLY } from '../../../services/forecasts/open-meteo.js';
import { buildHostApp } from '../../../services/host/http-app.js';
import { buildIngestor, type Ingestor } from '../../../services/ingestor/build-ingestor.js';
import type { DeviceRepository } from '../../../services/registry/device.js';
import { createSqliteDeviceRepository } from '../../../services/registry/sqlite-devices.js';
import { deviceErrorsTopic, deviceForecastsTopic } from '../../../services/shared/bus/topics.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { eventually } from '../../helpers/eventually.js';
import { testConfig } from '../../helpers/ingest-fixture.js';
import { testInflux } from '../../helpers/test-influx.js';

const ADMIN = 'forecasts-admin-token-0123456789';
const H = 3_600_000;
const t0 = Date.parse('2026-07-08T00:00:00Z');
const RECORDED = readFileSync(new URL('../../fixtures/open-meteo-forecast.json', import.meta.url), 'utf8');

describe('forecasts: API, MQTT and the Open-Meteo pull', () => {
  const influx = testInflux().target(`forecasts_${process.pid}`);
  const dir = mkdtempSync(join(tmpdir(), 'fh-forecasts-'));
  let devices: DeviceRepository;
  let ingestor: Ingestor;
  let forecasts: Forecasts;
  let app: FastifyInstance;
  let openMeteo: Server;
  const requests: URL[] = [];
  let sites = [{ farm: 'f2', field: 'east', latitudeDeg: 44.5, longitudeDeg: 11.3 }];
  const secrets: Record<string, string> = {};

  const post = (secret: string, body: unknown) =>
    app.inject({ method: 'POST', url: '/v1/forecasts', headers: { authorization: `Bearer ${secret}` }, payload: body as Record<string, unknown> });

  beforeAll(async () => {
    // A local Open-Meteo: the documented query, the recorded hourly response.
    openMeteo = createServer((req, res) => {
      const url = new URL(req.url!, 'http://x');
      requests.push(url);
      const hourly = url.searchParams.get('hourly')?.split(',') ?? [];
      const ok = url.pathname === '/v1/forecast' && url.searchParams.has('latitude') && url.searchParams.has('longitude') && hourly.length > 0;
      res.writeHead(ok ? 200 : 400, { 'content-type': 'application/json' });
      res.end(ok ? RECORDED : JSON.stringify({ error: true, reason: 'Parameter latitude is required' }));
    });
    await new Promise<void>((resolve) => openMeteo.listen(0, '127.0.0.1', resolve));
    devices = createSqliteDeviceRepository(join(dir, 'registry.db'));
    for (const d of [
      { id: 'gw-1', farm: 'f1', field: 'yard', kind: 'gateway' as const },
      { id: 'probe-1', farm: 'f1', field: 'north', kind: 'device' as const },
    ]) {
      secrets[d.id] = (await devices.add(d)).secret;
    }
    const config = testConfig({ DATA_DIR: dir, MQTT_LISTEN_PORT: '0', MQTT_LISTEN_HOST: '127.0.0.1' });
    forecasts = buildForecasts({
      config: { DATA_DIR: dir, ADMIN_TOKEN: ADMIN, FORECAST_OPEN_METEO_URL: `http://127.0.0.1:${(openMeteo.address() as AddressInfo).port}` },
      logger: silentLogger(),
      devices,
      bus: () => ingestor.busConnection('bus'),
      sites: async () => sites,
    });
    ingestor = buildIngestor({ config, logger: silentLogger(), devices, influx, deviceTopics: [forecasts.deviceTopic] });
    app = buildHostApp([ingestor, forecasts], { logger: silentLogger() });
    await ingestor.start();
    await forecasts.start();
  });

  afterAll(async () => {
    await app?.close();
    await forecasts?.stop();
    await ingestor?.stop();
    devices?.close();
    openMeteo?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores a gateway\'s forecast for its farm, and the admin\'s for any', async () => {
    const res = await post(secrets['gw-1']!, { farm: 'f1', hours: [{ ts: new Date(t0 + H).toISOString(), rain_mm: 6, rain_probability: 0.8 }, { ts: t0 + 2 * H, rain_mm: 2 }] });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({ farm: 'f1', hours: 2, stored: 2 });
    expect(forecasts.reader.hours('f1', 'north', t0, t0 + 3 * H)).toEqual([{ ts: t0 + H, rainMm: 6, rainProbability: 0.8 }, { ts: t0 + 2 * H, rainMm: 2 }]);
    const byAdmin = await post(ADMIN, { farm: 'f9', field: 'x', hours: [{ ts: t0 + H, et0_mm: 0.5 }] });
    expect(byAdmin.statusCode).toBe(201);
    expect(forecasts.reader.hours('f9', 'x', t0, t0 + H)).toEqual([{ ts: t0 + H, et0Mm: 0.5 }]);
    // A null is "not forecast", over HTTP as over MQTT: the hour keeps what else it says.
    const withNull = await post(ADMIN, { farm: 'f9', field: 'y', hours: [{ ts: t0 + H, rain_mm: null, et0_mm: 0.4 }] });
    expect(withNull.statusCode).toBe(201);
    expect(forecasts.reader.hours('f9', 'y', t0, t0 + H)).toEqual([{ ts: t0 + H, et0Mm: 0.4 }]);
  });

  it('states the rules it enforces in its OpenAPI document; a forecast breaking one is refused as the service refuses it', async () => {
    const document = (await app.inject({ method: 'GET', url: '/documentation/json' })).json();
    const body = document.paths['/v1/forecasts'].post.requestBody.content['application/json'].schema;
    expect(body).toMatchObject({ additionalProperties: false, properties: { hours: { minItems: 1, maxItems: 384 }, source: { minLength: 1, maxLength: 64 } } });
    expect(body.properties.hours.items).toMatchObject({ additionalProperties: false, properties: { rain_mm: { minimum: 0, maximum: 500 }, rain_probability: { minimum: 0, maximum: 1 } } });
    expect(body.properties.hours.items.properties.ts.oneOf[1]).toMatchObject({ type: 'integer', multipleOf: H });
    const cases: [unknown, string, RegExp][] = [
      [{ farm: 'f1', hours: [] }, 'hours', /non-empty array/],
      [{ farm: 'f1', hours: [{ ts: t0, rain_mm: 600 }] }, 'hours[0].rain_mm', /within 0–500/],
      [{ farm: 'f1', hours: [{ ts: t0, snow_mm: 1 }] }, 'hours[0].snow_mm', /not a forecast quantity/],
      [{ farm: 'f1', hours: [{ ts: t0 }], region: 'x' }, 'region', /not a forecast property/],
      [{ farm: 'f1', source: '', hours: [{ ts: t0 }] }, 'source', /1–64 characters/],
    ];
    for (const [forecast, field, message] of cases) {
      const res = await post(ADMIN, forecast);
      expect([res.statusCode, res.json().code, res.json().field], JSON.stringify(forecast)).toEqual([400, 'FH_ERR_FORECAST_INVALID', field]);
      expect(res.json().title).toMatch(message);
    }
  });

  it('refuses with catalog codes: another farm, a sensor node, no credential, a bad forecast', async () => {
    const cases: [string | undefined, unknown, number, string][] = [
      [secrets['gw-1'], { farm: 'f2', hours: [{ ts: t0 }] }, 403, 'FH_ERR_FORECAST_FORBIDDEN'],
      [secrets['probe-1'], { farm: 'f1', hours: [{ ts: t0 }] }, 403, 'FH_ERR_FORECAST_FORBIDDEN'],
      [undefined, { farm: 'f1', hours: [{ ts: t0 }] }, 401, 'FH_ERR_AUTH_MISSING'],
      ['not-a-secret', { farm: 'f1', hours: [{ ts: t0 }] }, 401, 'FH_ERR_AUTH_INVALID'],
      [ADMIN, { farm: 'f1', hours: [{ ts: t0 + 1 }] }, 400, 'FH_ERR_FORECAST_INVALID'],
      [ADMIN, { farm: 'f1', hours: [{ ts: t0, rain_mm: -2 }] }, 400, 'FH_ERR_FORECAST_INVALID'],
    ];
    for (const [secret, body, status, code] of cases) {
      const res = secret
        ? await post(secret, body)
        : await app.inject({ method: 'POST', url: '/v1/forecasts', payload: body as Record<string, unknown> });
      expect([res.statusCode, res.json().code]).toEqual([status, code]);
    }
  });

  it('takes a gateway\'s forecast over MQTT, acknowledged once stored; refusals go to its errors topic', async () => {
    const client = await mqtt.connectAsync(ingestor.busConnection('bus').url.replace(/\/\/.*@/, '//'), {
      clientId: 'gw-1', username: 'gw-1', password: secrets['gw-1']!, protocolVersion: 4, clean: true,
    });
    try {
      const refusals: unknown[] = [];
      client.on('message', (_topic, payload) => refusals.push(JSON.parse(payload.toString())));
      await client.subscribeAsync(deviceErrorsTopic('gw-1'), { qos: 0 });
      await client.publishAsync(deviceForecastsTopic('gw-1'), JSON.stringify({ farm: 'f1', field: 'north', hours: [{ ts: t0 + 5 * H, rain_mm: 9 }] }), { qos: 1 });
      // The PUBACK came after the store: the hour is there now.
      expect(forecasts.reader.hours('f1', 'north', t0 + 4 * H, t0 + 5 * H)).toEqual([{ ts: t0 + 5 * H, rainMm: 9 }]);
      await client.publishAsync(deviceForecastsTopic('gw-1'), JSON.stringify({ farm: 'f2', hours: [{ ts: t0 }] }), { qos: 1 });
      expect(await eventually(() => refusals[0], { what: 'the refusal' })).toEqual({ refused: [{ code: 'FH_ERR_FORECAST_FORBIDDEN', message: expect.any(String) }] });
    } finally {
      await client.endAsync();
    }
  });

  it('pulls Open-Meteo\'s hourly forecast per site: the documented query, each hour stamped with its end', async () => {
    expect(await forecasts.pullOnce()).toBe(1);
    const q = requests.at(-1)!;
    expect(Object.fromEntries(q.searchParams)).toEqual({
      latitude: '44.5000', longitude: '11.3000', hourly: Object.keys(OPEN_METEO_HOURLY).join(','), wind_speed_unit: 'ms', timezone: 'GMT', forecast_days: '3',
    });
    const hours = forecasts.reader.hours('f2', 'east', t0 - H, t0 + 48 * H);
    expect(hours).toHaveLength(48);
    // The recorded shower: 2.1 mm at 70 % in the hour ending 2026-07-09T03:00Z, and so on.
    expect(hours.find((h) => h.ts === Date.parse('2026-07-09T03:00:00Z'))).toMatchObject({ rainMm: 2.1, rainProbability: 0.7 });
    const noon = hours.find((h) => h.ts === Date.parse('2026-07-08T12:00:00Z'))!;
    expect(noon.et0Mm).toBeGreaterThan(0.4);
    expect(noon.solarRadiation).toBeGreaterThan(600);
    // 10 m wind brought to 2 m (FAO-56 Eq. 47): about three quarters.
    const recorded = JSON.parse(RECORDED) as { hourly: { time: string[]; wind_speed_10m: number[] } };
    const u10 = recorded.hourly.wind_speed_10m[recorded.hourly.time.indexOf('2026-07-08T12:00')]!;
    expect(noon.windSpeed! / u10).toBeCloseTo(0.748, 3);
  });

  it('asks once for fields at the same coordinates, and stores the forecast for each of them', async () => {
    sites = [
      { farm: 'f2', field: 'east', latitudeDeg: 44.5, longitudeDeg: 11.3 },
      { farm: 'f2', field: 'west', latitudeDeg: 44.50001, longitudeDeg: 11.3 },
      { farm: 'f3', field: 'hill', latitudeDeg: 44.6, longitudeDeg: 11.3 },
    ];
    const before = requests.length;
    expect(await forecasts.pullOnce()).toBe(3);
    expect(requests.slice(before).map((q) => q.searchParams.get('latitude'))).toEqual(['44.5000', '44.6000']);
    for (const [farm, field] of [['f2', 'west'], ['f3', 'hill']] as const) expect(forecasts.reader.hours(farm, field, t0 - H, t0 + 48 * H)).toHaveLength(48);
  });
});
