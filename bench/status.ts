/**
 * What one status page snapshot costs against a real InfluxDB 1.8: a fleet of DEVICES on FIELDS
 * fields with 74 hours of hourly readings, the snapshot read with its hourly history (first read,
 * or once a minute) and with the history reused (every other poll), next to a baseline measured in
 * the same run: one `last()` per device, the least any "last seen" view asks.
 *
 *   npx tsx bench/status.ts [devices=200] [fields=50]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startInfluxDB } from '../infra/harness/influxdb.js';
import { createSqliteDeviceRepository } from '../services/registry/sqlite-devices.js';
import { queryInfluxQl } from '../services/shared/influxql.js';
import { buildStatusPage } from '../services/status/build-status-page.js';

const HOUR_MS = 3_600_000;
const DEVICES = Number(process.argv[2] ?? 200);
const FIELDS = Number(process.argv[3] ?? 50);
const RUNS = 15;

async function median(f: () => Promise<unknown>): Promise<number> {
  await f();
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    await f();
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b)[Math.floor(RUNS / 2)]!;
}

const dir = mkdtempSync(join(tmpdir(), 'fh-bench-status-'));
const influx = await startInfluxDB({ dataDir: join(dir, 'influxdb') });
try {
  await fetch(`${influx.url}/query`, { method: 'POST', body: new URLSearchParams({ q: 'CREATE DATABASE bench' }) });
  const devices = createSqliteDeviceRepository(join(dir, 'registry.db'));
  const now = Date.now();
  const lines: string[] = [];
  for (let d = 0; d < DEVICES; d++) {
    const field = `field-${d % FIELDS}`;
    await devices.add({ id: `node-${d}`, farm: 'bench', field, kind: 'device' });
    for (let h = 74; h >= 0; h--) {
      lines.push(`reading,device=node-${d},farm=bench,field=${field} soil_moisture=0.2,rainfall=0.1,air_temperature=20,battery_voltage=3.6,rssi=-100 ${now - h * HOUR_MS}`);
    }
  }
  for (let i = 0; i < lines.length; i += 5_000) {
    const res = await fetch(`${influx.url}/write?db=bench&precision=ms`, { method: 'POST', body: lines.slice(i, i + 5_000).join('\n') });
    if (res.status !== 204) throw new Error(`write: ${res.status} ${await res.text()}`);
  }
  const target = { url: influx.url, token: '', bucket: 'bench', timeoutMs: 60_000 };
  const quiet = {
    ingestor: { status: async () => ({ spool: { pendingBytes: 0, consumers: {}, deadLetters: 0 }, writer: { healthy: true, lastSuccessAt: null } }) },
    dispatcher: { store: { subscriptions: { list: async () => [] }, outbox: { backlog: async () => [], lastAttempted: async () => [] } } },
  };
  const page = (historyMaxAgeMs: number) =>
    buildStatusPage({ adminToken: undefined, tls: false, influx: target, sources: { devices, ...quiet }, snapshot: { historyMaxAgeMs } });
  const withHistory = page(0);
  const reusing = page(60_000);
  const rows: [string, number][] = [
    ['baseline: one last() per device', await median(() => queryInfluxQl(target, `SELECT last("soil_moisture") FROM "reading" WHERE time > ${now - 74 * HOUR_MS}ms GROUP BY "device"`))],
    ['snapshot, history read', await median(() => withHistory.snapshot())],
    ['snapshot, history reused', await median(() => reusing.snapshot())],
  ];
  const bytes = JSON.stringify(await reusing.snapshot()).length;
  console.log(`status snapshot: ${DEVICES} devices on ${FIELDS} fields, ${lines.length} points over 74 h; median of ${RUNS}; snapshot ${Math.round(bytes / 1024)} KiB of JSON`);
  console.log('| read | ms |\n|---|---|');
  for (const [name, ms] of rows) console.log(`| ${name} | ${ms.toFixed(1)} |`);
  devices.close();
} finally {
  await influx.stop();
  rmSync(dir, { recursive: true, force: true });
}
