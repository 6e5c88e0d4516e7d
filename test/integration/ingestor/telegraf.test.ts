/**
 * A real Telegraf writing into fieldhook where InfluxDB would be, through each of its InfluxDB
 * outputs: every point it is given is stored once in the real InfluxDB, with its value, and a
 * fieldhook killed (SIGKILL) and restarted on the same data folder and port mid-run loses none:
 * what fieldhook acknowledged is in its spool, what it did not Telegraf keeps and sends again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, startProcess, type ManagedProcess } from '../../../infra/harness/process.js';
import { startTelegrafRelay } from '../../../infra/harness/telegraf-line-protocol.js';
import { createSqliteDeviceRepository } from '../../../services/registry/sqlite-devices.js';
import { countPoints } from '../../helpers/ingest-fixture.js';
import { eventually } from '../../helpers/eventually.js';
import { testInflux } from '../../helpers/test-influx.js';

const influx = testInflux();

const POINTS = 300;
const PER_POST = 10;

/** Point i: a known soil moisture and battery voltage, one second apart, an hour ago. */
const base = Math.floor((Date.now() - 3_600_000) / 1000) * 1000;
const moistureOf = (i: number) => Math.round((0.2 + i / 10_000) * 10_000) / 10_000;
const lineOf = (i: number) => `reading,device=tg-1 soil_moisture=${moistureOf(i)},battery_voltage=3.7 ${BigInt(base + i * 1000) * 1_000_000n}`;
/** Weather points as Telegraf's openweathermap input names them, read through the default profile; after the readings. */
const WEATHER = 20;
const weatherTs = (i: number) => base + (POINTS + i) * 1000;
const weatherLineOf = (i: number) =>
  `weather,device=tg-1,city_id=2643743 temperature=${20 + i / 10},humidity=${60 + i}i,pressure=1013.2,wind_speed=3.5,cloudiness=75i ${BigInt(weatherTs(i)) * 1_000_000n}`;

/** Every stored value of one quantity of the device, by epoch ms. */
async function stored(database: string, quantity: string): Promise<Map<number, number>> {
  const params = new URLSearchParams({ q: `SELECT "${quantity}" FROM "reading" WHERE "device" = 'tg-1'`, db: database, epoch: 'ms' });
  const body = (await (await fetch(`${influx.url}/query?${params}`, { headers: influx.headers })).json()) as { results: { series?: { values: [number, number][] }[] }[] };
  return new Map((body.results[0]?.series?.[0]?.values ?? []).map(([ts, v]) => [ts, v]));
}

for (const output of ['influxdb_v2', 'influxdb'] as const) {
  describe(`Telegraf outputs.${output} into fieldhook (${output === 'influxdb_v2' ? '/api/v2/write, Token' : '/write, username/password'}; InfluxDB ${influx.kind})`, () => {
    it('every point is stored once with its value, Telegraf weather names included, across a SIGKILL and restart of fieldhook mid-run', async () => {
      const database = `telegraf_${output}_${process.pid}`;
      await influx.createDatabase(database);
      const root = mkdtempSync(join(tmpdir(), `fh-telegraf-${output}-`));
      const dataDir = join(root, 'data');
      const devices = createSqliteDeviceRepository(join(dataDir, 'registry.db'));
      const { secret } = await devices.add({ id: 'tg-1', farm: 'farm-t', field: 'f', kind: 'device' });
      devices.close();

      const port = await freePort();
      const fieldhookUrl = `http://127.0.0.1:${port}`;
      const env = {
        ...process.env,
        FIELDHOOK_DATA_DIR: dataDir,
        FIELDHOOK_HTTP_HOST: '127.0.0.1',
        FIELDHOOK_HTTP_PORT: String(port),
        FIELDHOOK_MQTT_LISTEN_HOST: '127.0.0.1',
        FIELDHOOK_MQTT_LISTEN_PORT: String(await freePort()),
        FIELDHOOK_MQTT_TLS_PORT: '0',
        ...influx.env(database),
        FIELDHOOK_INGEST_RATE_LIMIT_PER_MINUTE: '0',
        FIELDHOOK_PREDICT_ENABLED: 'false',
        FIELDHOOK_LOG_LEVEL: 'warn',
      };
      const start = (): ManagedProcess => startProcess(process.execPath, ['--import', 'tsx', 'services/cli/main.ts', 'start'], env);
      const up = () => eventually(async () => (await fetch(`${fieldhookUrl}/healthz`)).ok, { timeoutMs: 30_000, what: 'fieldhook to answer /healthz' });

      let fieldhook = start();
      const telegraf = await startTelegrafRelay({ dir: join(root, 'telegraf'), output, fieldhookUrl, secret, batchSize: 25 });
      const post = async (from: number) => {
        const body = Array.from({ length: PER_POST }, (_, k) => lineOf(from + k)).join('\n');
        const res = await fetch(telegraf.inputUrl, { method: 'POST', body });
        expect(res.status).toBe(204);
      };
      try {
        await up();
        // First half (and the weather points, as Telegraf's openweathermap input names them), then a kill.
        for (let i = 0; i < POINTS / 2; i += PER_POST) await post(i);
        const weather = await fetch(telegraf.inputUrl, { method: 'POST', body: Array.from({ length: WEATHER }, (_, i) => weatherLineOf(i)).join('\n') });
        expect(weather.status).toBe(204);
        await eventually(async () => (await countPoints(database)) >= 30, { timeoutMs: 30_000, what: 'the first points stored' });
        await fieldhook.stop('SIGKILL');
        // The second half reaches Telegraf while fieldhook is down: it keeps them and retries.
        for (let i = POINTS / 2; i < POINTS; i += PER_POST) await post(i);
        fieldhook = start();
        await up();

        await eventually(async () => (await countPoints(database)) === POINTS, { timeoutMs: 45_000, what: `${POINTS} points in InfluxDB` });
        const moisture = await stored(database, 'soil_moisture');
        expect(moisture.size).toBe(POINTS);
        for (let i = 0; i < POINTS; i++) expect(moisture.get(base + i * 1000), `point ${i}`).toBe(moistureOf(i));
        // Telegraf's own names, unchanged, through the default profile: temperature and humidity; pressure and cloudiness ignored.
        await eventually(async () => (await stored(database, 'air_temperature')).size === WEATHER, { what: `${WEATHER} weather points` });
        const [temperature, humidity, wind] = await Promise.all([stored(database, 'air_temperature'), stored(database, 'relative_humidity'), stored(database, 'wind_speed')]);
        for (let i = 0; i < WEATHER; i++) {
          expect(temperature.get(weatherTs(i)), `weather ${i}`).toBeCloseTo(20 + i / 10, 9);
          expect(humidity.get(weatherTs(i)), `weather ${i}`).toBe(60 + i);
          expect(wind.get(weatherTs(i)), `weather ${i}`).toBe(3.5);
        }
        // Once fieldhook's spool has nothing left for InfluxDB, nothing more can arrive: still exactly POINTS.
        const influxBacklog = /^fieldhook_spool_depth_readings\{consumer="influx"\} (\d+)$/m;
        await eventually(async () => influxBacklog.exec(await (await fetch(`${fieldhookUrl}/metrics`)).text())?.[1] === '0', { what: 'the spool drained' });
        expect(await countPoints(database)).toBe(POINTS);
      } finally {
        await telegraf.stop();
        await fieldhook.stop();
        rmSync(root, { recursive: true, force: true });
      }
    }, 150_000);
  });
}
