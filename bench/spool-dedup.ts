/**
 * `npx tsx bench/spool-dedup.ts`: what the spool's de-duplication keys cost, kept in one B-tree
 * (pruned by a sweep in key order, `pruneDedup`) against the same store with the `seen_at` index
 * it had before (pruned by `DELETE … WHERE seen_at < ?` through that index), in alternating rounds.
 *
 * Each round starts a spool file (WAL, `synchronous=FULL`, as `fieldhook start` opens it), records
 * BENCH_KEYS (default 1,000,000) keys spread over 72 hours of a fake clock with the hourly prune,
 * as a running ingestor would, then measures 200,000 readings more (appends of 100 readings from 50
 * devices, five appends per transaction, as group commit makes them under load) and the prunes of
 * the next BENCH_PRUNE_HOURS (default 24) hours. CPU of this process (user + system); medians of
 * BENCH_ROUNDS (default 3) rounds per variant.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { NormalizedReading } from '../services/ingestor/reading.js';
import { createSpoolStore, encodeAppend, type EncodedAppend, type SpoolStore } from '../services/ingestor/spool/spool-store.js';
import { BUS_CONSUMER, INFLUX_CONSUMER } from '../services/ingestor/spool/spool.js';

const KEYS = Number(process.env.BENCH_KEYS ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PRUNE_HOURS = Number(process.env.BENCH_PRUNE_HOURS ?? 24);
const MEASURED = 200_000;
const BATCH = 100;
const PER_TRANSACTION = 5;
const DEVICES = 50;
const HOUR = 3_600_000;
const WINDOW = 72 * HOUR;

function appends(from: number, count: number, tag: string): EncodedAppend[] {
  const out: EncodedAppend[] = [];
  for (let i = from; i < from + count; i += BATCH) {
    const readings: NormalizedReading[] = [];
    for (let k = i; k < Math.min(from + count, i + BATCH); k++) {
      const d = k % DEVICES;
      readings.push({ device: `b-${d}`, farm: 'farm-1', field: `field-${d % 5}`, id: `${tag}-${k}`, ts: 1_783_000_000_000 + k, values: { soil_moisture: 0.231, battery_voltage: 3.7, rssi: -70 } });
    }
    out.push(encodeAppend({ readings, correlationId: `c-${tag}-${i}` }));
  }
  return out;
}

function appendAll(store: SpoolStore, requests: EncodedAppend[]): void {
  for (let i = 0; i < requests.length; i += PER_TRANSACTION) store.appendBatch(requests.slice(i, i + PER_TRANSACTION));
}

const cpuMs = (since: NodeJS.CpuUsage) => {
  const c = process.cpuUsage(since);
  return (c.user + c.system) / 1000;
};

interface Round { appendUs: number; pruneMsPerHour: number; wholeUsPerKey: number }

function round(indexed: boolean): Round {
  const dir = mkdtempSync(join(tmpdir(), 'fh-spool-dedup-'));
  const path = join(dir, 'spool.db');
  let now = 1_000_000;
  const store = createSpoolStore({ path, consumers: [INFLUX_CONSUMER, BUS_CONSUMER], now: () => now });
  // The baseline: the index and the prune the store had before.
  const side = indexed ? new Database(path) : undefined;
  side?.exec('CREATE INDEX dedup_seen_at ON dedup (seen_at)');
  const pruneByAge = side?.prepare('DELETE FROM dedup WHERE seen_at < ?');
  const prune = () => (pruneByAge ? pruneByAge.run(now - WINDOW).changes : store.pruneDedup(WINDOW));

  const whole = process.cpuUsage();
  const perHour = Math.ceil(KEYS / 72 / BATCH) * BATCH;
  for (let h = 0; h < 72; h++) {
    appendAll(store, appends(0, perHour, `h${h}`));
    now += HOUR;
    prune();
  }
  const measured = appends(0, MEASURED, 'm');
  const t0 = process.cpuUsage();
  appendAll(store, measured);
  const appendMs = cpuMs(t0);
  const t1 = process.cpuUsage();
  for (let h = 0; h < PRUNE_HOURS; h++) {
    now += HOUR;
    prune();
  }
  const pruneMs = cpuMs(t1);
  const wholeMs = cpuMs(whole);
  side?.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
  return { appendUs: (appendMs * 1000) / MEASURED, pruneMsPerHour: pruneMs / PRUNE_HOURS, wholeUsPerKey: (wholeMs * 1000) / (perHour * 72 + MEASURED) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const oneTree: Round[] = [];
const withIndex: Round[] = [];
for (let r = 0; r < ROUNDS; r++) {
  withIndex.push(round(true));
  oneTree.push(round(false));
  console.log(`round ${r + 1}/${ROUNDS}: one B-tree ${oneTree[r]!.appendUs.toFixed(2)} µs per reading, with the seen_at index ${withIndex[r]!.appendUs.toFixed(2)}`);
}
const row = (name: string, rounds: Round[]) => {
  const cell = (f: (x: Round) => number, digits: number, unit: string) =>
    `${median(rounds.map(f)).toFixed(digits)} ${unit} (${Math.min(...rounds.map(f)).toFixed(digits)}–${Math.max(...rounds.map(f)).toFixed(digits)})`;
  return `| ${name} | ${cell((x) => x.appendUs, 2, 'µs')} | ${cell((x) => x.pruneMsPerHour, 1, 'ms')} | ${cell((x) => x.wholeUsPerKey, 2, 'µs')} |`;
};
console.log(`\n${KEYS.toLocaleString('en')} keys over 72 h, then ${MEASURED.toLocaleString('en')} readings (appends of ${BATCH}, ${PER_TRANSACTION} per transaction) and ${PRUNE_HOURS} hourly prunes; ${ROUNDS} rounds, median (range)\n`);
console.log('| de-duplication keys | append, CPU per reading | prune, CPU per hour | whole run, CPU per key |');
console.log('|---|---:|---:|---:|');
console.log(row('one B-tree, swept in key order', oneTree));
console.log(row('with the seen_at index (before)', withIndex));
