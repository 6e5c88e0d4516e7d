/**
 * The heap a predictor instance spends on forecasts on PostgreSQL, previous design and current
 * one measured in the same run on one table: FIELDS fields, each with the hours the table holds
 * in steady state (7 days past, kept for `FORECAST_KEEP_MS`, and 72 ahead, an Open-Meteo pull).
 *
 * - previous design: every field's every hour, one object per hour in a map per field (the
 *   copy's shape before it was packed and predictors named their fields), rebuilt here from the
 *   same rows as that store built it;
 * - every field's every hour, packed (`following: 'all'`, a store no predictor names fields to);
 * - the fields of one instance evaluating all of them, from the current hour on;
 * - the fields of one instance of PARTITIONS (a quarter of them by default), from the current hour on.
 *
 * Memory used after a full collection, the store loaded, minus before it was created: V8 heap
 * plus the typed arrays' backing stores (the hours are packed in them, outside the heap).
 * `npx tsx bench/forecast-memory.ts` (BENCH_FIELDS, default 2,000; BENCH_PARTITIONS, default 4).
 * Not part of the test run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import pg from 'pg';
import { startPostgres } from '../infra/harness/postgres.js';
import { createForecastRepository } from '../services/forecasts/open-store.js';
import type { PostgresForecastOptions } from '../services/forecasts/postgres-store.js';
import type { FieldOfForecast } from '../services/forecasts/store.js';
import { closeControlPlane, createControlPlane } from '../services/shared/database/control-plane.js';
import { silentLogger } from '../services/shared/logger.js';

const FIELDS = Number(process.env.BENCH_FIELDS ?? 2_000);
const PARTITIONS = Number(process.env.BENCH_PARTITIONS ?? 4);
const PAST_HOURS = 168;
const AHEAD_HOURS = 72;
const H = 3_600_000;
/** "Now": the start of the current hour. */
const NOW = Date.parse('2026-07-06T12:00:00Z');

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
/** V8 heap used plus typed arrays' backing stores (outside the heap), after a full collection. */
const memoryUsed = () => {
  gc();
  gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, arrays: m.arrayBuffers };
};

const fields: FieldOfForecast[] = Array.from({ length: FIELDS }, (_, i) => ({ farm: `farm-${i % 100}`, field: `field-${i}` }));

async function measure(url: string, dir: string, what: string, options: PostgresForecastOptions, follow?: readonly FieldOfForecast[]) {
  const logger = silentLogger();
  const plane = createControlPlane({ DATA_DIR: dir, DATABASE_URL: url }, logger);
  const before = memoryUsed();
  const store = createForecastRepository(plane, logger, options);
  await store.open();
  if (follow) await store.follow!(follow, NOW - H);
  const after = memoryUsed();
  const heap = after.heap - before.heap;
  const bytes = heap + after.arrays - before.arrays;
  // Still held by the store: a read answers (and keeps it reachable until measured).
  const read = store.hours(fields[0]!.farm, fields[0]!.field, NOW, NOW + 24 * H).length;
  await store.close();
  await closeControlPlane(plane);
  const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`.padStart(9);
  console.log(`${what.padEnd(50)} ${mb(bytes)} (heap ${mb(heap)})  ${(bytes / FIELDS).toFixed(0).padStart(6)} B per fleet field  first field reads ${read} h`);
  return bytes;
}

/** The previous copy: `Map<farm\0field, Map<hour, row object>>`, filled from every row. */
async function measurePrevious(url: string): Promise<number> {
  const sql = new pg.Client({ connectionString: url });
  await sql.connect();
  const before = memoryUsed();
  const copy = new Map<string, Map<number, object>>();
  const { rows } = await sql.query<Record<string, string | number | null> & { farm: string; field: string; ts: string }>(
    'SELECT farm, field, ts, rain_mm, rain_probability, et0_mm, air_temperature, relative_humidity, wind_speed, solar_radiation, revision FROM forecast_hour ORDER BY revision',
  );
  for (const r of rows) {
    const key = `${r.farm}\u0000${r.field}`;
    let hours = copy.get(key);
    if (!hours) copy.set(key, (hours = new Map()));
    const { farm: _farm, field: _field, revision: _rev, ...hour } = r;
    hours.set(Number(r.ts), { ...hour, ts: Number(r.ts) });
  }
  rows.length = 0;
  const after = memoryUsed();
  const bytes = after.heap - before.heap + after.arrays - before.arrays;
  await sql.end();
  const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`.padStart(9);
  console.log(`${'previous: every field, every hour, objects'.padEnd(50)} ${mb(bytes)}            ${(bytes / FIELDS).toFixed(0).padStart(6)} B per fleet field  (${copy.size} fields held)`);
  return bytes;
}

const postgres = await startPostgres();
const dir = mkdtempSync(join(tmpdir(), 'fieldhook-bench-forecasts-'));
try {
  const url = await postgres.createDatabase('bench_forecast_memory');
  // The table, by a store (migrations), then filled by SQL: as many rows as a fleet leaves.
  const logger = silentLogger();
  const plane = createControlPlane({ DATA_DIR: dir, DATABASE_URL: url }, logger);
  const setup = createForecastRepository(plane, logger);
  await setup.open();
  await setup.close();
  await closeControlPlane(plane);
  const sql = new pg.Client({ connectionString: url });
  await sql.connect();
  await sql.query(
    `INSERT INTO forecast_hour (farm, field, ts, issued_at, source, rain_mm, rain_probability, et0_mm, air_temperature, relative_humidity, wind_speed, solar_radiation)
     SELECT 'farm-' || (i % 100), 'field-' || i, $1::bigint + h * $2::bigint, $1::bigint, 'open-meteo', (h % 7) * 0.3, 0.4, 0.2 + (h % 5) * 0.05, 18 + (h % 9), 60 + (h % 20), 2.5, 300 + h
     FROM generate_series(0, $3::int - 1) AS i, generate_series(-$4::int + 1, $5::int) AS h`,
    [NOW, H, FIELDS, PAST_HOURS, AHEAD_HOURS],
  );
  await sql.query('ANALYZE forecast_hour');
  await sql.end();
  console.log(`${FIELDS} fields × ${PAST_HOURS + AHEAD_HOURS} hours (${PAST_HOURS} past, ${AHEAD_HOURS} ahead) in PostgreSQL; memory used after loading:`);
  const all = await measurePrevious(url);
  await measure(url, dir, 'every field, every hour, packed', { following: 'all' });
  const one = await measure(url, dir, 'now: one instance evaluating every field', { following: 'declared' }, fields);
  const share = fields.filter((_, i) => i % PARTITIONS === 0);
  const part = await measure(url, dir, `now: one instance of ${PARTITIONS} (${share.length} fields)`, { following: 'declared' }, share);
  console.log(`ratio to previous: ${(one / all).toFixed(2)} (one instance), ${(part / all).toFixed(2)} (one of ${PARTITIONS})`);
} finally {
  await postgres.stop();
  rmSync(dir, { recursive: true, force: true });
}
