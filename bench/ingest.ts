/**
 * `npm run bench:ingest`: fieldhook's ingest next to the agents users compare it with, measured in
 * the same run on the same machine, in interleaved rounds (every contender once per round, so a
 * noisy neighbour slows all of them alike), medians and ranges:
 *
 * - MQTT: the same publisher (BENCH_MQTT_READINGS readings, QoS 1, BENCH_MQTT_CLIENTS devices with
 *   BENCH_MQTT_INFLIGHT messages in flight each) into a fresh Mosquitto per run (no in-flight or
 *   queue limit), consumed by fieldhook (shared subscription), Telegraf's `mqtt_consumer`
 *   (acknowledging after the write) and Node-RED (mqtt in → function → join → influxdb batch); and
 *   fieldhook's embedded broker, where the devices connect to fieldhook itself.
 * - HTTP: batches of 100 readings on 16 connections, fieldhook `/v1/readings` against Telegraf's
 *   `http_listener_v2`.
 * - CPU seconds per reading of each consumer, of Mosquitto and of InfluxDB, from /proc/<pid>/stat.
 * - Durability: the consumer is SIGKILLed mid-run and started again; readings acknowledged to the
 *   devices against readings stored.
 *
 * - InfluxDB's own ceiling for the same lines, and the ack latency of single-reading POSTs at 500/s.
 *
 * BENCH_BEFORE_DIST=<dir of an older build's dist> adds that build's fieldhook rows ("before"),
 * started with BENCH_BEFORE_NODE_FLAGS if set (the same build with other V8 limits, e.g.).
 * BENCH_GC_DIR=<dir> logs each fieldhook run's garbage collections (count and main-thread pause, as
 * `--trace-gc` prints them). BENCH_CPU_PROF=<dir> writes CPU profiles. BENCH_THREADS=1 prints where a
 * fieldhook process's CPU went per thread (main, spool worker, the rest).
 * BENCH_ROUNDS, BENCH_HTTP_READINGS, BENCH_KILL_READINGS, BENCH_LATENCY_SECONDS, BENCH_ONLY (comma-separated contender
 * names) shorten a run. Figures are only comparable within one run.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Pool } from 'undici';
import { readingToLine } from '../services/ingestor/line-protocol.js';
import { startInfluxDB, type RunningInfluxDB } from '../infra/harness/influxdb.js';
import { startMosquitto, type RunningMosquitto } from '../infra/harness/mosquitto.js';
import { ensureNodeRed, startNodeRed } from '../infra/harness/node-red.js';
import { startTelegraf, startTelegrafMqtt, TELEGRAF_VERSION } from '../infra/harness/telegraf.js';
import { freePort, startProcess, waitUntil, type ManagedProcess } from '../infra/harness/process.js';
import { exportMosquitto } from '../services/registry/mosquitto-export.js';
import { createSqliteDeviceRepository } from '../services/registry/sqlite-devices.js';
import { deviceReadingsTopic } from '../services/shared/bus/topics.js';
import { connectPublisher, type BenchPublisher } from './lib/mqtt-publisher.js';

const MQTT_READINGS = Number(process.env.BENCH_MQTT_READINGS ?? 40_000);
const MQTT_CLIENTS = Number(process.env.BENCH_MQTT_CLIENTS ?? 40);
const MQTT_INFLIGHT = Number(process.env.BENCH_MQTT_INFLIGHT ?? 100);
const HTTP_READINGS = Number(process.env.BENCH_HTTP_READINGS ?? 200_000);
const KILL_READINGS = Number(process.env.BENCH_KILL_READINGS ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const LATENCY_RATE = 500; // requests per second
const LATENCY_SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 10);
const ONLY = process.env.BENCH_ONLY?.split(',').map((s) => s.trim());
const BEFORE_DIST = process.env.BENCH_BEFORE_DIST ? resolve(process.env.BENCH_BEFORE_DIST) : undefined;
const DEVICES = Math.max(50, MQTT_CLIENTS);
/** BENCH_GC_DIR: each fieldhook run's garbage collections (count, main-thread pause) are logged. */
const GC_DIR = process.env.BENCH_GC_DIR ? resolve(process.env.BENCH_GC_DIR) : undefined;
const GC_TALLY = resolve('bench/lib/gc-tally.mjs');
/** The same V8 limits as `npm start` (package.json), unless BENCH_NODE_FLAGS says otherwise. */
const NODE_FLAGS = process.env.BENCH_NODE_FLAGS ?? '--max-semi-space-size=8 --max-old-space-size=160';
/** BENCH_BEFORE_NODE_FLAGS: the "before" rows' V8 flags, e.g. the same build with another young generation. */
const BEFORE_NODE_FLAGS = process.env.BENCH_BEFORE_NODE_FLAGS ?? NODE_FLAGS;
const BATCH = 100;
const BASE_TS = Date.now() - 6 * 24 * 3_600_000;
const CONSUMER_LOGIN = { username: 'ingestor', password: 'bench' };
const CLK_TCK = 100;

