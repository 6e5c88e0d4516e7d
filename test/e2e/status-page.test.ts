/**
 * The status page of a real `fieldhook start` (real InfluxDB, embedded broker, predictor and
 * dispatcher), in headless Chromium: log in with the admin token through the form, see the fields
 * with their advice, water balance and chart, the fleet with its silent device, the subscriptions
 * and the pipeline, with no console error and no failed request; and on a phone's width too. Also
 * the login's refusals, the cookie's attributes, logout, and the JSON API's 401. Then the demo farm
 * (services/demo) on the page: its picture is taken every run, and saved over
 * docs/images/status-page.png (the README shows it) only when FIELDHOOK_UPDATE_SCREENSHOT=1, so a
 * test run never changes the repository.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM_PATH } from '../../infra/harness/chromium.js';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDispatcher } from '../../services/dispatcher/build-dispatcher.js';
import { createDispatchConfig } from '../../services/dispatcher/config.js';
import { PIPELINE_CONFIG } from '../../services/host/config.js';
import { startFieldhook, type RunningFieldhook } from '../../services/host/fieldhook.js';
import { buildHostApp } from '../../services/host/http-app.js';
import { createSqliteFieldProfiles, openPredictorDb } from '../../services/predictor/sqlite-predictor-store.js';
import { createSqliteDeviceRepository } from '../../services/registry/sqlite-devices.js';
import { buildStatusPage } from '../../services/status/build-status-page.js';
import { loadConfig } from '../../services/shared/config.js';
import { silentLogger } from '../../services/shared/logger.js';
import { eventually } from '../helpers/eventually.js';
import { startReceiver, type Receiver } from '../integration/dispatcher/helpers.js';
import { DEMO_FARM } from '../../services/demo/farm.js';
import { seedDemoFarm, type SeededFarm } from '../../services/demo/seed.js';
import { testInflux, type TestInflux } from '../helpers/test-influx.js';

const influx = testInflux();

const HOUR = 3_600_000;
const ADMIN_TOKEN = 'status-page-admin-token-0123';
const FARM = 'hillside';
const SCREENSHOT =
  process.env.FIELDHOOK_UPDATE_SCREENSHOT === '1'
    ? join(dirname(fileURLToPath(import.meta.url)), '../../docs/images/status-page.png')
    : join(mkdtempSync(join(tmpdir(), 'fh-status-shot-')), 'status-page.png');
const CHROMIUM = { executablePath: CHROMIUM_PATH, args: ['--no-sandbox', '--disable-background-networking'] };

interface Snapshot {
  fields: { farm: string; field: string; configured: boolean; advice: { valid_until: string } | null; water: { depletion_mm: number; raw_mm: number; taw_mm: number } | null; history: { soil_moisture: (number | null)[] } }[];
  fleet: { devices: { id: string; silent: boolean; battery_v: number | null; rssi_dbm: number | null; last_seen: string | null }[] };
  subscriptions: { health: string; last_delivery: { status: string } | null }[];
  pipeline: { spool: { consumers: { name: string }[] } | null; influxdb_writer: { healthy: boolean; last_write_at: string | null } | null; predictor: { model: { sha256: string } | null } };
  problems: unknown[];
}

/**
 * Three days of hourly readings, ending this hour: `north` (tomato on loam) dries far past RAW and
 * gets advice, `south` (maize on sandy loam) had rain and stays wet, `east` reports but has no
 * field profile; `old-logger` on south stopped 10 hours ago, `spare-node` never sent anything.
 */
