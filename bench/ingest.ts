/**
 * `npm run bench:ingest`: end-to-end ingest throughput and latency against a real InfluxDB 1.8,
 * next to that InfluxDB's own ceiling measured in the same run. Loopback only, bounded in count
 * and time. Prints a Markdown table.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { Pool } from 'undici';
import { startInfluxDB, type RunningInfluxDB } from '../infra/harness/influxdb.js';
import { startMosquitto } from '../infra/harness/mosquitto.js';
import { startTelegraf, TELEGRAF_VERSION } from '../infra/harness/telegraf.js';
import { freePort, startProcess, waitUntil, type ManagedProcess } from '../infra/harness/process.js';
import { readingToLine } from '../services/ingestor/line-protocol.js';
import { exportMosquitto } from '../services/registry/mosquitto-export.js';
import { createSqliteDeviceRepository } from '../services/registry/sqlite-devices.js';
import { deviceReadingsTopic } from '../services/shared/bus/topics.js';
import { rssMb } from './lib/process-stats.js';

const HTTP_READINGS = Number(process.env.BENCH_HTTP_READINGS ?? 200_000);
const MQTT_READINGS = Number(process.env.BENCH_MQTT_READINGS ?? 40_000);
const LATENCY_RATE = 500; // requests per second
const LATENCY_SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 10);
const DEVICES = 50;
const BATCH = 100;
const BASE_TS = Date.now() - 6 * 24 * 3_600_000;

interface Row {
  what: string;
  readings: number;
  seconds: number;
  note?: string;
  /** Peak resident memory of the ingestor process during this row. */
  peakRssMb?: number;
}
const rows: Row[] = [];

function values(i: number) {
  return { soil_moisture: 0.2 + (i % 100) / 1000, soil_temperature: 15 + (i % 10), battery_voltage: 3.7, rssi: -70 };
}

/** Reading number i of the run: device, id and time are unique per i. */
function reading(i: number) {
  return { device: `b-${i % DEVICES}`, id: `r-${i}`, ts: BASE_TS + i, values: values(i) };
}

/** Points counted by one field: fieldhook writes `rssi`, Telegraf's JSON parser `values_rssi`. */
async function count(influx: RunningInfluxDB, db: string, field = 'rssi'): Promise<number> {
  const body = (await influx.query(`SELECT count("${field}") FROM "reading"`, db)) as { results: { series?: { values: [number, number][] }[] }[] };
  return body.results[0]?.series?.[0]?.values[0]?.[1] ?? 0;
}

async function untilCount(influx: RunningInfluxDB, db: string, n: number, field = 'rssi', timeoutMs = 300_000): Promise<void> {
  await waitUntil(async () => (await count(influx, db, field)) >= n, timeoutMs, `${n} points in ${db}`);
}

async function rawCeiling(influx: RunningInfluxDB, n: number): Promise<Row> {
  await influx.createDatabase('raw');
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = reading(i);
    lines.push(readingToLine({ device: r.device, farm: 'bench', field: `f-${i % 5}`, id: r.id, ts: r.ts, values: r.values }));
  }
  const batches: string[] = [];
  for (let i = 0; i < lines.length; i += 5000) batches.push(lines.slice(i, i + 5000).join('\n'));
  const started = performance.now();
  let next = 0;
  // Two writers in parallel: as many as the ingestor's own writer could use on 2 cores.
  await Promise.all(
    [0, 1].map(async () => {
      while (next < batches.length) {
        const body = batches[next++]!;
        const res = await fetch(`${influx.url}/api/v2/write?bucket=raw&precision=ms`, { method: 'POST', body });
        if (res.status !== 204) throw new Error(`raw write ${res.status}`);
      }
    }),
  );
  await untilCount(influx, 'raw', n);
  return { what: 'InfluxDB raw ceiling (5,000-line batches, 2 writers)', readings: n, seconds: (performance.now() - started) / 1000 };
}

