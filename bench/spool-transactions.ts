/**
 * `npx tsx bench/spool-transactions.ts`: what one spool transaction costs against what each
 * reading in it costs. The spool's store (WAL, `synchronous=FULL`, as `fieldhook start` opens
 * it) takes BENCH_READINGS (default 100,000) readings from BENCH_DEVICES (default 50) devices in
 * transactions of 25, 100 and 500 readings, the two consumers reading and committing behind it
 * every 1,000 readings as the InfluxDB writer and the bus publisher do. CPU of this process (user
 * and system) per reading, medians of BENCH_ROUNDS (default 3) rounds. Group commit decides how
 * many readings a transaction holds: as many as were handed over while the one before committed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NormalizedReading } from '../services/ingestor/reading.js';
import { createSpoolStore, encodeAppend, type EncodedAppend } from '../services/ingestor/spool/spool-store.js';
import { BUS_CONSUMER, INFLUX_CONSUMER } from '../services/ingestor/spool/spool.js';

const READINGS = Number(process.env.BENCH_READINGS ?? 100_000);
const DEVICES = Number(process.env.BENCH_DEVICES ?? 50);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SIZES = [25, 100, 500];
const CONSUMED_EVERY = 1_000;

function append(from: number, count: number): EncodedAppend {
  const readings: NormalizedReading[] = [];
  for (let k = from; k < from + count; k++) {
    readings.push({
      device: `b-${k % DEVICES}`, farm: 'bench', field: 'f1', id: `r-${k}`, ts: 1_783_000_000_000 + k,
      values: { soil_moisture: 0.2 + (k % 100) / 1000, soil_temperature: 15 + (k % 10), battery_voltage: 3.7, rssi: -70 },
    });
  }
  return encodeAppend({ readings, correlationId: '5e9c2f6a-3f0e-4c4c-9d0e-1c2b3a4d5e6f' });
}

interface Sample { user: number; system: number }

function round(perTransaction: number): Sample {
  const dir = mkdtempSync(join(tmpdir(), 'fh-spool-txn-'));
  const store = createSpoolStore({ path: join(dir, 'spool.db'), consumers: [INFLUX_CONSUMER, BUS_CONSUMER] });
  // Encoded beforehand: encoding is the ingest thread's work, not the store's.
  const appends: EncodedAppend[] = [];
  for (let i = 0; i < READINGS; i += perTransaction) appends.push(append(i, Math.min(perTransaction, READINGS - i)));
  let consumed = 0;
  const started = process.cpuUsage();
  for (let i = 0, stored = 0; i < appends.length; i++) {
    store.appendBatch([appends[i]!]);
    stored += perTransaction;
    if (stored - consumed >= CONSUMED_EVERY) {
      for (const consumer of [INFLUX_CONSUMER, BUS_CONSUMER]) {
        const records = store.read(consumer, 5_000);
        if (records.length > 0) store.commit(consumer, records.at(-1)!.seq);
      }
      consumed = stored;
    }
  }
  const cpu = process.cpuUsage(started);
  store.close();
  rmSync(dir, { recursive: true, force: true });
  return { user: cpu.user / READINGS, system: cpu.system / READINGS };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const samples = new Map<number, Sample[]>(SIZES.map((n) => [n, []]));
for (let r = 0; r < ROUNDS; r++) for (const n of SIZES) samples.get(n)!.push(round(n));

console.log(`${READINGS.toLocaleString('en-US')} readings from ${DEVICES} devices, median of ${ROUNDS} rounds (Node ${process.version})`);
console.log('| readings per transaction | spool CPU per reading | user | system |');
console.log('|---:|---:|---:|---:|');
const rows = SIZES.map((n) => {
  const s = samples.get(n)!;
  const total = median(s.map((x) => x.user + x.system));
  console.log(`| ${n} | ${total.toFixed(2)} µs | ${median(s.map((x) => x.user)).toFixed(2)} µs | ${median(s.map((x) => x.system)).toFixed(2)} µs |`);
  return { n, total };
});
// total(n) = perReading + perTransaction / n, from the smallest and largest transactions.
const [small, large] = [rows[0]!, rows.at(-1)!];
const perTransaction = (small.total - large.total) / (1 / small.n - 1 / large.n);
console.log(`\nper transaction ≈ ${perTransaction.toFixed(0)} µs (the commit: WAL frames and fsync), per reading ≈ ${(large.total - perTransaction / large.n).toFixed(2)} µs`);
