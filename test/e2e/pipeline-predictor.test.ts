/**
 * `fieldhook start` as a whole: a reading POSTed over HTTP goes through the spool, the embedded
 * broker and the predictor, and comes out as a signed webhook (verified with `standardwebhooks`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDispatcher } from '../../services/dispatcher/build-dispatcher.js';
import { createDispatchConfig } from '../../services/dispatcher/config.js';
import { PIPELINE_CONFIG } from '../../services/host/config.js';
import { startFieldhook, type RunningFieldhook } from '../../services/host/fieldhook.js';
import { buildHostApp } from '../../services/host/http-app.js';
import { createSqliteFieldProfiles, openPredictorDb } from '../../services/predictor/sqlite-predictor-store.js';
import { createSqliteDeviceRepository } from '../../services/registry/sqlite-devices.js';
import { loadConfig } from '../../services/shared/config.js';
import { silentLogger } from '../../services/shared/logger.js';
import { startReceiver, verify, type Receiver } from '../integration/dispatcher/helpers.js';
import { eventually } from '../helpers/eventually.js';
import { testInflux } from '../helpers/test-influx.js';

const influx = testInflux();

const HOUR = 3_600_000;
const ADMIN_TOKEN = 'pipeline-e2e-admin-token-0123';
const FARM = `pipe-${process.pid}`;

describe(`fieldhook start: HTTP reading to signed irrigation webhook (InfluxDB ${influx.kind})`, () => {
  const database = `predict_pipeline_${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'fh-pipeline-e2e-'));
  let receiver: Receiver;
  let pipeline: RunningFieldhook | undefined;
  let secret: string;
  let deviceSecret: string;
  // A field far past RAW: loam (θFC 0.25) at θ 0.15 over 1 m of roots is 100 mm depleted, RAW 52 mm.
  const values = (hourTs: number) => ({
    soil_moisture: 0.15,
    air_temperature: 24,
    relative_humidity: 55,
    wind_speed: 2,
    solar_radiation: new Date(hourTs).getUTCHours() >= 6 && new Date(hourTs).getUTCHours() <= 17 ? 550 : 0,
  });
  const hourNow = Math.floor(Date.now() / HOUR) * HOUR;

  beforeAll(async () => {
    await influx.createDatabase(database);
    receiver = await startReceiver();
    const devices = createSqliteDeviceRepository(join(dir, 'registry.db'));
    deviceSecret = (await devices.add({ id: `node-${process.pid}`, farm: FARM, field: 'dry', kind: 'device' })).secret;
    devices.close();
    const db = openPredictorDb(join(dir, 'predictor.db'));
    // Roots fixed at the tomato's 1 m (rootDepthMinM): RAW and TAW below do not depend on the hour the test runs.
    await createSqliteFieldProfiles(db).add({
      farm: FARM, field: 'dry', crop: 'tomato', soil: 'loam', rootDepthMinM: 1, sowingDate: new Date(hourNow - 60 * 24 * HOUR).toISOString().slice(0, 10),
      efficiency: 0.8, latitudeDeg: 45, longitudeDeg: 0, elevationM: 50,
    });
    db.close();
    // Subscribe before the pipeline starts: its first round already publishes.
    const dispatcher = buildDispatcher({
      config: createDispatchConfig({ ADMIN_TOKEN, DISPATCH_DB_PATH: join(dir, 'dispatch.sqlite'), WEBHOOK_ALLOW_CIDRS: { '*': ['127.0.0.1/32'] } }),
      logger: silentLogger(),
    });
    const res = await buildHostApp([dispatcher], { logger: silentLogger() }).inject({
      method: 'POST', url: '/v1/subscriptions', headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      payload: { url: receiver.url, events: ['irrigation.*', 'sensor.stale'], farms: [FARM] },
    });
    expect(res.statusCode).toBe(201);
    secret = res.json<{ secret: string }>().secret;
    await dispatcher.stop();
    // Three days of history that ended 4 h ago: the sensor went quiet.
    const lines: string[] = [];
    for (let ts = hourNow - 80 * HOUR; ts <= hourNow - 4 * HOUR; ts += HOUR) {
      const fields = Object.entries(values(ts)).map(([k, v]) => `${k}=${v}`).join(',');
      lines.push(`reading,device=node-${process.pid},farm=${FARM},field=dry ${fields} ${ts}`);
    }
    const write = await fetch(`${influx.url}/write?db=${database}&precision=ms`, { method: 'POST', headers: influx.headers, body: lines.join('\n') });
    expect(write.status).toBe(204);
  });

  afterAll(async () => {
    await pipeline?.stop();
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports the silent field as stale, then advises once a fresh reading arrives over HTTP', async () => {
    const env = {
      DATA_DIR: dir, HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', MQTT_LISTEN_HOST: '127.0.0.1', MQTT_LISTEN_PORT: '0', MQTT_TLS_PORT: '0',
      ...influx.settings(database), ADMIN_TOKEN, WEBHOOK_ALLOW_CIDRS: '{"*":["127.0.0.1/32"]}', LOG_LEVEL: 'silent',
    };
    const config = loadConfig(PIPELINE_CONFIG, Object.fromEntries(Object.entries(env).map(([k, v]) => [`FIELDHOOK_${k}`, v])));
    pipeline = await startFieldhook(config, silentLogger(), { handleSignals: false });

    await eventually(() => receiver.received.length >= 1, { timeoutMs: 15_000, what: 'sensor.stale' });
    const stale = verify(secret, receiver.received[0]!);
    expect(stale).toMatchObject({ type: 'sensor.stale', data: { farm: FARM, field: 'dry', reason: expect.stringMatching(/older than/) } });
    // Since when it has been quiet: the newest reading of the history, 4 h ago.
    expect((stale as { data: { last_reading_at?: string } }).data.last_reading_at).toBe(new Date(hourNow - 4 * HOUR).toISOString());

    const post = await fetch(`${pipeline.url}/v1/readings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${deviceSecret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ device: `node-${process.pid}`, id: 'fresh-1', ts: new Date(hourNow).toISOString(), values: values(hourNow) }),
    });
    expect(post.status).toBe(202);

    await eventually(() => receiver.received.length >= 2, { timeoutMs: 15_000, what: 'irrigation.recommended' });
    const advice = verify(secret, receiver.received[1]!);
    expect(advice.type).toBe('irrigation.recommended');
    expect(advice.data).toMatchObject({ farm: FARM, field: 'dry', hours_to_raw: 0, raw_mm: 52, taw_mm: 130 });
    expect(advice.data.gross_depth_mm as number).toBeCloseTo((advice.data.net_depth_mm as number) / 0.8, 0);
    expect((advice.data.provenance as { correlation_ids: string[] }).correlation_ids.length).toBeGreaterThan(0);
    expect(receiver.received).toHaveLength(2);

    // One readiness answer for the whole process, every part's checks, the predictor's model included.
    const ready = (await (await fetch(`${pipeline.url}/readyz`)).json()) as { checks: { name: string; ok: boolean; detail?: { model?: { sha256: string } } }[] };
    expect(ready.checks.map((c) => c.name)).toEqual(expect.arrayContaining(['influxdb', 'spool', 'mqtt', 'irrigations', 'dispatcher', 'predictor']));
    expect(ready.checks.every((c) => c.ok)).toBe(true);
    expect(ready.checks.find((c) => c.name === 'predictor')?.detail?.model?.sha256).toMatch(/^[0-9a-f]{64}$/);
  }, 60_000);
});
