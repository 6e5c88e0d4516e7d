/**
 * What the status page and the chat pay to show every field where predictors share them on
 * PostgreSQL (services/predictor/field-views.ts), measured in the same run against the baseline
 * of reading each field's saved state on its own (one decision-state and one learning lookup per
 * field, the store's `loadMany` with one key), on a throw-away local cluster started by the
 * harness, on loopback. Half of the fields are evaluated by this instance (from memory), half by
 * another one. The page polls every 15 s per viewer.
 * `npx tsx bench/field-views.ts [fields…]` (default 200 2000). Not part of the test run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres } from '../infra/harness/postgres.js';
import type { DecisionState } from '../services/predictor/decision.js';
import { INITIAL_FIELD_LEARNING } from '../services/predictor/field-learning.js';
import { fieldKey, type FieldSettings } from '../services/predictor/field-profiles.js';
import { createFieldViews, type LocalField } from '../services/predictor/field-views.js';
import { fieldHash } from '../services/predictor/partition.js';
import { AUTO_PARTITIONS } from '../services/predictor/partition-assignment.js';
import { createPostgresFieldProfiles } from '../services/predictor/postgres-field-profiles.js';
import { createPostgresFieldStateReader } from '../services/predictor/postgres-field-views.js';
import { createPostgresPartitionLeases } from '../services/predictor/postgres-partition-leases.js';
import { createPostgresPredictorStore } from '../services/predictor/postgres-predictor-store.js';
import { systemClock } from '../services/shared/clock.js';
import { closeControlPlane, createControlPlane, type PostgresPlane } from '../services/shared/database/control-plane.js';
import { silentLogger } from '../services/shared/logger.js';
import { printTimed, time, type TimedRow } from './lib/timing.js';

const SIZES = process.argv.slice(2).map(Number).filter((n) => n > 0);
const NOW = Date.parse('2026-07-06T12:00:00Z');

const settings = (field: string): FieldSettings => ({
  farm: 'bench', field, crop: 'tomato', soil: 'loam', sowingDate: '2026-05-01', efficiency: 0.8, latitudeDeg: 45, longitudeDeg: 0, elevationM: 50,
});
const state = (i: number): DecisionState => ({ advice: { eventId: `evt_${i}`, issuedAt: NOW - 3_600_000, validUntil: NOW + 3_600_000, startBy: NOW, depthMm: 18 }, lastChangeAt: NOW, stale: false });

async function measure(fields: number, url: string): Promise<TimedRow[]> {
  const plane = createControlPlane({ DATA_DIR: dir, DATABASE_URL: url, INSTANCE_ID: 'bench' }, silentLogger()) as PostgresPlane;
  const profiles = createPostgresFieldProfiles(plane, systemClock);
  const store = createPostgresPredictorStore(plane, 'pred-b');
  const leases = createPostgresPartitionLeases(plane);
  try {
    await store.open();
    await profiles.open();
    const all = Array.from({ length: fields }, (_, i) => settings(`f${String(i).padStart(5, '0')}`));
    for (const s of all) await profiles.add(s);
    await store.states.saveMany(all.map((s, i) => ({ farm: s.farm, field: s.field, state: state(i) })));
    await store.learning.saveMany(all.map((s) => ({ farm: s.farm, field: s.field, state: { ...INITIAL_FIELD_LEARNING, sxx: 400, sxy: 300, sqq: 240, dryDays: 9, lastDayEnd: NOW, lastOutcome: 'dry' } })));
    const partitions = Array.from({ length: AUTO_PARTITIONS }, (_, p) => p);
    await leases.acquire('pred-a', partitions.filter((p) => p % 2 === 0), NOW, NOW + 1e12);
    await leases.acquire('pred-b', partitions.filter((p) => p % 2 === 1), NOW, NOW + 1e12);
    const partitionOf = (key: string) => fieldHash(key) % AUTO_PARTITIONS;
    // This instance (pred-a) evaluates the even partitions: those fields come from memory.
    const local: LocalField[] = all.filter((s) => partitionOf(fieldKey(s.farm, s.field)) % 2 === 0).map((s, i) => ({ settings: s, state: state(i), learning: null }));
    const views = createFieldViews({
      instance: 'pred-a',
      local: () => local,
      mode: 'auto',
      partitionOf,
      shared: { profiles, state: createPostgresFieldStateReader(plane, { learning: true, holders: 'leases' }), now: () => NOW, learnField: true },
    });
    if ((await views.read()).length !== fields) throw new Error('field views miss fields');
    const backend = `PostgreSQL, ${fields} fields`;
    const n = fields >= 2000 ? 20 : 100;
    return [
      await time('field views (one statement)', backend, n, () => views.read()),
      // What the page paid before: this instance's fields from memory, the others missing.
      await time('local fields only (before)', backend, n, async () => views.local()),
      await time('baseline: one lookup per field', backend, Math.max(3, n / 10), async () => {
        for (const s of all) {
          const key = fieldKey(s.farm, s.field);
          await store.states.loadMany([key]);
          await store.learning.loadMany!([key]);
        }
      }),
    ];
  } finally {
    await profiles.close();
    await closeControlPlane(plane);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'fh-bench-field-views-'));
const postgres = await startPostgres();
try {
  const rows: TimedRow[] = [];
  for (const fields of SIZES.length > 0 ? SIZES : [200, 2000]) rows.push(...(await measure(fields, await postgres.createDatabase(`bench_field_views_${fields}`))));
  console.log('field views of the status page and the chat: every field, half evaluated by another instance (median of repeated reads, one at a time)\n');
  printTimed(rows);
} finally {
  await postgres.stop();
  rmSync(dir, { recursive: true, force: true });
}