function history(hourNow: number): string[] {
  const lines: string[] = [];
  const weather = (ts: number) => {
    const h = new Date(ts).getUTCHours();
    const day = h >= 6 && h <= 18;
    return `air_temperature=${day ? 27 : 16},relative_humidity=${day ? 45 : 70},wind_speed=2.2,solar_radiation=${day ? 520 : 0}`;
  };
  for (let i = 75; i >= 0; i--) {
    const ts = hourNow - i * HOUR;
    const f = (75 - i) / 75;
    const north = 0.205 - 0.055 * f;
    const rain = i >= 40 && i < 44 ? 3 : 0;
    const south = (i >= 44 ? 0.2 : 0.228) - 0.01 * (i < 44 ? (44 - i) / 44 : (75 - i) / 32);
    lines.push(`reading,device=north-1,farm=${FARM},field=north soil_moisture=${north.toFixed(4)},${weather(ts)},battery_voltage=${(3.62 - 0.1 * f).toFixed(3)},rssi=-97 ${ts}`);
    lines.push(`reading,device=south-1,farm=${FARM},field=south soil_moisture=${south.toFixed(4)},rainfall=${rain},${weather(ts)},battery_voltage=3.55,rssi=-108 ${ts}`);
    lines.push(`reading,device=east-1,farm=${FARM},field=east soil_moisture=0.27,battery_voltage=3.31,rssi=-115 ${ts}`);
    if (i >= 10) lines.push(`reading,device=old-logger,farm=${FARM},field=south soil_temperature=18.5,battery_voltage=2.95 ${ts}`);
  }
  return lines;
}

/** The settings of a `fieldhook start` on loopback with free ports, InfluxDB of the test harness. */
function pipelineConfig(dir: string, influx: TestInflux, database: string, extra: Record<string, string> = {}) {
  const env = {
    DATA_DIR: dir, HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', MQTT_LISTEN_HOST: '127.0.0.1', MQTT_LISTEN_PORT: '0', MQTT_TLS_PORT: '0',
    ...influx.settings(database), ADMIN_TOKEN, WEBHOOK_ALLOW_CIDRS: '{"*":["127.0.0.1/32"]}', LOG_LEVEL: 'silent', ...extra,
  };
  return loadConfig(PIPELINE_CONFIG, Object.fromEntries(Object.entries(env).map(([k, v]) => [`FIELDHOOK_${k}`, v])));
}