const log = (line: string) => process.stderr.write(`${line}\n`);

function values(i: number) {
  return { soil_moisture: 0.2 + (i % 100) / 1000, soil_temperature: 15 + (i % 10), battery_voltage: 3.7, rssi: -70 };
}

/** Reading number i of a run: its time is unique per i, so a stored point is a stored reading. */
function reading(i: number, device: number) {
  return { device: `b-${device}`, id: `r-${i}`, ts: BASE_TS + i, values: values(i) };
}

/** CPU seconds (user + system, every thread) a process has used; 0 once it is gone. */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  return statCpu(`/proc/${pid}/stat`);
}

function statCpu(path: string): number {
  try {
    const stat = readFileSync(path, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return 0;
  }
}

/** Peak resident memory of a process so far (VmHWM), MB; undefined once it is gone. */
function peakRssMb(pid: number): number | undefined {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

/** BENCH_THREADS=1: CPU seconds per thread id of a process (the main thread's id is the pid). */
const THREADS = process.env.BENCH_THREADS === '1';
function threadCpu(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) out.set(Number(tid), statCpu(`/proc/${pid}/task/${tid}/stat`));
  } catch {
    // gone
  }
  return out;
}

/**
 * Where a fieldhook process's CPU went, µs per reading: the main thread (sockets, parsing,
 * validation, the columns), the busiest other thread (the spool worker: SQLite), and the rest
 * (V8's GC and compiler helpers, libuv's pool: gzip, fsync).
 */
function threadBreakdown(pid: number, before: Map<number, number>, after: Map<number, number>, readings: number): string {
  const used = [...after].map(([tid, s]) => [tid, s - (before.get(tid) ?? 0)] as const);
  const main = used.find(([tid]) => tid === pid)?.[1] ?? 0;
  const others = used.filter(([tid]) => tid !== pid).sort((a, b) => b[1] - a[1]);
  const busiest = others[0]?.[1] ?? 0;
  const rest = others.slice(1).reduce((sum, [, s]) => sum + s, 0);
  const us = (s: number) => ((s * 1e6) / readings).toFixed(1);
  const next = others.slice(1, 6).map(([tid, s]) => `${us(s)} (+${tid - pid})`).join(', ');
  return `threads: main ${us(main)} µs, busiest other ${us(busiest)} µs (+${(others[0]?.[0] ?? pid) - pid}), the rest ${us(rest)} µs (the next five: ${next}) per reading`;
}

async function times(influx: RunningInfluxDB, db: string, field: string): Promise<number[]> {
  const res = await fetch(`${influx.url}/query?db=${db}&epoch=ms&q=${encodeURIComponent(`SELECT "${field}" FROM "reading"`)}`);
  const body = (await res.json()) as { results: { series?: { values: [number, number][] }[] }[] };
  return (body.results[0]?.series?.[0]?.values ?? []).map((v) => v[0]);
}

async function count(influx: RunningInfluxDB, db: string, field: string): Promise<number> {
  const body = (await influx.query(`SELECT count("${field}") FROM "reading"`, db)) as { results: { series?: { values: [number, number][] }[] }[] };
  return body.results[0]?.series?.[0]?.values[0]?.[1] ?? 0;
}

