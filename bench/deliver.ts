/**
 * `npm run bench:deliver`: signed webhook deliveries per second through the whole dispatcher
 * (SQLite outbox with fsync, fan-out, signing, SSRF-guarded undici agent, delivery log) to a
 * local receiver, next to plain unsigned POSTs to the same receiver in the same run.
 *
 * BENCH_EVENTS (default 10000) events per scenario, 20 endpoints; in the mixed scenario 2 of
 * them (10 %) fail: one answers 500, one never answers (2 s timeout). Loopback only; every
 * scenario is bounded by BENCH_MAX_SECONDS (default 60).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { buildDispatcher } from '../services/dispatcher/build-dispatcher.js';
import { createDispatchConfig } from '../services/dispatcher/config.js';
import type { PublishInput } from '../services/dispatcher/events.js';
import { silentLogger } from '../services/shared/logger.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 10_000);
const MAX_SECONDS = Number(process.env.BENCH_MAX_SECONDS ?? 60);
const ENDPOINTS = 20;
const PER_ENDPOINT = 10;
const PUBLISH_BATCH = 250;

interface Stats {
  counts: { ok: number; fail: number; hang: number };
  p50: number;
  p99: number;
}

function ask<T>(child: ChildProcess, cmd: string): Promise<T> {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve(m as T));
    child.send({ cmd });
  });
}

const sampleData = (i: number) => ({
  farm: `farm-${i % ENDPOINTS}`,
  field: 'north',
  model: 'fao56-onnx-v1',
  irrigate: true,
  depth_mm: 12.5,
  depletion_mm: 31.2,
  hours_to_threshold: 6,
  t: Date.now(),
});

interface Row {
  scenario: string;
  delivered: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
  note: string;
}

async function baseline(port: number, receiver: ChildProcess): Promise<Row> {
  await ask(receiver, 'reset');
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: ENDPOINTS * PER_ENDPOINT });
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < EVENTS) {
      const i = next++;
      const body = JSON.stringify({ type: 'irrigation.recommended', id: `evt_${i}`, timestamp: new Date().toISOString(), data: sampleData(i) });
      const res = await pool.request({ path: `/ok/${i % ENDPOINTS}`, method: 'POST', headers: { 'content-type': 'application/json' }, body });
      await res.body.dump();
    }
  };
  await Promise.all(Array.from({ length: ENDPOINTS * PER_ENDPOINT }, worker));
  const seconds = (performance.now() - t0) / 1000;
  await pool.close();
  const s = await ask<Stats>(receiver, 'stats');
  return { scenario: 'baseline: unsigned POST, undici Pool', delivered: s.counts.ok, seconds, perSecond: s.counts.ok / seconds, p50: s.p50, p99: s.p99, note: 'no outbox, no signature, no log' };
}

async function dispatcherRun(port: number, receiver: ChildProcess, failing: number, events = EVENTS): Promise<Row[]> {
  await ask(receiver, 'reset');
  const dir = mkdtempSync(join(tmpdir(), 'fh-bench-'));
  const config = createDispatchConfig({
    ADMIN_TOKEN: 'bench-admin-token-0123456789',
    DISPATCH_DB_PATH: join(dir, 'dispatch.sqlite'),
    WEBHOOK_ALLOW_CIDRS: { '*': ['127.0.0.1/32'] },
    WEBHOOK_TIMEOUT_MS: 2_000,
    WEBHOOK_ENDPOINT_CONCURRENCY: PER_ENDPOINT,
    LOG_LEVEL: 'silent',
  });
  const d = buildDispatcher({ config, logger: silentLogger() });
  const healthyFarms = new Set<string>();
  for (let e = 0; e < ENDPOINTS; e++) {
    const kind = e < failing ? (e % 2 === 0 ? 'fail' : 'hang') : 'ok';
    if (kind === 'ok') healthyFarms.add(`farm-${e}`);
    await d.service.createSubscription({ url: `http://127.0.0.1:${port}/${kind}/${e}`, farms: [`farm-${e}`], events: ['irrigation.recommended'] });
  }
  await d.start();
  const healthyTotal = Array.from({ length: events }, (_, i) => i).filter((i) => healthyFarms.has(`farm-${i % ENDPOINTS}`)).length;
  const delivered = async () => {
    const m = await d.metrics.getSingleMetric('fieldhook_webhook_deliveries_total')!.get();
    return m.values.find((v) => v.labels.outcome === 'succeeded')?.value ?? 0;
  };
  const t0 = performance.now();
  let acceptMs = 0;
  const publisher = (async () => {
    for (let i = 0; i < events; i += PUBLISH_BATCH) {
      const batch: PublishInput[] = [];
      for (let j = i; j < Math.min(events, i + PUBLISH_BATCH); j++) {
        batch.push({ type: 'irrigation.recommended', data: sampleData(j), collapse_key: `bench:${j}` });
      }
      await d.publishMany(batch);
      // Let the loop run between commits, as a predictor publishing over time would.
      await new Promise((r) => setImmediate(r));
    }
    acceptMs = performance.now() - t0;
  })();
  const deadline = t0 + MAX_SECONDS * 1000;
  while ((await delivered()) < healthyTotal && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const seconds = (performance.now() - t0) / 1000;
  await publisher;
  const got = await delivered();
  const s = await ask<Stats>(receiver, 'stats');
  await d.stop();
  rmSync(dir, { recursive: true, force: true });
  const rows: Row[] = [
    {
      scenario: failing === 0 ? `fieldhook: ${ENDPOINTS} healthy endpoints` : `fieldhook: ${ENDPOINTS - failing} healthy + ${failing} failing (healthy only)`,
      delivered: got,
      seconds,
      perSecond: got / seconds,
      p50: s.p50,
      p99: s.p99,
      note: `signed, fsync'd outbox; ${events} events accepted in ${(acceptMs / 1000).toFixed(2)} s`,
    },
  ];
  if (failing > 0) {
    rows.push({
      scenario: `  failing endpoints (500 + no answer)`,
      delivered: 0,
      seconds,
      perSecond: 0,
      p50: NaN,
      p99: NaN,
      note: `${s.counts.fail + s.counts.hang} attempts for ${events - healthyTotal} events: breaker open, retries scheduled`,
    });
  }
  return rows;
}

const receiver = fork(join(import.meta.dirname, 'deliver-receiver.ts'), { execArgv: ['--import', 'tsx'] });
const { port } = await new Promise<{ port: number }>((resolve) => receiver.once('message', (m) => resolve(m as { port: number })));

// Warm-up (JIT, SQLite page cache, keep-alive sockets); not reported.
await dispatcherRun(port, receiver, 0, Math.min(2_000, EVENTS));
const rows: Row[] = [];
rows.push(await baseline(port, receiver));
rows.push(...(await dispatcherRun(port, receiver, 0)));
rows.push(...(await dispatcherRun(port, receiver, ENDPOINTS / 10)));
receiver.send({ cmd: 'exit' });

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '—');
console.log(`\nbench:deliver — ${EVENTS} events per scenario, ${ENDPOINTS} endpoints x ${PER_ENDPOINT} in flight, ${cpus().length} CPUs, Node ${process.version}\n`);
console.log('| scenario | delivered | s | deliveries/s | p50 ms | p99 ms | note |');
console.log('|---|---:|---:|---:|---:|---:|---|');
for (const r of rows) {
  console.log(`| ${r.scenario} | ${r.delivered || '—'} | ${fmt(r.seconds, 2)} | ${r.perSecond ? fmt(r.perSecond) : '—'} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${r.note} |`);
}
const healthy = rows.find((r) => r.scenario.startsWith('fieldhook: 20 healthy'))!;
const mixed = rows.find((r) => r.scenario.includes('failing (healthy only)'))!;
console.log(`\nhealthy endpoints with 10 % failing: ${fmt((mixed.perSecond / healthy.perSecond) * 100)} % of the all-healthy rate; signed/unsigned: ${fmt((healthy.perSecond / rows[0]!.perSecond) * 100)} %`);