async function snapshotOf(baseUrl: string): Promise<Snapshot> {
  const res = await fetch(`${baseUrl}/ui/api/status`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as Snapshot;
}

/** A page that records console errors, failed requests and error responses. */
async function watch(browser: Browser, viewport: { width: number; height: number }, isMobile = false) {
  const context = await browser.newContext({ viewport, isMobile, hasTouch: isMobile, deviceScaleFactor: isMobile ? 2 : 1 });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => (m.type() === 'error' ? errors.push(`console: ${m.text()}`) : undefined));
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => errors.push(`failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => (r.status() >= 400 ? errors.push(`${r.status()}: ${r.url()}`) : undefined));
  return { page, errors, close: () => context.close() };
}

/** Open `/`, which leads to the login form, and log in with `token`. */
async function logInAt(page: Page, baseUrl: string, token: string): Promise<void> {
  await page.goto(`${baseUrl}/`);
  await page.waitForURL('**/ui/login');
  await page.fill('#token', token);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
}

describe(`the status page of a running fieldhook, in headless Chromium (InfluxDB ${influx.kind})`, () => {
  const database = `status_page_${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'fh-status-page-'));
  const hourNow = Math.floor(Date.now() / HOUR) * HOUR;
  let receiver: Receiver;
  let pipeline: RunningFieldhook | undefined;
  let browser: Browser | undefined;
  const secrets = new Map<string, string>();

  beforeAll(async () => {
    await influx.createDatabase(database);
    receiver = await startReceiver();
    const devices = createSqliteDeviceRepository(join(dir, 'registry.db'));
    for (const [id, field] of [['north-1', 'north'], ['south-1', 'south'], ['east-1', 'east'], ['old-logger', 'south'], ['spare-node', 'north']] as const) {
      secrets.set(id, (await devices.add({ id, farm: FARM, field, kind: 'device' })).secret);
    }
    devices.close();
    const db = openPredictorDb(join(dir, 'predictor.db'));
    const profiles = createSqliteFieldProfiles(db);
    const sown = new Date(hourNow - 60 * 24 * HOUR).toISOString().slice(0, 10);
    const site = { efficiency: 0.85, latitudeDeg: 44.2, longitudeDeg: 0.6, elevationM: 60 };
    await profiles.add({ farm: FARM, field: 'north', crop: 'tomato', soil: 'loam', sowingDate: sown, ...site });
    await profiles.add({ farm: FARM, field: 'south', crop: 'maize-field', soil: 'sandy-loam', sowingDate: sown, ...site });
    // Harvested yesterday: off season, no advice.
    await profiles.add({ farm: FARM, field: 'west', crop: 'potato', soil: 'loam', sowingDate: sown, harvestedOn: new Date(hourNow - 24 * HOUR).toISOString().slice(0, 10), ...site });
    db.close();
    // Subscribed before the pipeline starts: its first round already advises on north.
    const dispatcher = buildDispatcher({
      config: createDispatchConfig({ ADMIN_TOKEN, DISPATCH_DB_PATH: join(dir, 'dispatch.sqlite'), WEBHOOK_ALLOW_CIDRS: { '*': ['127.0.0.1/32'] } }),
      logger: silentLogger(),
    });
    const app = buildHostApp([dispatcher], { logger: silentLogger() });
    const subscribe = (payload: Record<string, unknown>) =>
      app.inject({ method: 'POST', url: '/v1/subscriptions', headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, payload });
    expect((await subscribe({ url: receiver.url, events: ['irrigation.*', 'sensor.stale'], farms: [FARM], description: 'farm office' })).statusCode).toBe(201);
    expect((await subscribe({ url: 'http://127.0.0.1:9/paused', events: ['irrigation.recommended'], enabled: false, description: 'agronomist (paused)' })).statusCode).toBe(201);
    // A second healthy one: each row has its own health badge.
    expect((await subscribe({ url: receiver.url, events: ['sensor.stale'], farms: [FARM], description: 'second office' })).statusCode).toBe(201);
    await dispatcher.stop();
    const write = await fetch(`${influx.url}/write?db=${database}&precision=ms`, { method: 'POST', headers: influx.headers, body: history(hourNow).join('\n') });
    expect(write.status).toBe(204);

    pipeline = await startFieldhook(pipelineConfig(dir, influx, database), silentLogger(), { handleSignals: false });
    // This hour's reading of east-1 arrives over HTTP: through the spool and the InfluxDB writer.
    const post = await fetch(`${pipeline.url}/v1/readings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secrets.get('east-1')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ device: 'east-1', id: 'now', ts: new Date().toISOString(), values: { soil_moisture: 0.268, battery_voltage: 3.3, rssi: -112 } }),
    });
    expect(post.status).toBe(202);
    // The advice is delivered, and its evaluation is in InfluxDB for the water balance.
    await eventually(() => receiver.received.length >= 1, { timeoutMs: 20_000, what: 'the advice delivered' });
    await eventually(async () => (await snapshot()).fields.find((f) => f.field === 'north')?.water, { timeoutMs: 20_000, what: 'north water balance' });
    await eventually(async () => (await snapshot()).fleet.devices.find((d) => d.id === 'east-1')?.rssi_dbm === -112, { what: "east-1's reading in InfluxDB" });
    browser = await chromium.launch(CHROMIUM);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await pipeline?.stop();
    await receiver?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const snapshot = () => snapshotOf(pipeline!.url);
  const watchedPage = (viewport: { width: number; height: number }, isMobile = false) => watch(browser!, viewport, isMobile);
  const logIn = (page: Page, token: string) => logInAt(page, pipeline!.url, token);

  it('sends / to the login form, and after logging in shows the fields, their advice, the fleet, the subscriptions and the pipeline, refreshing itself', async () => {
    const { page, errors, close } = await watchedPage({ width: 1280, height: 900 });
    try {
      // The page's timers run on a clock the test moves: its refresh is checked without waiting for it.
      await page.clock.install();
      await logIn(page, ADMIN_TOKEN);
      expect(new URL(page.url()).pathname).toBe('/ui/');
      const north = page.locator('[data-field="hillside/north"]');
      await north.locator('.advice.active').waitFor();
      expect(await north.locator('.advice.active').textContent()).toMatch(/Irrigate · advised .+, start by .+, valid until .+/);
      const water = (await snapshot()).fields.find((f) => f.field === 'north')!.water!;
      expect(water.depletion_mm).toBeGreaterThan(water.raw_mm);
      const mm = (x: number) => x.toFixed(0);
      expect(await north.locator('.water-text').textContent()).toContain(`Depletion ${mm(water.depletion_mm)} mm · RAW ${mm(water.raw_mm)} · TAW ${mm(water.taw_mm)} mm · past RAW`);
      expect(await north.locator('svg.bar .bar-fill.over').count()).toBe(1);
      // The chart: the soil-moisture line, and the reference lines of the field's soil.
      expect(await north.locator('svg.chart path.moisture').count()).toBe(1);
      expect(await north.locator('svg.chart line.ref').count()).toBe(3);
      const south = page.locator('[data-field="hillside/south"]');
      expect(await south.locator('.advice.none').textContent()).toBe('No irrigation advice');
      expect(await south.locator('svg.chart rect.rain').count()).toBe(4);
      expect(await page.locator('[data-field="hillside/east"]').textContent()).toMatch(/no field profile/);
      const west = page.locator('[data-field="hillside/west"]');
      expect(await west.locator('.badge').allTextContents()).toEqual(['potato', 'off season']);
      expect(await west.locator('.advice.none').textContent()).toMatch(/^No advice off season: harvested \d{4}-\d\d-\d\d$/);

      const fleet = page.locator('#fleet');
      for (const id of ['north-1', 'south-1', 'east-1', 'old-logger', 'spare-node']) expect(await fleet.textContent()).toContain(id);
      const row = (id: string) => fleet.locator('tr', { hasText: id });
      expect(await row('old-logger').locator('.badge').textContent()).toBe('silent');
      expect(await row('spare-node').textContent()).toMatch(/never.*silent/);
      expect(await row('north-1').locator('.badge').textContent()).toBe('reporting');
      expect(await row('north-1').textContent()).toMatch(/3\.52 V.*-97 dBm/);
      expect(await row('east-1').textContent()).toMatch(/just now.*3\.30 V.*-112 dBm/);

      const subs = page.locator('#subscriptions');
      expect(await subs.locator('tr', { hasText: 'farm office' }).textContent()).toMatch(/healthy.*irrigation\.recommended · succeeded \(204\)/);
      expect(await subs.locator('tr', { hasText: 'agronomist (paused)' }).textContent()).toMatch(/irrigation\.recommended\s*disabled\s*1 \(oldest [^)]+\)\s*none yet/);
      expect(await subs.locator('tr', { hasText: 'second office' }).locator('.badge').allTextContents()).toEqual(['healthy']);

      const pipelineText = await page.locator('#pipeline').textContent();
      expect(pipelineText).toMatch(/InfluxDB writer\s*writing last write (just now|\d+ min ago)/);
      expect(pipelineText).toMatch(/Model\s*fieldhook-irrigation/);
      expect(pipelineText).toMatch(/influx.*bus|bus.*influx/);
      expect(await page.locator('#banner').isHidden()).toBe(true);

      // It refreshes itself: a new reading shows after the next poll, without a reload.
      const post = await fetch(`${pipeline!.url}/v1/readings`, {
        method: 'POST',
        headers: { authorization: `Bearer ${secrets.get('east-1')}`, 'content-type': 'application/json' },
        body: JSON.stringify({ device: 'east-1', id: 'later', ts: new Date().toISOString(), values: { soil_moisture: 0.266, rssi: -101 } }),
      });
      expect(post.status).toBe(202);
      await eventually(async () => (await snapshot()).fleet.devices.find((d) => d.id === 'east-1')?.rssi_dbm === -101, { what: 'the new reading in InfluxDB' });
      await page.clock.runFor(16_000);
      await row('east-1').filter({ hasText: '-101 dBm' }).waitFor();
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  }, 60_000);

  it('reads on a phone: nothing wider than the screen, tables as labelled rows', async () => {
    const { page, errors, close } = await watchedPage({ width: 390, height: 844 }, true);
    try {
      await logIn(page, ADMIN_TOKEN);
      await page.locator('[data-field="hillside/north"] .advice.active').waitFor();
      // A string, so that it runs in the page (the test's own types know no DOM).
      const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
      expect(overflow).toBeLessThanOrEqual(0);
      expect(await page.locator('#fleet thead').isHidden()).toBe(true);
      expect(await page.locator('#fleet td[data-label="Last seen"]').first().isVisible()).toBe(true);
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  }, 60_000);

  it('refuses a wrong token with a clear message and no session; logout ends the session', async () => {
    const { page, close } = await watchedPage({ width: 800, height: 700 });
    try {
      await logIn(page, 'not-the-admin-token');
      expect(new URL(page.url()).pathname).toBe('/ui/login');
      expect(await page.locator('#notice').textContent()).toBe('That is not the admin token. Check it and try again.');
      expect(await page.locator('#notice').getAttribute('data-code')).toBe('FH_ERR_STATUS_LOGIN_REFUSED');
      expect(await page.context().cookies()).toEqual([]);

      await page.fill('#token', ADMIN_TOKEN);
      await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
      await page.locator('#fields .card').first().waitFor();
      const [cookie] = await page.context().cookies();
      expect(cookie).toMatchObject({ name: 'fieldhook_session', path: '/ui', httpOnly: true, sameSite: 'Strict', secure: false });
      expect(cookie!.expires * 1000 - Date.now()).toBeGreaterThan(11 * HOUR);

      await Promise.all([page.waitForNavigation(), page.click('text=Log out')]);
      expect(new URL(page.url()).pathname).toBe('/ui/login');
      expect(await page.locator('#notice').textContent()).toBe('You are logged out.');
      // The old cookie names no session any more.
      const res = await fetch(`${pipeline!.url}/ui/api/status`, { headers: { cookie: `fieldhook_session=${cookie!.value}` } });
      expect(res.status).toBe(401);
    } finally {
      await close();
    }
  }, 60_000);

  it('answers the JSON API only to a session or the admin token, with a problem otherwise', async () => {
    const url = `${pipeline!.url}/ui/api/status`;
    const attempts: Record<string, string>[] = [{}, { authorization: 'Bearer wrong-token-wrong-token' }, { cookie: 'fieldhook_session=forged' }];
    for (const headers of attempts) {
      const res = await fetch(url, { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await res.json()).toMatchObject({ status: 401, code: 'FH_ERR_STATUS_LOGIN_REQUIRED' });
    }
    const s = await snapshot();
    expect(s.problems).toEqual([]);
    expect(s.fields.map((f) => `${f.field}:${f.configured}`)).toEqual(['north:true', 'south:true', 'west:true', 'east:false']);
    expect(s.fields.find((f) => f.field === 'north')!.history.soil_moisture.filter((v) => v !== null).length).toBeGreaterThanOrEqual(72);
    expect(s.fleet.devices.filter((d) => d.silent).map((d) => d.id).sort()).toEqual(['old-logger', 'spare-node']);
    expect(s.pipeline.predictor.model?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(s.pipeline.spool?.consumers.map((c) => c.name).sort()).toEqual(['bus', 'influx']);
  });

  it('refuses login forms from another origin or without one, and a login with no token configured', async () => {
    const form = (headers: Record<string, string>) =>
      fetch(`${pipeline!.url}/ui/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: `token=${ADMIN_TOKEN}` });
    const foreign: Record<string, string>[] = [{ origin: 'https://evil.example' }, {}, { referer: 'https://evil.example/ui/login' }];
    for (const headers of foreign) {
      const res = await form(headers);
      expect(res.status).toBe(403);
      expect(res.headers.get('set-cookie')).toBeNull();
      expect(await res.json()).toMatchObject({ code: 'FH_ERR_STATUS_CROSS_ORIGIN' });
    }
    const ok = await form({ origin: pipeline!.url });
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe('/ui/');

    // Without an admin token nobody logs in, and the page says why; over TLS the cookie is Secure.
    const locked = buildHostApp([buildStatusPage({ adminToken: undefined, tls: false, influx: influx.target(database, 2_000), sources: noSources })], { logger: silentLogger() });
    const page = await locked.inject({ method: 'GET', url: '/ui/login' });
    expect(page.body).toContain('No admin token is configured');
    const refused = await locked.inject({ method: 'POST', url: '/ui/login', headers: { origin: 'http://localhost:80', host: 'localhost:80', 'content-type': 'application/x-www-form-urlencoded' }, payload: 'token=anything-at-all' });
    expect(refused.statusCode).toBe(401);
    expect(refused.body).toContain('data-code="FH_ERR_STATUS_LOGIN_REFUSED"');
    const secure = buildHostApp([buildStatusPage({ adminToken: ADMIN_TOKEN, tls: true, influx: influx.target(database, 2_000), sources: noSources })], { logger: silentLogger() });
    const login = await secure.inject({
      method: 'POST', url: '/ui/login', headers: { host: 'farm.example', origin: 'https://farm.example', 'content-type': 'application/x-www-form-urlencoded' }, payload: `token=${ADMIN_TOKEN}`,
    });
    expect(login.statusCode).toBe(303);
    expect(login.headers['set-cookie']).toMatch(/^fieldhook_session=[A-Za-z0-9_-]{43}; Path=\/ui; Max-Age=43200; HttpOnly; SameSite=Strict; Secure$/);
  });
});