async function untilCount(influx: RunningInfluxDB, db: string, field: string, n: number, timeoutMs = 600_000): Promise<void> {
  for (const started = Date.now(); ; ) {
    if ((await count(influx, db, field)) >= n) return;
    if (Date.now() - started > timeoutMs) throw new Error(`${n} points in ${db} not reached`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Until the count has not moved for `quietMs` (what a consumer could store is stored). */
async function untilSettled(influx: RunningInfluxDB, db: string, field: string, quietMs = 6_000): Promise<number> {
  let last = -1;
  let since = Date.now();
  for (;;) {
    const n = await count(influx, db, field);
    if (n !== last) (last = n), (since = Date.now());
    else if (Date.now() - since >= quietMs) return n;
    await new Promise((r) => setTimeout(r, 250));
  }
}

// ---------------------------------------------------------------------------------------------
// The publisher: the same for every MQTT contender.

interface Published {
  /** Times (ms) of the readings whose PUBACK came back. */
  acked: number[];
}

async function connectDevices(url: string, secrets: string[], tag: string): Promise<BenchPublisher[]> {
  return Promise.all(Array.from({ length: MQTT_CLIENTS }, (_, d) => connectPublisher(url, { username: `b-${d}`, password: secrets[d]!, clientId: `b-${d}/${tag}` })));
}

/** Every device publishes its share of readings `from..from+n` with MQTT_INFLIGHT in flight. */
async function publish(clients: BenchPublisher[], from: number, n: number): Promise<Published> {
  const acked: number[] = [];
  await Promise.all(
    clients.map(async (client, d) => {
      const readings: ReturnType<typeof reading>[] = [];
      for (let i = from + d; i < from + n; i += clients.length) readings.push(reading(i, d));
      const messages = readings.map((r) => ({ topic: deviceReadingsTopic(r.device), payload: JSON.stringify(r) }));
      await client.publishAll(messages, MQTT_INFLIGHT, (k) => acked.push(readings[k]!.ts));
    }),
  );
  return { acked };
}

// ---------------------------------------------------------------------------------------------
// Contenders.

interface Env {
  root: string;
  influx: RunningInfluxDB;
  secrets: string[];
  registryDb: string;
}

/** A consumer running for one measurement. */
interface Running {
  pid: number;
  /** Where devices publish (MQTT) or post (HTTP). */
  url: string;
  mosquitto?: RunningMosquitto;
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Start the consumer again after a kill, with its state (session, spool) as it was. */
  restart(): Promise<Running>;
}

interface Contender {
  name: string;
  protocol: 'mqtt' | 'http';
  /** The field whose points are counted: fieldhook and Node-RED write `rssi`, Telegraf's JSON parser `values_rssi`. */
  field: string;
  start(env: Env, db: string, dir: string): Promise<Running>;
}

async function mosquittoFor(env: Env, dir: string, port?: number): Promise<RunningMosquitto> {
  const devices = env.secrets.map((secret, d) => ({ id: `b-${d}`, secret, enabled: true }) as Parameters<typeof exportMosquitto>[0][number]);
  const exported = exportMosquitto(devices, CONSUMER_LOGIN);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'passwords'), exported.passwordFile);
  writeFileSync(join(dir, 'acl'), exported.aclFile);
  return startMosquitto({
    dir,
    ...(port ? { port } : {}),
    // The same limits for every contender: none on messages in flight or queued.
    extraConfig: ['max_inflight_messages 0', 'max_queued_messages 0', 'allow_anonymous false', `password_file ${join(dir, 'passwords')}`, `acl_file ${join(dir, 'acl')}`],
  });
}

async function startFieldhook(dist: string, env: Env, db: string, dataDir: string, extra: Record<string, string>, ports?: { http: number; mqtt: number }, nodeFlags = NODE_FLAGS) {
  const port = ports?.http ?? (await freePort());
  const mqttPort = ports?.mqtt ?? (await freePort());
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  if (GC_DIR) profile.push(`--import=${GC_TALLY}`);
  const flags = nodeFlags.split(' ').filter(Boolean);
  const proc: ManagedProcess = startProcess(process.execPath, [...flags, ...profile, join(dist, 'services/cli/main.js'), 'start'], {
    ...process.env,
    FIELDHOOK_DATA_DIR: dataDir,
    FIELDHOOK_HTTP_HOST: '127.0.0.1',
    FIELDHOOK_HTTP_PORT: String(port),
    FIELDHOOK_MQTT_LISTEN_HOST: '127.0.0.1',
    FIELDHOOK_MQTT_LISTEN_PORT: String(mqttPort),
    FIELDHOOK_INFLUX_URL: env.influx.url,
    FIELDHOOK_INFLUX_BUCKET: db,
    FIELDHOOK_INGEST_RATE_LIMIT_PER_MINUTE: '0',
    // Every benchmark client connects from 127.0.0.1: the latency probe's 64 connections plus the
    // health check's would pass the default 64 per address and be refused (503).
    FIELDHOOK_HTTP_MAX_CONNECTIONS_PER_ADDRESS: '1024',
    FIELDHOOK_LOG_LEVEL: 'warn',
    // The ingest path alone: the predictor has its own bench.
    FIELDHOOK_PREDICT_ENABLED: process.env.BENCH_WITH_PREDICTOR === '1' ? 'true' : 'false',
    ...extra,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(async () => (await fetch(`${url}/healthz`).catch(() => undefined))?.ok === true, 30_000, 'fieldhook').catch((err: Error) => {
    throw new Error(`${err.message}\n${proc.output()}`);
  });
  return { proc, url, mqttUrl: `mqtt://127.0.0.1:${mqttPort}`, ports: { http: port, mqtt: mqttPort } };
}

function fieldhookContenders(dist: string, label: string, nodeFlags = NODE_FLAGS): Contender[] {
  const dataDirFor = (env: Env, dir: string) => {
    const dataDir = join(dir, 'fieldhook');
    mkdirSync(dataDir, { recursive: true });
    copyFileSync(env.registryDb, join(dataDir, 'registry.db'));
    return dataDir;
  };
  const viaMosquitto: Contender = {
    name: `fieldhook${label} via Mosquitto`,
    protocol: 'mqtt',
    field: 'rssi',
    async start(env, db, dir) {
      const mosquitto = await mosquittoFor(env, join(dir, 'mosquitto'));
      const dataDir = dataDirFor(env, dir);
      const extra = { FIELDHOOK_MQTT_URL: mosquitto.url, FIELDHOOK_MQTT_USERNAME: CONSUMER_LOGIN.username, FIELDHOOK_MQTT_PASSWORD: CONSUMER_LOGIN.password };
      const run = async (): Promise<Running> => {
        const f = await startFieldhook(dist, env, db, dataDir, extra, undefined, nodeFlags);
        return { pid: f.proc.child.pid!, url: mosquitto.url, mosquitto, stop: async (signal) => (await f.proc.stop(signal), signal ? undefined : await mosquitto.stop()), restart: run };
      };
      return run();
    },
  };
  const embedded: Contender = {
    name: `fieldhook${label}, embedded broker`,
    protocol: 'mqtt',
    field: 'rssi',
    async start(env, db, dir) {
      const dataDir = dataDirFor(env, dir);
      const run = async (ports?: { http: number; mqtt: number }): Promise<Running> => {
        const f = await startFieldhook(dist, env, db, dataDir, {}, ports, nodeFlags);
        return { pid: f.proc.child.pid!, url: f.mqttUrl, stop: (signal) => f.proc.stop(signal), restart: () => run(f.ports) };
      };
      return run();
    },
  };
  const http: Contender = {
    name: `fieldhook${label} HTTP /v1/readings`,
    protocol: 'http',
    field: 'rssi',
    async start(env, db, dir) {
      const f = await startFieldhook(dist, env, db, dataDirFor(env, dir), {}, undefined, nodeFlags);
      return { pid: f.proc.child.pid!, url: f.url, stop: (signal) => f.proc.stop(signal), restart: () => Promise.reject(new Error('not restarted')) };
    },
  };
  return [viaMosquitto, embedded, http];
}

const telegrafMqtt: Contender = {
  name: `Telegraf ${TELEGRAF_VERSION} mqtt_consumer (ack after write)`,
  protocol: 'mqtt',
  field: 'values_rssi',
  async start(env, db, dir) {
    const mosquitto = await mosquittoFor(env, join(dir, 'mosquitto'));
    const run = async (): Promise<Running> => {
      const t = await startTelegrafMqtt({ dir: join(dir, 'telegraf'), influxUrl: env.influx.url, database: db, mqttPort: mosquitto.port, ...CONSUMER_LOGIN });
      return { pid: t.process.child.pid!, url: mosquitto.url, mosquitto, stop: async (signal) => (await t.stop(signal), signal ? undefined : await mosquitto.stop()), restart: run };
    };
    return run();
  },
};

function nodeRedContender(version: string): Contender {
  return {
    name: `Node-RED ${version} (mqtt in → function → join → influxdb batch)`,
    protocol: 'mqtt',
    field: 'rssi',
    async start(env, db, dir) {
      const mosquitto = await mosquittoFor(env, join(dir, 'mosquitto'));
      const run = async (): Promise<Running> => {
        const n = await startNodeRed({ dir: join(dir, 'node-red'), mqttPort: mosquitto.port, ...CONSUMER_LOGIN, influxPort: env.influx.port, database: db });
        return { pid: n.process.child.pid!, url: mosquitto.url, mosquitto, stop: async (signal) => (await n.stop(signal), signal ? undefined : await mosquitto.stop()), restart: run };
      };
      return run();
    },
  };
}

const telegrafHttp: Contender = {
  name: `Telegraf ${TELEGRAF_VERSION} http_listener_v2 (acks before writing)`,
  protocol: 'http',
  field: 'values_rssi',
  async start(env, db, dir) {
    const t = await startTelegraf({ dir: join(dir, 'telegraf'), influxUrl: env.influx.url, database: db });
    return { pid: t.process.child.pid!, url: t.url, stop: (signal) => t.process.stop(signal), restart: () => Promise.reject(new Error('not restarted')) };
  },
};

// ---------------------------------------------------------------------------------------------
// Measurements.

interface Sample {
  rate: number;
  /** CPU µs per reading: consumer, Mosquitto, InfluxDB. */
  cpu: number;
  mosquittoCpu: number;
  influxCpu: number;
}

/**
 * The publisher's probe: one reading, sent again every second until it is stored (a consumer that
 * has not subscribed yet has no session to keep it), so the run starts with every consumer
 * subscribed and writing. Sent again, it is the same point.
 */
async function probe(clients: BenchPublisher[], influx: RunningInfluxDB, db: string, field: string): Promise<void> {
  const body = JSON.stringify(reading(90_000_000, 0));
  for (const started = Date.now(); (await count(influx, db, field)) < 1; ) {
    if (Date.now() - started > 120_000) throw new Error(`the probe never reached ${db}`);
    await clients[0]!.publishOne(deviceReadingsTopic('b-0'), body);
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

async function measureMqtt(contender: Contender, env: Env, tag: string): Promise<Sample> {
  const db = tag.replace(/\W/g, '_');
  await env.influx.createDatabase(db);
  const dir = join(env.root, tag);
  const running = await contender.start(env, db, dir);
  const clients = await connectDevices(running.url, env.secrets, tag);
  const window = { since: Infinity, until: Infinity };
  try {
    await probe(clients, env.influx, db, contender.field);
    const cpu0 = [cpuSeconds(running.pid), cpuSeconds(running.mosquitto?.process.child.pid), cpuSeconds(env.influx.process.child.pid)];
    const threads0 = THREADS ? threadCpu(running.pid) : undefined;
    const started = performance.now();
    window.since = Date.now();
    await publish(clients, 0, MQTT_READINGS);
    const acked = (performance.now() - started) / 1000;
    await untilCount(env.influx, db, contender.field, MQTT_READINGS + 1);
    const seconds = (performance.now() - started) / 1000;
    window.until = Date.now();
    log(`  every PUBACK after ${acked.toFixed(2)} s, every point stored after ${seconds.toFixed(2)} s`);
    const cpu1 = [cpuSeconds(running.pid), cpuSeconds(running.mosquitto?.process.child.pid), cpuSeconds(env.influx.process.child.pid)];
    if (threads0) log(`  ${threadBreakdown(running.pid, threads0, threadCpu(running.pid), MQTT_READINGS)}`);
    // What a larger young generation (BENCH_NODE_FLAGS) costs in memory, next to the peers' footprint.
    log(`  peak resident memory of the consumer ${peakRssMb(running.pid)?.toFixed(0) ?? '?'} MB`);
    const per = (k: number) => ((cpu1[k]! - cpu0[k]!) * 1e6) / MQTT_READINGS;
    return { rate: MQTT_READINGS / seconds, cpu: per(0), mosquittoCpu: per(1), influxCpu: per(2) };
  } finally {
    for (const c of clients) c.close();
    await running.stop();
    logGc(running.pid, MQTT_READINGS, window);
  }
}

async function measureHttp(contender: Contender, env: Env, tag: string): Promise<Sample> {
  const db = tag.replace(/\W/g, '_');
  await env.influx.createDatabase(db);
  const running = await contender.start(env, db, join(env.root, tag));
  const pool = new Pool(running.url, { connections: 16, pipelining: 1 });
  const window = { since: Infinity, until: Infinity };
  try {
    const requests = HTTP_READINGS / BATCH;
    const bodies = Array.from({ length: requests }, (_, b) => JSON.stringify(Array.from({ length: BATCH }, (_, j) => reading(b * BATCH + j, b % DEVICES))));
    const cpu0 = [cpuSeconds(running.pid), cpuSeconds(env.influx.process.child.pid)];
    const threads0 = THREADS ? threadCpu(running.pid) : undefined;
    const started = performance.now();
    window.since = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < requests) {
          const b = next++;
          for (;;) {
            const res = await pool.request({
              path: '/v1/readings',
              method: 'POST',
              headers: { authorization: `Bearer ${env.secrets[b % DEVICES]}`, 'content-type': 'application/json' },
              body: bodies[b]!,
            });
            await res.body.dump();
            if (res.statusCode === 202 || res.statusCode === 204) break;
            if (res.statusCode !== 429 && res.statusCode !== 503) throw new Error(`HTTP ${res.statusCode}`);
            await new Promise((r) => setTimeout(r, 100));
          }
        }
      }),
    );
    await untilCount(env.influx, db, contender.field, HTTP_READINGS);
    const seconds = (performance.now() - started) / 1000;
    window.until = Date.now();
    const cpu1 = [cpuSeconds(running.pid), cpuSeconds(env.influx.process.child.pid)];
    if (threads0) log(`  ${threadBreakdown(running.pid, threads0, threadCpu(running.pid), HTTP_READINGS)}`);
    return { rate: HTTP_READINGS / seconds, cpu: ((cpu1[0]! - cpu0[0]!) * 1e6) / HTTP_READINGS, mosquittoCpu: 0, influxCpu: ((cpu1[1]! - cpu0[1]!) * 1e6) / HTTP_READINGS };
  } finally {
    await pool.close();
    await running.stop();
    logGc(running.pid, HTTP_READINGS, window);
  }
}

/** With BENCH_GC_DIR: the garbage collections of a finished fieldhook run within the measured window (epoch ms). */
function logGc(pid: number, readings: number, window: { since: number; until: number }): void {
  if (!GC_DIR) return;
  try {
    const all = JSON.parse(readFileSync(join(GC_DIR, `gc-${pid}.json`), 'utf8')) as [at: number, kind: string, pauseMs: number][];
    const byKind = new Map<string, { count: number; pauseMs: number }>();
    let count = 0;
    let pauseMs = 0;
    for (const [at, kind, pause] of all) {
      if (at < window.since || at > window.until) continue;
      count++;
      pauseMs += pause;
      const k = byKind.get(kind) ?? { count: 0, pauseMs: 0 };
      k.count++;
      k.pauseMs += pause;
      byKind.set(kind, k);
    }
    const kinds = [...byKind].map(([k, v]) => `${k} ${v.count} (${v.pauseMs.toFixed(0)} ms)`).join(', ');
    log(`  GC while measured: ${count} collections, ${pauseMs.toFixed(0)} ms paused (${((pauseMs * 1000) / readings).toFixed(2)} µs per reading; ${kinds})`);
  } catch {
    // Not a fieldhook process (Telegraf, Node-RED), or it did not exit on its own.
  }
}

interface Durability {
  acknowledged: number;
  stored: number;
  lost: number;
}

/**
 * SIGKILL the consumer once a third of the readings are stored, start it again, and compare what
 * the devices had acknowledged (by the broker, or by fieldhook's embedded broker) with what is
 * stored once everything has settled.
 */
async function measureDurability(contender: Contender, env: Env, tag: string): Promise<Durability> {
  const db = tag.replace(/\W/g, '_');
  await env.influx.createDatabase(db);
  let running = await contender.start(env, db, join(env.root, tag));
  const clients = await connectDevices(running.url, env.secrets, tag);
  await probe(clients, env.influx, db, contender.field);
  let killed = false;
  const killer = (async () => {
    await untilCount(env.influx, db, contender.field, 1 + Math.floor(KILL_READINGS / 3));
    await running.stop('SIGKILL');
    killed = true;
    // Devices of the embedded broker lose their broker: what they had not had acknowledged fails.
    if (!running.mosquitto) for (const c of clients) c.close();
  })();
  const { acked } = await publish(clients, 0, KILL_READINGS);
  await killer;
  for (const c of clients) c.close();
  if (!killed) throw new Error('not killed');
  running = await running.restart();
  await untilSettled(env.influx, db, contender.field);
  const stored = new Set(await times(env.influx, db, contender.field));
  await running.stop();
  await running.mosquitto?.stop();
  const lost = acked.filter((t) => !stored.has(t)).length;
  return { acknowledged: acked.length, stored: stored.size - 1, lost };
}

/** InfluxDB's own ceiling: the same lines posted straight to it in 5,000-line batches by two writers. */
async function rawCeiling(influx: RunningInfluxDB, n: number): Promise<number> {
  await influx.createDatabase('raw');
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = reading(i, i % DEVICES);
    lines.push(readingToLine({ device: r.device, farm: 'bench', field: `f-${i % 5}`, id: r.id, ts: r.ts, values: r.values }));
  }
  const batches: string[] = [];
  for (let i = 0; i < lines.length; i += 5000) batches.push(lines.slice(i, i + 5000).join('\n'));
  const started = performance.now();
  let next = 0;
  await Promise.all(
    [0, 1].map(async () => {
      while (next < batches.length) {
        const res = await fetch(`${influx.url}/api/v2/write?bucket=raw&precision=ms`, { method: 'POST', body: batches[next++]! });
        if (res.status !== 204) throw new Error(`raw write ${res.status}`);
      }
    }),
  );
  await untilCount(influx, 'raw', 'rssi', n);
  return n / ((performance.now() - started) / 1000);
}

