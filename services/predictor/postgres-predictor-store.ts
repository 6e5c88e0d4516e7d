/**
 * The predictor's decision state and field learning on PostgreSQL, shared by every predictor
 * instance (`FIELDHOOK_DATABASE_URL`): the same contract as `sqlite-predictor-store.ts`, so a
 * field that moves to another instance takes its advice in force and what it learnt along.
 * With a fence, a write lands only while the writer holds the field's partition lease: the
 * lease row is locked `FOR SHARE` in the writing statement, so a takeover (which updates that
 * row) waits for a write in flight and every later write of the old holder is refused.
 */
import type pg from 'pg';
import type { PostgresPlane } from '../shared/database/control-plane.js';
import type { PostgresMigration } from '../shared/database/migrations.js';
import { databaseUnavailable } from '../shared/database/postgres.js';
import { loadedState, type DecisionState } from './decision.js';
import type { FieldLearningState } from './field-learning.js';
import type { DecisionStateRepository, FieldEntry, FieldLearningRepository, PartitionFence, StateWriteOptions } from './predictor-store.js';

/** The predictor's store name in `fieldhook_migrations`. */
export const PREDICTOR_STORE = 'predictor';

/** The predictor's schema on PostgreSQL: per-field state, and the members and partition leases that share it out. */
export const PREDICTOR_MIGRATIONS: readonly PostgresMigration[] = [
  {
    name: 'decision state, field learning, members and partition leases',
    sql: `
      CREATE TABLE predictor_decision_state (
        farm TEXT NOT NULL, field TEXT NOT NULL, state JSONB NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL DEFAULT now(), updated_by TEXT NOT NULL,
        PRIMARY KEY (farm, field)
      );
      CREATE TABLE predictor_field_learning (
        farm TEXT NOT NULL, field TEXT NOT NULL, state JSONB NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL DEFAULT now(), updated_by TEXT NOT NULL,
        PRIMARY KEY (farm, field)
      );
      -- Live predictors: each renews its row on every heartbeat; expires_at is epoch ms on the
      -- member's clock (instances keep NTP time).
      CREATE TABLE predictor_members (
        instance TEXT PRIMARY KEY,
        expires_at BIGINT NOT NULL,
        joined_at BIGINT NOT NULL
      );
      -- One row per partition ever held: its holder (NULL once released) and until when. epoch
      -- counts the changes of holder: the token a holder's writes are fenced with.
      CREATE TABLE predictor_partitions (
        partition INTEGER PRIMARY KEY CHECK (partition >= 0),
        holder TEXT,
        expires_at BIGINT NOT NULL DEFAULT 0,
        epoch BIGINT NOT NULL DEFAULT 0
      );
    `,
  },
];

type Table = 'predictor_decision_state' | 'predictor_field_learning';

/**
 * Decision state and learning on `plane`, written by `instance`; `open()` applies the
 * migrations. With `fence`, a field's write needs `instance`'s lease on its partition.
 */
export function createPostgresPredictorStore(plane: PostgresPlane, instance: string, fence?: PartitionFence, writes: StateWriteOptions = {}): {
  states: DecisionStateRepository;
  learning: FieldLearningRepository;
  open(): Promise<void>;
} {
  const { pool, shownUrl } = plane.postgres;
  const table = <S>(name: Table, loaded?: (state: S, savedAt: number) => S) => createTable<S>(pool, shownUrl, name, instance, fence, writes, loaded);
  const states = table<DecisionState>('predictor_decision_state', loadedState);
  const learning = table<FieldLearningState>('predictor_field_learning');
  return {
    states: { ...states, save: async (farm, field, state) => void (await states.saveMany([{ farm, field, state }])), close: () => {} },
    learning,
    open: () => plane.migrate(PREDICTOR_STORE, PREDICTOR_MIGRATIONS),
  };
}