describe("the demo farm on the status page (the README's picture)", () => {
  const database = `status_page_demo_${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'fh-status-demo-'));
  let receiver: Receiver;
  let pipeline: RunningFieldhook | undefined;
  let farm: SeededFarm | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    await influx.createDatabase(database);
    // New fields are picked up at the next scheduled round: a short one keeps the test short.
    pipeline = await startFieldhook(pipelineConfig(dir, influx, database, { PREDICT_INTERVAL_MS: '1000' }), silentLogger(), { handleSignals: false });
    receiver = await startReceiver();
    const res = await fetch(`${pipeline.url}/v1/subscriptions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: receiver.url, events: ['irrigation.*'], farms: [DEMO_FARM], description: 'farm office' }),
    });
    expect(res.status).toBe(201);
    farm = await seedDemoFarm({ dataDir: dir, httpUrl: pipeline.url });
    // Every field evaluated (a water balance each), and the thirsty ones' advice delivered.
    await eventually(
      async () => {
        const s = await snapshotOf(pipeline!.url);
        return s.fields.every((f) => f.water) && s.fields.some((f) => f.advice) && s.subscriptions[0]?.last_delivery?.status === 'succeeded';
      },
      { timeoutMs: 90_000, what: 'every demo field evaluated and an advice delivered' },
    );
    browser = await chromium.launch(CHROMIUM);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await farm?.fleet.stop();
    await pipeline?.stop();
    await receiver?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("shows every demo field with its crop, water balance and chart, every device, and the advice; saves the picture", async () => {
    const { page, errors, close } = await watch(browser!, { width: 1280, height: 900 });
    try {
      await logInAt(page, pipeline!.url, ADMIN_TOKEN);
      await page.locator('#fields .card').first().waitFor();
      const s = await snapshotOf(pipeline!.url);
      for (const f of farm!.fields) {
        const card = page.locator(`[data-field="${DEMO_FARM}/${f.field}"]`);
        expect(await card.locator('.badge.crop').textContent()).toBe(f.spec.crop);
        expect(await card.locator('svg.bar').count()).toBe(1);
        expect(await card.locator('svg.chart path.moisture').count()).toBe(1);
        expect(await page.locator('#fleet tr', { hasText: f.device }).locator('.badge').textContent()).toBe('reporting');
      }
      const advised = s.fields.filter((f) => f.advice).map((f) => f.field);
      for (const field of advised) expect(await page.locator(`[data-field="${DEMO_FARM}/${field}"] .advice.active`).count()).toBe(1);
      expect(await page.locator('.advice.active').count()).toBe(advised.length);
      expect(await page.locator('#subscriptions').textContent()).toMatch(/farm office.*healthy.*succeeded \(204\)/);

      mkdirSync(dirname(SCREENSHOT), { recursive: true });
      const picture = await page.screenshot({ path: SCREENSHOT, fullPage: true });
      expect(picture.subarray(1, 4).toString()).toBe('PNG');
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  }, 60_000);
});