async function httpThroughput(url: string, secrets: string[], influx: RunningInfluxDB, db: string, label = 'fieldhook HTTP', field = 'rssi'): Promise<Row> {
  const pool = new Pool(url, { connections: 16, pipelining: 1 });
  const requests = HTTP_READINGS / BATCH;
  const before = await count(influx, db, field);
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < requests) {
        const b = next++;
        // One device per batch, as a gateway or a buffered node would send.
        const device = b % DEVICES;
        const body = JSON.stringify(Array.from({ length: BATCH }, (_, j) => ({ ...reading(b * BATCH + j), device: `b-${device}` })));
        for (;;) {
          const res = await pool.request({
            path: '/v1/readings',
            method: 'POST',
            headers: { authorization: `Bearer ${secrets[device]}`, 'content-type': 'application/json' },
            body,
          });
          await res.body.dump();
          if (res.statusCode === 202 || res.statusCode === 204) break;
          if (res.statusCode !== 429 && res.statusCode !== 503) throw new Error(`HTTP ${res.statusCode}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    }),
  );
  const acked = (performance.now() - started) / 1000;
  await untilCount(influx, db, before + HTTP_READINGS, field);
  await pool.close();
  return { what: `${label}, batches of ${BATCH}`, readings: HTTP_READINGS, seconds: (performance.now() - started) / 1000, note: `all acknowledged after ${acked.toFixed(2)} s` };
}

async function mqttThroughput(brokerUrl: string, secrets: string[], influx: RunningInfluxDB, db: string, label: string, offset: number): Promise<Row> {
  const clients: MqttClient[] = [];
  for (let d = 0; d < 20; d++) {
    clients.push(await connectAsync(brokerUrl, { username: `b-${d}`, password: secrets[d]!, clientId: `b-${d}/bench-${offset}`, protocolVersion: 4 }));
  }
  const perClient = MQTT_READINGS / clients.length;
  const before = await count(influx, db);
  const started = performance.now();
  await Promise.all(
    clients.map(async (client, d) => {
      // A window of 20 unacknowledged messages per device: Mosquitto's default in-flight limit.
      const inflight = new Set<Promise<unknown>>();
      for (let k = 0; k < perClient; k++) {
        const i = offset + d + k * clients.length;
        const body = JSON.stringify({ ...reading(i), device: `b-${d}` });
        const p = client.publishAsync(deviceReadingsTopic(`b-${d}`), body, { qos: 1 }).finally(() => inflight.delete(p));
        inflight.add(p);
        if (inflight.size >= 20) await Promise.race(inflight);
      }
      await Promise.all(inflight);
    }),
  );
  const acked = (performance.now() - started) / 1000;
  await untilCount(influx, db, before + MQTT_READINGS);
  await Promise.all(clients.map((c) => c.endAsync()));
  return { what: `fieldhook MQTT QoS 1 (${label})`, readings: MQTT_READINGS, seconds: (performance.now() - started) / 1000, note: `all PUBACKed after ${acked.toFixed(2)} s` };
}

async function latency(url: string, secret: string): Promise<{ p50: number; p99: number; max: number; n: number }> {
  const pool = new Pool(url, { connections: 64 });
  const total = LATENCY_RATE * LATENCY_SECONDS;
  const latencies: number[] = [];
  const started = performance.now();
  const sends: Promise<void>[] = [];
  for (let k = 0; k < total; k++) {
    // Open loop: each request leaves at its scheduled time, whatever the previous ones did.
    const due = started + (k * 1000) / LATENCY_RATE;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const i = 10_000_000 + k;
    sends.push(
      (async () => {
        const t0 = performance.now();
        const res = await pool.request({
          path: '/v1/readings',
          method: 'POST',
          headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
          body: JSON.stringify({ ...reading(i), device: 'b-0' }),
        });
        await res.body.dump();
        if (res.statusCode !== 202) throw new Error(`HTTP ${res.statusCode}`);
        latencies.push(performance.now() - t0);
      })(),
    );
  }
  await Promise.all(sends);
  await pool.close();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  return { p50: at(0.5), p99: at(0.99), max: latencies.at(-1)!, n: latencies.length };
}

/** Run `phase` while sampling the ingestor's RSS every 50 ms; the row gets the peak. */
async function measured(pid: number, phase: () => Promise<Row>): Promise<Row> {
  let peak = rssMb(pid);
  const timer = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 50);
  try {
    const row = await phase();
    return { ...row, peakRssMb: Math.max(peak, rssMb(pid)) };
  } finally {
    clearInterval(timer);
  }
}

async function startIngestor(dataDir: string, influx: RunningInfluxDB, db: string, extra: Record<string, string>) {
  const port = await freePort();
  const mqttPort = await freePort();
  // BENCH_CPU_PROF=<dir> writes a V8 CPU profile of each ingestor run there.
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  // The same V8 limits as `npm start` (package.json), unless BENCH_NODE_FLAGS says otherwise.
  const flags = (process.env.BENCH_NODE_FLAGS ?? '--max-semi-space-size=8 --max-old-space-size=160').split(' ').filter(Boolean);
  const proc: ManagedProcess = startProcess(process.execPath, [...flags, ...profile, 'dist/services/cli/main.js', 'start'], {
    ...process.env,
    FIELDHOOK_DATA_DIR: dataDir,
    FIELDHOOK_HTTP_HOST: '127.0.0.1',
    FIELDHOOK_HTTP_PORT: String(port),
    FIELDHOOK_MQTT_LISTEN_HOST: '127.0.0.1',
    FIELDHOOK_MQTT_LISTEN_PORT: String(mqttPort),
    FIELDHOOK_INFLUX_URL: influx.url,
    FIELDHOOK_INFLUX_BUCKET: db,
    FIELDHOOK_INGEST_RATE_LIMIT_PER_MINUTE: '0',
    FIELDHOOK_LOG_LEVEL: 'warn',
    // The ingest path alone: the predictor (a bus subscriber in the same process) has its own bench.
    FIELDHOOK_PREDICT_ENABLED: process.env.BENCH_WITH_PREDICTOR === '1' ? 'true' : 'false',
    ...extra,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(async () => (await fetch(`${url}/healthz`)).ok, 30_000, 'fieldhook');
  return { proc, url, mqttUrl: `mqtt://127.0.0.1:${mqttPort}` };
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'fieldhook-bench-'));
  const influx = await startInfluxDB({ dataDir: join(root, 'influxdb') });
  const dataDir = join(root, 'fieldhook');
  const devices = createSqliteDeviceRepository(join(dataDir, 'registry.db'));
  const secrets: string[] = [];
  for (let d = 0; d < DEVICES; d++) secrets.push((await devices.add({ id: `b-${d}`, farm: 'bench', field: `f-${d % 5}`, kind: 'device' })).secret);
  const all = (await Promise.all(secrets.map((_, d) => devices.get(`b-${d}`)))).filter((d) => d !== undefined);
  devices.close();

  try {
    process.stderr.write(`raw InfluxDB ceiling with ${HTTP_READINGS} readings…\n`);
    const raw = await rawCeiling(influx, HTTP_READINGS);
    rows.push(raw);

    await influx.createDatabase('embedded');
    const embedded = await startIngestor(dataDir, influx, 'embedded', {});
    const startRss = rssMb(embedded.proc.child.pid!);
    process.stderr.write(`ack latency at ${LATENCY_RATE} req/s for ${LATENCY_SECONDS} s…\n`);
    let latencyRss = 0;
    const latencyRow = await measured(embedded.proc.child.pid!, async () => {
      const result = await latency(embedded.url, secrets[0]!);
      return { what: 'latency', readings: result.n, seconds: LATENCY_SECONDS, note: JSON.stringify(result) };
    });
    latencyRss = latencyRow.peakRssMb ?? 0;
    const lat = JSON.parse(latencyRow.note!) as { p50: number; p99: number; max: number; n: number };
    process.stderr.write('HTTP throughput…\n');
    rows.push(await measured(embedded.proc.child.pid!, () => httpThroughput(embedded.url, secrets, influx, 'embedded')));
    process.stderr.write('MQTT throughput on the embedded broker…\n');
    rows.push(await measured(embedded.proc.child.pid!, () => mqttThroughput(embedded.mqttUrl, secrets, influx, 'embedded', 'embedded broker', 20_000_000)));
    const afterRss = rssMb(embedded.proc.child.pid!);
    const rssEmbedded = rssMb(embedded.proc.child.pid!, 'VmHWM');
    await embedded.proc.stop();

    // The scaling path: devices on Mosquitto, the ingestor consuming a shared subscription.
    const exported = exportMosquitto(all, { username: 'ingestor', password: 'bench' });
    const mosqDir = join(root, 'mosquitto');
    const { writeFileSync, mkdirSync } = await import('node:fs');
    mkdirSync(mosqDir, { recursive: true });
    writeFileSync(join(mosqDir, 'passwords'), exported.passwordFile);
    writeFileSync(join(mosqDir, 'acl'), exported.aclFile);
    const mosquitto = await startMosquitto({
      dir: mosqDir,
      extraConfig: ['allow_anonymous false', `password_file ${join(mosqDir, 'passwords')}`, `acl_file ${join(mosqDir, 'acl')}`],
    });
    await influx.createDatabase('external');
    const external = await startIngestor(dataDir, influx, 'external', {
      FIELDHOOK_MQTT_URL: mosquitto.url,
      FIELDHOOK_MQTT_USERNAME: 'ingestor',
      FIELDHOOK_MQTT_PASSWORD: 'bench',
    });
    process.stderr.write('MQTT throughput through Mosquitto…\n');
    rows.push(await measured(external.proc.child.pid!, () => mqttThroughput(mosquitto.url, secrets, influx, 'external', 'Mosquitto + shared subscription', 30_000_000)));
    const rssExternal = rssMb(external.proc.child.pid!, 'VmHWM');
    await external.proc.stop();
    await mosquitto.stop();

    // Telegraf's HTTP listener into the same InfluxDB: the agent users compare with. It answers
    // 204 before anything is written and buffers in memory only.
    process.stderr.write('Telegraf HTTP listener…\n');
    await influx.createDatabase('telegraf');
    const telegraf = await startTelegraf({ dir: join(root, 'telegraf'), influxUrl: influx.url, database: 'telegraf' });
    rows.push(
      await measured(telegraf.process.child.pid!, () =>
        httpThroughput(telegraf.url, secrets, influx, 'telegraf', `Telegraf ${TELEGRAF_VERSION} http_listener_v2 (acks before writing, memory buffer)`, 'values_rssi'),
      ),
    );
    await telegraf.stop();

    const ceiling = raw.readings / raw.seconds;
    console.log('\n| path | readings | seconds | readings/s | % of raw ceiling | peak RSS | note |');
    console.log('|---|---:|---:|---:|---:|---:|---|');
    for (const r of rows) {
      const rate = r.readings / r.seconds;
      const rss = r.peakRssMb ? `${r.peakRssMb.toFixed(0)} MB` : '';
      console.log(`| ${r.what} | ${r.readings} | ${r.seconds.toFixed(2)} | ${Math.round(rate)} | ${((100 * rate) / ceiling).toFixed(0)} % | ${rss} | ${r.note ?? ''} |`);
    }
    console.log(`\nSingle-reading POSTs at ${LATENCY_RATE}/s for ${LATENCY_SECONDS} s (${lat.n} requests): ack p50 ${lat.p50.toFixed(2)} ms, p99 ${lat.p99.toFixed(2)} ms, max ${lat.max.toFixed(1)} ms; peak RSS during it ${latencyRss.toFixed(0)} MB (${startRss.toFixed(0)} MB at start)`);
    console.log(`Ingestor RSS: ${afterRss.toFixed(0)} MB after the throughput runs, peak ${rssEmbedded.toFixed(0)} MB (embedded broker process), ${rssExternal.toFixed(0)} MB (Mosquitto process)`);
  } finally {
    await influx.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
