/**
 * The predictor's decision state and field learning on both control-plane backends, by one
 * suite: SQLite in the data folder and PostgreSQL (the run's real server, a fresh database per
 * test). On PostgreSQL, where several predictors share the state, a fenced write lands only
 * while its instance holds the field's partition lease.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DecisionState } from '../../../services/predictor/decision.js';
import { INITIAL_FIELD_LEARNING } from '../../../services/predictor/field-learning.js';
import { createPredictorStateStore, PREDICTOR_FILE, type PredictorStateStore } from '../../../services/predictor/open-predictor-store.js';
import { openPredictorDb } from '../../../services/predictor/sqlite-predictor-store.js';
import type { PartitionFence } from '../../../services/predictor/predictor-store.js';
import { closeControlPlane, createControlPlane, type ControlPlane } from '../../../services/shared/database/control-plane.js';
import { silentLogger } from '../../../services/shared/logger.js';
import type { SqliteDatabase } from '../../../services/shared/sqlite.js';
import { createTestDatabase } from '../../helpers/postgres-database.js';

type Backend = 'sqlite' | 'postgres';

const advised = (eventId: string, at = 1_750_000_000_000): DecisionState => ({
  advice: { eventId, issuedAt: at, validUntil: at + 86_400_000, startBy: at + 3_600_000, depthMm: 21.4 },
  lastChangeAt: at,
  stale: false,
});

/** One shared store (a data folder or a database) and the instances a test opens on it. */
interface StoreFixture {
  url?: string;
  open(instance: string, fence?: PartitionFence): Promise<PredictorStateStore>;
  close(): Promise<void>;
}

