/**
 * Predictor membership and partition leases in PostgreSQL (tables of the `predictor` store,
 * postgres-predictor-store.ts): the only module that writes them (postgres-field-views.ts reads
 * who holds what for the status page and the chat). Times are epoch ms on the
 * caller's clock, passed in, so the same rules hold for every instance and for tests on a manual
 * clock; instances must keep their clocks together (NTP) well within a lease's margin.
 */
import type { PostgresPlane } from '../shared/database/control-plane.js';
import { databaseUnavailable, inTransaction, orUnavailable } from '../shared/database/postgres.js';
import { Errors } from '../shared/error-catalog.js';
import { claimHolders, lockPartitionModes } from './partition-modes.js';
import { PREDICTOR_MIGRATIONS, PREDICTOR_STORE } from './postgres-predictor-store.js';

export interface PartitionHolder {
  partition: number;
  holder: string;
  expiresAt: number;
}

export interface PartitionLease {
  partition: number;
  /** Counts the changes of holder: a write fenced with it lands only under this very lease. */
  epoch: number;
}

export interface PartitionLeases {
  open(): Promise<void>;
  /**
   * Say `instance` is alive until `until`; refused (FH_ERR_PREDICT_PARTITION_TAKEN, naming the
   * holders) while a predictor claims partitions in this database (partition-modes.ts).
   */
  heartbeat(instance: string, now: number, until: number): Promise<void>;
  /** The ids of live members (their heartbeat not yet expired at `now`), sorted. */
  members(now: number): Promise<string[]>;
  /**
   * Take the partitions whose lease is free or expired at `now` (or already `instance`'s) until
   * `until`; returns those taken with their epoch (it changes whenever the holder does).
   */
  acquire(instance: string, partitions: readonly number[], now: number, until: number): Promise<PartitionLease[]>;
  /** Extend `instance`'s leases that are still its own; returns those extended (a missing one was taken over). */
  renew(instance: string, partitions: readonly number[], now: number, until: number): Promise<number[]>;
  /** Give partitions up at once (a graceful hand-over): others may take them without waiting. */
  release(instance: string, partitions: readonly number[]): Promise<void>;
  /** Leave: the member's row and every lease it holds go. */
  leave(instance: string): Promise<void>;
  /** Who holds what at `now` (live leases only). */
  holders(now: number): Promise<PartitionHolder[]>;
}

export function createPostgresPartitionLeases(plane: PostgresPlane): PartitionLeases {
  const { pool, shownUrl } = plane.postgres;
  const query = async <R extends object>(doing: string, sql: string, params: unknown[]): Promise<R[]> => {
    try {
      return (await pool.query<R>(sql, params)).rows;
    } catch (err) {
      throw databaseUnavailable(err, shownUrl, doing);
    }
  };
  return {
    open: () => plane.migrate(PREDICTOR_STORE, PREDICTOR_MIGRATIONS),
    async heartbeat(instance, now, until) {
      // A member while no predictor claims partitions in this database (partition-modes.ts):
      // looked at and written under the lock a claim looks at the members under.
      const claims = await orUnavailable(
        inTransaction(pool, async (c) => {
          await lockPartitionModes(c);
          const held = await claimHolders(c);
          if (held.length === 0) {
            await c.query(`INSERT INTO predictor_members (instance, expires_at, joined_at) VALUES ($1, $2, $3)
               ON CONFLICT (instance) DO UPDATE SET expires_at = EXCLUDED.expires_at`, [instance, until, now]);
          }
          return held;
        }),
        shownUrl,
        'renew predictor membership',
      );
      if (claims.length > 0) {
        throw Errors.predictPartitionTaken(
          `Predictor partitions are claimed in this database by ${claims.join(', ')} (partitions set by hand, or an instance whose ingestor runs the embedded broker evaluating every field): ` +
            'this predictor with FIELDHOOK_PREDICT_PARTITIONS=auto would advise their fields too, so it takes none. ' +
            'Give that predictor FIELDHOOK_PREDICT_PARTITIONS=auto and the same external broker (FIELDHOOK_MQTT_URL), or run that instance with FIELDHOOK_PREDICT_ENABLED=false',
        );
      }
    },
    async members(now) {
      const rows = await query<{ instance: string }>('read predictor members', 'SELECT instance FROM predictor_members WHERE expires_at > $1 ORDER BY instance', [now]);
      return rows.map((r) => r.instance);
    },
    async acquire(instance, partitions, now, until) {
      if (partitions.length === 0) return [];
      // One statement: a free or expired row is updated, a partition never held is inserted; a
      // lease still live elsewhere matches neither and is left alone.
      const rows = await query<{ partition: number; epoch: string }>(
        'take predictor partitions',
        `INSERT INTO predictor_partitions (partition, holder, expires_at, epoch) SELECT p, $1, $3, 1 FROM unnest($4::int[]) AS p
         ON CONFLICT (partition) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at,
           epoch = predictor_partitions.epoch + CASE WHEN predictor_partitions.holder IS NOT DISTINCT FROM EXCLUDED.holder THEN 0 ELSE 1 END
         WHERE predictor_partitions.holder IS NULL OR predictor_partitions.holder = $1 OR predictor_partitions.expires_at <= $2
         RETURNING partition, epoch`,
        [instance, now, until, partitions],
      );
      return rows.map((r) => ({ partition: r.partition, epoch: Number(r.epoch) })).sort((a, b) => a.partition - b.partition);
    },
    async renew(instance, partitions, now, until) {
      if (partitions.length === 0) return [];
      // Only a lease still live is extended: one that expired may already be someone else's
      // decision, even if nobody took it yet.
      const rows = await query<{ partition: number }>(
        'renew predictor partitions',
        'UPDATE predictor_partitions SET expires_at = $3 WHERE holder = $1 AND expires_at > $2 AND partition = ANY($4::int[]) RETURNING partition',
        [instance, now, until, partitions],
      );
      return rows.map((r) => r.partition).sort((a, b) => a - b);
    },
    async release(instance, partitions) {
      if (partitions.length === 0) return;
      await query('release predictor partitions', 'UPDATE predictor_partitions SET holder = NULL, expires_at = 0 WHERE holder = $1 AND partition = ANY($2::int[])', [instance, partitions]);
    },
    async leave(instance) {
      await query('release predictor partitions', 'UPDATE predictor_partitions SET holder = NULL, expires_at = 0 WHERE holder = $1', [instance]);
      await query('leave predictor membership', 'DELETE FROM predictor_members WHERE instance = $1', [instance]);
    },
    async holders(now) {
      const rows = await query<{ partition: number; holder: string; expires_at: string }>(
        'read predictor partitions',
        'SELECT partition, holder, expires_at FROM predictor_partitions WHERE holder IS NOT NULL AND expires_at > $1 ORDER BY partition',
        [now],
      );
      return rows.map((r) => ({ partition: r.partition, holder: r.holder, expiresAt: Number(r.expires_at) }));
    },
  };
}