function createTable<S>(pool: pg.Pool, shownUrl: string, table: Table, instance: string, fence: PartitionFence | undefined, writes: StateWriteOptions, loaded?: (state: S, savedAt: number) => S) {
  const read = async (where: string, params: unknown[]): Promise<Map<string, S>> => {
    try {
      const { rows } = await pool.query<{ farm: string; field: string; state: S; updated_at: Date }>(`SELECT farm, field, state, updated_at FROM ${table} ${where}`, params);
      return new Map(rows.map((r) => [`${r.farm}/${r.field}`, loaded ? loaded(r.state, r.updated_at.getTime()) : r.state]));
    } catch (err) {
      throw databaseUnavailable(err, shownUrl, `read ${table}`);
    }
  };
  return {
    loadAll: () => read('', []),
    async loadMany(keys: readonly string[]): Promise<Map<string, S>> {
      if (keys.length === 0) return new Map();
      // Split into farm and field, so the lookup goes by the primary key (ids hold no '/', shared/ids.ts).
      const split = keys.map((k) => [k.slice(0, k.indexOf('/')), k.slice(k.indexOf('/') + 1)] as const);
      return read('WHERE (farm, field) IN (SELECT * FROM unnest($1::text[], $2::text[]))', [split.map(([farm]) => farm), split.map(([, field]) => field)]);
    },
    async saveMany(entries: readonly FieldEntry<S>[]): Promise<string[]> {
      if (entries.length === 0) return [];
      const rows = entries.map((e) => {
        const partition = fence ? fence.partitionOf(`${e.farm}/${e.field}`) : 0;
        return { farm: e.farm, field: e.field, state: e.state, partition, epoch: fence?.epochOf ? (fence.epochOf(partition) ?? -1) : null };
      });
      // The lease rows are locked FOR SHARE by the statement that writes: a takeover waits for it.
      // With epochs, only the very lease this instance took counts (not one taken again since).
      const held = !fence
        ? ''
        : fence.epochOf
          ? `AND (e.partition, e.epoch) IN (SELECT partition, epoch FROM predictor_partitions WHERE holder = $2 AND expires_at > $3 FOR SHARE)`
          : `AND e.partition IN (SELECT partition FROM predictor_partitions WHERE holder = $2 AND expires_at > $3 FOR SHARE)`;
      // The profile row is locked FOR SHARE too: a removal (which deletes the profile, then the
      // state) waits for a write in flight, and a write after it finds no profile and writes nothing.
      const profiled = writes.onlyProfiled ? 'AND EXISTS (SELECT 1 FROM field_profile p WHERE p.farm = e.farm AND p.field = e.field FOR SHARE)' : '';
      let saved: { farm: string; field: string }[];
      try {
        ({ rows: saved } = await pool.query<{ farm: string; field: string }>(
          `INSERT INTO ${table} (farm, field, state, updated_at, updated_by)
           SELECT e.farm, e.field, e.state, now(), $2 FROM jsonb_to_recordset($1::jsonb) AS e(farm text, field text, state jsonb, partition int, epoch bigint)
           WHERE TRUE ${held} ${profiled}
           ON CONFLICT (farm, field) DO UPDATE SET state = EXCLUDED.state, updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by
           RETURNING farm, field`,
          fence ? [JSON.stringify(rows), instance, fence.now()] : [JSON.stringify(rows), instance],
        ));
      } catch (err) {
        throw databaseUnavailable(err, shownUrl, `save ${table}`);
      }
      const done = new Set(saved.map((r) => `${r.farm}/${r.field}`));
      const missed = entries.filter((e) => !done.has(`${e.farm}/${e.field}`));
      if (missed.length === 0 || !writes.onlyProfiled) return missed.map((e) => `${e.farm}/${e.field}`);
      // Not written: refused by the fence, or the field is gone (not refused; the next reload forgets it).
      if (!fence) return [];
      try {
        const { rows } = await pool.query<{ farm: string; field: string }>(
          'SELECT farm, field FROM field_profile WHERE (farm, field) IN (SELECT * FROM unnest($1::text[], $2::text[]))',
          [missed.map((e) => e.farm), missed.map((e) => e.field)],
        );
        const present = new Set(rows.map((r) => `${r.farm}/${r.field}`));
        return missed.map((e) => `${e.farm}/${e.field}`).filter((k) => present.has(k));
      } catch (err) {
        throw databaseUnavailable(err, shownUrl, 'read the field profiles');
      }
    },
  };
}