/** Single-reading POSTs at a fixed rate (open loop: each leaves at its time, whatever the others did). */
async function latency(url: string, secret: string): Promise<{ p50: number; p99: number; max: number; n: number }> {
  const pool = new Pool(url, { connections: 64 });
  const total = LATENCY_RATE * LATENCY_SECONDS;
  const latencies: number[] = [];
  const started = performance.now();
  const sends: Promise<void>[] = [];
  for (let k = 0; k < total; k++) {
    const wait = started + (k * 1000) / LATENCY_RATE - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const body = JSON.stringify(reading(10_000_000 + k, 0));
    sends.push(
      (async () => {
        const t0 = performance.now();
        const res = await pool.request({ path: '/v1/readings', method: 'POST', headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' }, body });
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

// ---------------------------------------------------------------------------------------------

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const int = (x: number) => Math.round(x).toLocaleString('en-US');
const range = (xs: number[], f: (x: number) => string) => `${f(Math.min(...xs))}–${f(Math.max(...xs))}`;

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'fieldhook-bench-'));
  const influx = await startInfluxDB({ dataDir: join(root, 'influxdb') });
  const registryDb = join(root, 'registry.db');
  const devices = createSqliteDeviceRepository(registryDb);
  const secrets: string[] = [];
  for (let d = 0; d < DEVICES; d++) secrets.push((await devices.add({ id: `b-${d}`, farm: 'bench', field: `f-${d % 5}`, kind: 'device' })).secret);
  devices.close();
  const env: Env = { root, influx, secrets, registryDb };

  const after = fieldhookContenders(resolve('dist'), '');
  const before = BEFORE_DIST ? fieldhookContenders(BEFORE_DIST, ' (before)', BEFORE_NODE_FLAGS) : [];
  const nodeRed = nodeRedContender(ensureNodeRed(log).version);
  const all = [after[0]!, ...(before[0] ? [before[0]] : []), after[1]!, ...(before[1] ? [before[1]] : []), telegrafMqtt, nodeRed, after[2]!, ...(before[2] ? [before[2]] : []), telegrafHttp];
  const contenders = all.filter((c) => !ONLY || ONLY.some((o) => c.name.includes(o)));
  const samples = new Map<Contender, Sample[]>(contenders.map((c) => [c, []]));

  try {
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [k, c] of contenders.entries()) {
        log(`round ${round}/${ROUNDS}: ${c.name}…`);
        const tag = `r${round}_${k}`;
        const sample = c.protocol === 'mqtt' ? await measureMqtt(c, env, tag) : await measureHttp(c, env, tag);
        log(`  ${int(sample.rate)} readings/s, ${sample.cpu.toFixed(1)} µs CPU per reading`);
        samples.get(c)!.push(sample);
      }
    }
    const durability = new Map<Contender, Durability>();
    if (KILL_READINGS > 0) {
      for (const [k, c] of contenders.entries()) {
        if (c.protocol !== 'mqtt') continue;
        log(`durability: ${c.name}, SIGKILL mid-run…`);
        durability.set(c, await measureDurability(c, env, `kill_${k}`));
      }
    }

    console.log(`\nMQTT: ${MQTT_READINGS.toLocaleString('en-US')} readings, QoS 1, ${MQTT_CLIENTS} devices × ${MQTT_INFLIGHT} in flight; HTTP: ${HTTP_READINGS.toLocaleString('en-US')} readings in batches of ${BATCH} on 16 connections. ${ROUNDS} interleaved rounds: median (range).`);
    console.log('CPU: µs per reading (user + system) of the consumer (the fieldhook process includes its broker when embedded), of Mosquitto and of InfluxDB.\n');
    console.log(`| consumer | readings/s | CPU per reading | Mosquitto CPU | InfluxDB CPU | SIGKILL mid-run (${KILL_READINGS.toLocaleString('en-US')}): acknowledged / stored / lost |`);
    console.log('|---|---:|---:|---:|---:|---|');
    for (const c of contenders) {
      const s = samples.get(c)!;
      const rates = s.map((x) => x.rate);
      const cpus = s.map((x) => x.cpu);
      const d = durability.get(c);
      console.log(
        `| ${c.name} | ${int(median(rates))} (${range(rates, int)}) | ${median(cpus).toFixed(1)} µs (${range(cpus, (x) => x.toFixed(1))}) | ${c.protocol === 'mqtt' && !c.name.includes('embedded') ? `${median(s.map((x) => x.mosquittoCpu)).toFixed(1)} µs` : '—'} | ${median(s.map((x) => x.influxCpu)).toFixed(1)} µs | ${d ? `${int(d.acknowledged)} / ${int(d.stored)} / **${int(d.lost)}**` : '—'} |`,
      );
    }
    const rate = (name: string) => {
      const c = contenders.find((x) => x.name.startsWith(name));
      return c ? median(samples.get(c)!.map((x) => x.rate)) : undefined;
    };
    const ratio = (a: string, b: string) => {
      const x = rate(a);
      const y = rate(b);
      return x && y ? `${(x / y).toFixed(2)}×` : 'n/a';
    };
    if (LATENCY_SECONDS > 0) {
      log('InfluxDB raw ceiling and single-reading ack latency…');
      const ceiling = await rawCeiling(influx, HTTP_READINGS);
      const fieldhook = await after[2]!.start(env, 'latency', join(root, 'latency'));
      const lat = await latency(fieldhook.url, secrets[0]!).finally(() => fieldhook.stop());
      console.log(`\nInfluxDB's own ceiling (the same lines posted directly, 5,000-line batches, 2 writers): ${int(ceiling)} lines/s.`);
      console.log(`Single-reading POSTs at ${LATENCY_RATE}/s for ${LATENCY_SECONDS} s (${lat.n}): ack p50 ${lat.p50.toFixed(2)} ms, p99 ${lat.p99.toFixed(2)} ms, max ${lat.max.toFixed(1)} ms.`);
    }
    console.log(
      `\nfieldhook via Mosquitto / Telegraf mqtt_consumer: ${ratio('fieldhook via Mosquitto', 'Telegraf v1.36.4 mqtt')}; embedded / Telegraf: ${ratio('fieldhook, embedded', 'Telegraf v1.36.4 mqtt')}; ` +
        `via Mosquitto / Node-RED: ${ratio('fieldhook via Mosquitto', 'Node-RED')}; HTTP / http_listener_v2: ${ratio('fieldhook HTTP', 'Telegraf v1.36.4 http')}`,
    );
  } finally {
    await influx.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
