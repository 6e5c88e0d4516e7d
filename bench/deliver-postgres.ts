/**
 * `npm run bench:deliver-postgres`: signed webhook deliveries per second with the outbox in
 * SQLite (the baseline, one dispatcher) and in PostgreSQL (one dispatcher, then two with their
 * own instance ids and pools sharing the outbox), to the same local receiver, in one run.
 *
 * BENCH_EVENTS (default 5000) events per scenario over 20 endpoints, 10 attempts in flight per
 * endpoint. PostgreSQL is the harness's throw-away cluster (loopback, fsync off), so the figures
 * compare the stores' round trips, not disks. Both dispatchers of the two-instance scenario run
 * in this one Node process: they share its event loop and its core, so the scenario shows that
 * the work splits and what the shared claims cost, not how far two machines would scale.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres } from '../infra/harness/postgres.js';
import { buildDispatcher, type FieldhookDispatcher } from '../services/dispatcher/build-dispatcher.js';
import { createDispatchConfig } from '../services/dispatcher/config.js';
import type { PublishInput } from '../services/dispatcher/events.js';
import { closeControlPlane, createControlPlane } from '../services/shared/database/control-plane.js';
import { silentLogger } from '../services/shared/logger.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 5_000);
const MAX_SECONDS = Number(process.env.BENCH_MAX_SECONDS ?? 120);
const ENDPOINTS = 20;
const PER_ENDPOINT = 10;
const PUBLISH_BATCH = 250;

function ask<T>(child: ChildProcess, cmd: string): Promise<T> {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve(m as T));
    child.send({ cmd });
  });
}

interface Row {
  scenario: string;
  delivered: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
  split: string;
}

async function run(scenario: string, port: number, receiver: ChildProcess, databaseUrl: string | undefined, instances: number, events = EVENTS): Promise<Row> {
  await ask(receiver, 'reset');
  const dir = mkdtempSync(join(tmpdir(), 'fh-bench-pg-'));
  const dispatchers: { d: FieldhookDispatcher; close: () => Promise<void> }[] = [];
  for (let n = 0; n < instances; n++) {
    const config = createDispatchConfig({
      ADMIN_TOKEN: 'bench-admin-token-0123456789',
      DATA_DIR: join(dir, `i${n}`),
      DISPATCH_DB_PATH: join(dir, 'dispatch.sqlite'),
      ...(databaseUrl ? { DATABASE_URL: databaseUrl, INSTANCE_ID: `bench-${n}` } : {}),
      WEBHOOK_ALLOW_CIDRS: { '*': ['127.0.0.1/32'] },
      WEBHOOK_TIMEOUT_MS: 2_000,
      WEBHOOK_ENDPOINT_CONCURRENCY: PER_ENDPOINT,
      DISPATCH_POLL_INTERVAL_MS: 50,
      LOG_LEVEL: 'silent',
    });
    const plane = createControlPlane(config, silentLogger());
    dispatchers.push({ d: buildDispatcher({ config, logger: silentLogger(), plane }), close: () => closeControlPlane(plane) });
  }
  for (const { d } of dispatchers) await d.start();
  for (let e = 0; e < ENDPOINTS; e++) {
    await dispatchers[0]!.d.service.createSubscription({ url: `http://127.0.0.1:${port}/ok/${e}`, farms: [`farm-${e}`], events: ['irrigation.recommended'] });
  }
  const delivered = async () => {
    let total = 0;
    for (const { d } of dispatchers) {
      const m = await d.metrics.getSingleMetric('fieldhook_webhook_deliveries_total')!.get();
      total += m.values.find((v) => v.labels.outcome === 'succeeded')?.value ?? 0;
    }
    return total;
  };
  const t0 = performance.now();
  // Published through each instance in turn, as predictors spread over instances would.
  const publisher = (async () => {
    for (let i = 0, k = 0; i < events; i += PUBLISH_BATCH, k++) {
      const batch: PublishInput[] = [];
      for (let j = i; j < Math.min(events, i + PUBLISH_BATCH); j++) {
        batch.push({ type: 'irrigation.recommended', data: { farm: `farm-${j % ENDPOINTS}`, field: 'north', irrigate: true, depth_mm: 12.5, t: Date.now() } });
      }
      await dispatchers[k % dispatchers.length]!.d.publishMany(batch);
      await new Promise((r) => setImmediate(r));
    }
  })();
  const deadline = t0 + MAX_SECONDS * 1000;
  while ((await delivered()) < events && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const seconds = (performance.now() - t0) / 1000;
  await publisher;
  const got = await delivered();
  const perInstance: number[] = [];
  for (const { d } of dispatchers) {
    const m = await d.metrics.getSingleMetric('fieldhook_webhook_deliveries_total')!.get();
    perInstance.push(m.values.find((v) => v.labels.outcome === 'succeeded')?.value ?? 0);
  }
  const s = await ask<{ counts: { ok: number }; p50: number; p99: number }>(receiver, 'stats');
  for (const { d, close } of dispatchers) {
    await d.stop();
    await close();
  }
  rmSync(dir, { recursive: true, force: true });
  return {
    scenario,
    delivered: got,
    seconds,
    perSecond: got / seconds,
    p50: s.p50,
    p99: s.p99,
    split: `${perInstance.join(' / ')}${s.counts.ok > got ? ` (${s.counts.ok - got} received twice)` : ''}`,
  };
}

const receiver = fork(join(import.meta.dirname, 'deliver-receiver.ts'), { execArgv: ['--import', 'tsx'] });
const { port } = await new Promise<{ port: number }>((resolve) => receiver.once('message', (m) => resolve(m as { port: number })));
const postgres = await startPostgres();
try {
  const database = (name: string) => postgres.createDatabase(name);
  // Warm-up (JIT, page caches, keep-alive sockets); not reported.
  await run('warm-up', port, receiver, undefined, 1, Math.min(1_000, EVENTS));
  await run('warm-up', port, receiver, await database('bench_warm'), 1, Math.min(1_000, EVENTS));
  const rows: Row[] = [
    await run('SQLite outbox, one dispatcher (baseline)', port, receiver, undefined, 1),
    await run('PostgreSQL outbox, one dispatcher', port, receiver, await database('bench_one'), 1),
    await run('PostgreSQL outbox, two dispatchers (one process)', port, receiver, await database('bench_two'), 2),
  ];
  const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '—');
  console.log(`\nbench:deliver-postgres — ${EVENTS} events per scenario, ${ENDPOINTS} endpoints x ${PER_ENDPOINT} in flight, ${cpus().length} CPUs, Node ${process.version}\n`);
  console.log('| scenario | delivered | s | deliveries/s | p50 ms | p99 ms | delivered by each instance |');
  console.log('|---|---:|---:|---:|---:|---:|---|');
  for (const r of rows) console.log(`| ${r.scenario} | ${r.delivered} | ${fmt(r.seconds, 2)} | ${fmt(r.perSecond)} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${r.split} |`);
  console.log(`\nPostgreSQL / SQLite, one dispatcher: ${fmt((rows[1]!.perSecond / rows[0]!.perSecond) * 100)} %`);
} finally {
  receiver.send({ cmd: 'exit' });
  await postgres.stop();
}
