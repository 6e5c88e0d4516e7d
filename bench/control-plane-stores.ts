/**
 * The control-plane stores that moved to PostgreSQL, measured on both backends in the same run:
 * SQLite in a data folder (the baseline: the embedded default) and PostgreSQL (a throw-away local
 * cluster started by the harness, on loopback, fsync off). One operation at a time, each the
 * one a request or a round pays:
 *
 * - an irrigation report with its idempotency key (the acknowledgement of HTTP, MQTT and chat);
 * - the farms of a chat user (every chat message);
 * - the list of field profiles (every scheduled predictor round), FIELDS of them;
 * - a 48-hour forecast saved (one site of an Open-Meteo pull);
 * - a forecast saved by one instance until another instance's synchronous read sees it
 *   (PostgreSQL only: on SQLite every instance has its own).
 *
 * `npx tsx bench/control-plane-stores.ts` (BENCH_N operations, default 1,000). Not part of the test run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres } from '../infra/harness/postgres.js';
import { createChatUserRepository } from '../services/chat/open-users.js';
import { createForecastRepository } from '../services/forecasts/open-store.js';
import { createIrrigationRepository } from '../services/irrigations/open-store.js';
import { parseIrrigationInput } from '../services/irrigations/record.js';
import { createFieldProfileRepository } from '../services/predictor/open-field-profiles.js';
import { openPredictorDb } from '../services/predictor/sqlite-predictor-store.js';
import { systemClock } from '../services/shared/clock.js';
import { closeControlPlane, createControlPlane, type ControlPlaneSettings } from '../services/shared/database/control-plane.js';
import { silentLogger } from '../services/shared/logger.js';
import { printTimed, time, untilTrue, type TimedRow } from './lib/timing.js';

const N = Number(process.env.BENCH_N ?? 1_000);
const FIELDS = 200;
const PROPAGATIONS = 100;
const T0 = Date.parse('2026-07-06T00:00:00Z');
const H = 3_600_000;
const progress = (what: string) => process.stderr.write(`${what}\n`);

async function measure(backend: string, settings: ControlPlaneSettings): Promise<TimedRow[]> {
  const logger = silentLogger();
  const planes = [createControlPlane(settings, logger), createControlPlane(settings, logger)];
  const [plane, other] = planes as [typeof planes[0], typeof planes[0]];
  const db = openPredictorDb(join(settings.DATA_DIR, 'predictor.db'));
  const irrigations = createIrrigationRepository(plane);
  const users = createChatUserRepository(plane, systemClock);
  const fields = createFieldProfileRepository(plane, { clock: systemClock, db: () => db });
  const forecasts = createForecastRepository(plane, logger);
  const elsewhere = createForecastRepository(other, logger);
  for (const store of [irrigations, users, fields, forecasts, elsewhere]) await store.open();
  const rows: TimedRow[] = [];
  const timed = async (row: Promise<TimedRow>) => {
    rows.push(await row);
    progress(`${backend}: ${rows.at(-1)!.what}`);
  };
  try {
    const facts = parseIrrigationInput({ farm: 'f1', field: 'north', depth_mm: 12, end: new Date(T0).toISOString() }, T0);
    await timed(time('irrigation report (idempotency key)', backend, N, (i) => irrigations.record({ ...facts, source: 'api', who: 'admin', recordedAt: T0 }, { scope: 'admin', key: `k-${i}` })));
    for (let u = 0; u < 100; u++) await users.add('slack', `U${u}`, `farm-${u % 10}`);
    await timed(time('farms of a chat user', backend, N, (i) => users.farmsOf('slack', `U${i % 100}`)));
    for (let f = 0; f < FIELDS; f++) {
      await fields.add({ farm: `farm-${f % 10}`, field: `field-${f}`, crop: 'tomato', soil: 'loam', sowingDate: '2026-04-01', efficiency: 0.9, latitudeDeg: 45, longitudeDeg: 9, elevationM: 100 });
    }
    await timed(time(`list of ${FIELDS} field profiles`, backend, Math.min(N, 500), () => fields.list()));
    const forecast = (i: number) => ({ farm: `farm-${i % 50}`, issuedAt: T0 + i, source: 'bench', hours: Array.from({ length: 48 }, (_, h) => ({ ts: T0 + (h + 1) * H, rainMm: (i % 7) / 10, et0Mm: 0.2 })) });
    await timed(time('48-hour forecast saved', backend, Math.min(N, 500), (i) => forecasts.save(forecast(i))));
    let issued = 0;
    if (settings.DATABASE_URL) {
      await timed(
        time('forecast saved → another instance reads it', backend, PROPAGATIONS, async (i) => {
          // Each issue newer than the last (warm-up calls come first with higher indexes).
          const rain = 100 + i;
          await forecasts.save({ farm: 'seen', issuedAt: T0 + ++issued, source: 'bench', hours: [{ ts: T0 + H, rainMm: rain }] });
          await untilTrue(() => elsewhere.hours('seen', 'x', T0, T0 + H)[0]?.rainMm === rain);
        }),
      );
    }
  } finally {
    for (const store of [irrigations, users, fields, forecasts, elsewhere]) await store.close();
    db.close();
    for (const p of planes) await closeControlPlane(p);
  }
  return rows;
}

const dir = mkdtempSync(join(tmpdir(), 'fh-bench-stores-'));
const postgres = await startPostgres();
try {
  const rows = [
    ...(await measure('SQLite (baseline)', { DATA_DIR: join(dir, 'sqlite') })),
    ...(await measure('PostgreSQL', { DATA_DIR: join(dir, 'postgres'), DATABASE_URL: await postgres.createDatabase('bench_stores') })),
  ];
  console.log(`control-plane stores: ${N} operations each (profile lists and forecasts at most 500), one at a time, per backend\n`);
  printTimed(rows);
} finally {
  await postgres.stop();
  rmSync(dir, { recursive: true, force: true });
}