async function storeFixture(backend: Backend): Promise<StoreFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'fh-predictor-store-'));
  const url = backend === 'postgres' ? await createTestDatabase('predictor_store') : undefined;
  const opened: { plane: ControlPlane; db?: SqliteDatabase }[] = [];
  return {
    ...(url ? { url } : {}),
    async open(instance, fence) {
      const plane = createControlPlane({ DATA_DIR: dir, ...(url ? { DATABASE_URL: url, INSTANCE_ID: instance } : {}) }, silentLogger());
      const entry: { plane: ControlPlane; db?: SqliteDatabase } = { plane };
      opened.push(entry);
      const store = createPredictorStateStore(plane, { instance, ...(fence ? { fence } : {}), db: () => (entry.db = openPredictorDb(join(dir, PREDICTOR_FILE))) });
      await store.open();
      return store;
    },
    async close() {
      for (const { plane, db } of opened) {
        db?.close();
        await closeControlPlane(plane);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe.each<Backend>(['sqlite', 'postgres'])('predictor decision state on %s', (backend) => {
  let fixture: StoreFixture;
  beforeEach(async () => {
    fixture = await storeFixture(backend);
  });
  afterEach(() => fixture.close());

  it('saves decision states and reads them back, all or by field, from another connection', async () => {
    const a = await fixture.open('pred-a');
    expect(await a.states.saveMany([
      { farm: 'f1', field: 'north', state: advised('evt_n') },
      { farm: 'f1', field: 'south', state: { advice: null, lastChangeAt: null, stale: true, staleSince: 1_750_000_000_000 } },
    ])).toEqual([]);
    // As a release that did not name stale episodes saved it.
    const before = Date.now();
    await a.states.save('f1', 'west', { advice: null, lastChangeAt: null, stale: true });
    await a.states.save('f2', 'east', advised('evt_e', 1_760_000_000_000));
    // Saved again: the newer state replaces the older.
    await a.states.saveMany([{ farm: 'f1', field: 'north', state: advised('evt_n2', 1_750_000_600_000) }]);

    const b = await fixture.open('pred-b');
    const all = await b.states.loadAll();
    expect([...all.keys()].sort()).toEqual(['f1/north', 'f1/south', 'f1/west', 'f2/east']);
    expect(all.get('f1/north')).toEqual(advised('evt_n2', 1_750_000_600_000));
    expect(all.get('f1/south')).toEqual({ advice: null, lastChangeAt: null, stale: true, staleSince: 1_750_000_000_000 });
    // Its episode named by when it was saved: its sensor.recovered says since when.
    expect(all.get('f1/west')?.staleSince).toBeGreaterThanOrEqual(before - 1_000);
    expect(all.get('f1/west')?.staleSince).toBeLessThanOrEqual(Date.now() + 1_000);
    const some = await b.states.loadMany(['f2/east', 'f1/nowhere', 'f1/south']);
    expect([...some.keys()].sort()).toEqual(['f1/south', 'f2/east']);
    expect(some.get('f2/east')).toEqual(advised('evt_e', 1_760_000_000_000));
    expect((await b.states.loadMany([])).size).toBe(0);
  });

  it('saves what fields learnt beside their decision state', async () => {
    const a = await fixture.open('pred-a');
    const learnt = { ...INITIAL_FIELD_LEARNING, sxx: 120.5, sxy: 80.25, sqq: 60, dryDays: 3, lastDayEnd: 1_750_000_000_000, lastOutcome: 'dry', lastRatio: 0.66 };
    await a.learning.saveMany([{ farm: 'f1', field: 'north', state: learnt }]);
    const b = await fixture.open('pred-b');
    expect((await b.learning.loadAll()).get('f1/north')).toEqual(learnt);
    expect([...(await b.learning.loadMany!(['f1/north', 'f1/south'])).keys()]).toEqual(['f1/north']);
  });

  if (backend === 'postgres') {
    /** A lease row as partition-membership.ts writes it. */
    const lease = async (partition: number, holder: string | null, expiresAt: number) => {
      const admin = new pg.Client({ connectionString: fixture.url });
      await admin.connect();
      try {
        await admin.query(
          `INSERT INTO predictor_partitions (partition, holder, expires_at, epoch) VALUES ($1, $2, $3, 1)
           ON CONFLICT (partition) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at, epoch = predictor_partitions.epoch + 1`,
          [partition, holder, expiresAt],
        );
      } finally {
        await admin.end();
      }
    };

    it('writes a fenced field only while its instance holds the partition lease, so a moved field is never overwritten by its old holder', async () => {
      let now = 1_000_000;
      // north is in partition 0, south in 1.
      const fence = (): PartitionFence => ({ partitionOf: (key) => (key.endsWith('north') ? 0 : 1), now: () => now });
      const a = await fixture.open('pred-a', fence());
      const b = await fixture.open('pred-b', fence());
      await lease(0, 'pred-a', now + 20_000);
      await lease(1, 'pred-b', now + 20_000);
      // a holds north's partition, not south's.
      expect(await a.states.saveMany([
        { farm: 'f', field: 'north', state: advised('evt_a_n') },
        { farm: 'f', field: 'south', state: advised('evt_a_s') },
      ])).toEqual(['f/south']);
      expect([...(await b.states.loadAll()).keys()]).toEqual(['f/north']);

      // a's lease runs out; b takes the partition over and decides.
      now += 20_000;
      expect(await a.states.saveMany([{ farm: 'f', field: 'north', state: advised('evt_a_late') }])).toEqual(['f/north']);
      await lease(0, 'pred-b', now + 20_000);
      expect(await b.states.saveMany([{ farm: 'f', field: 'north', state: advised('evt_b_n') }])).toEqual([]);
      // a's late write is refused: the advice in force is b's.
      expect(await a.states.saveMany([{ farm: 'f', field: 'north', state: advised('evt_a_later') }])).toEqual(['f/north']);
      expect(await a.learning.saveMany([{ farm: 'f', field: 'north', state: INITIAL_FIELD_LEARNING }])).toEqual(['f/north']);
      expect((await a.states.loadAll()).get('f/north')?.advice?.eventId).toBe('evt_b_n');
      // A released partition (no holder) takes no write either.
      await lease(1, null, 0);
      expect(await b.states.saveMany([{ farm: 'f', field: 'south', state: advised('evt_b_s') }])).toEqual(['f/south']);
    });

    it('fences by the lease as taken: a write under a lease since handed on and taken back is refused', async () => {
      const now = 1_000_000;
      const epochOf = async (partition: number) => {
        const admin = new pg.Client({ connectionString: fixture.url });
        await admin.connect();
        try {
          return Number((await admin.query<{ epoch: string }>('SELECT epoch FROM predictor_partitions WHERE partition = $1', [partition])).rows[0]!.epoch);
        } finally {
          await admin.end();
        }
      };
      let first = 0;
      // a's write was made under the lease it took first, and reaches the database only after
      // the partition went to b and came back to a.
      const late = await fixture.open('pred-a', { partitionOf: () => 0, now: () => now, epochOf: () => first });
      await lease(0, 'pred-a', now + 20_000);
      first = await epochOf(0);
      expect(await late.states.saveMany([{ farm: 'f', field: 'north', state: advised('evt_a_1') }])).toEqual([]);
      await lease(0, 'pred-b', now + 20_000);
      await lease(0, 'pred-a', now + 20_000);
      expect(await late.states.saveMany([{ farm: 'f', field: 'north', state: advised('evt_a_stale') }])).toEqual(['f/north']);
      const current = await fixture.open('pred-a', { partitionOf: () => 0, now: () => now, epochOf: () => first + 2 });
      expect(await current.states.saveMany([{ farm: 'f', field: 'north', state: advised('evt_a_2') }])).toEqual([]);
      expect((await current.states.loadAll()).get('f/north')?.advice?.eventId).toBe('evt_a_2');
    });
  }
});