describe(`the status page login, throttled (InfluxDB ${influx.kind})`, () => {
  it('refuses an address that sent too many wrong tokens, with 429 and Retry-After, even the right one then', async () => {
    const app = buildHostApp(
      [buildStatusPage({ adminToken: ADMIN_TOKEN, tls: false, influx: { url: 'http://127.0.0.1:9', token: '', bucket: 'none', timeoutMs: 500 }, sources: noSources, loginThrottle: { maxFailures: 2 } })],
      { logger: silentLogger() },
    );
    const login = (token: string) =>
      app.inject({ method: 'POST', url: '/ui/login', headers: { host: 'farm.example', origin: 'http://farm.example', 'content-type': 'application/x-www-form-urlencoded' }, payload: `token=${token}` });
    expect((await login('wrong-one-wrong-one')).statusCode).toBe(401);
    expect((await login('wrong-two-wrong-two')).statusCode).toBe(401);
    const held = await login(ADMIN_TOKEN);
    expect(held.statusCode).toBe(429);
    expect(Number(held.headers['retry-after'])).toBeGreaterThan(0);
    expect(held.headers['set-cookie']).toBeUndefined();
    expect(held.body).toContain('data-code="FH_ERR_STATUS_LOGIN_THROTTLED"');
  });
});

describe(`the status snapshot, read by several viewers at once (InfluxDB ${influx.kind})`, () => {
  it('is read once for the requests that arrive while it is being read, and afresh after', async () => {
    let reads = 0;
    const page = buildStatusPage({
      adminToken: ADMIN_TOKEN,
      tls: false,
      influx: { url: 'http://127.0.0.1:9', token: '', bucket: 'none', timeoutMs: 500 },
      sources: { ...noSources, devices: { list: async () => (reads++, []) } },
    });
    const [a, b, c] = await Promise.all([page.snapshot(), page.snapshot(), page.snapshot()]);
    expect(reads).toBe(1);
    expect(b).toBe(a);
    expect(c).toBe(a);
    // InfluxDB is not there: its sections are named, the rest is served.
    expect(a.problems.map((p) => p.section)).toEqual(['fleet', 'fields', 'fields']);
    await page.snapshot();
    expect(reads).toBe(2);
  });
});

/** Parts with nothing to report, for the app-only checks. */
const noSources = {
  devices: { list: async () => [] },
  ingestor: { status: async () => ({ spool: { pendingBytes: 0, consumers: {}, deadLetters: 0 }, writer: { healthy: true, lastSuccessAt: null } }) },
  dispatcher: { store: { subscriptions: { list: async () => [] }, outbox: { backlog: async () => [], lastAttempted: async () => [] } } },
};
