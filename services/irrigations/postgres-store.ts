/**
 * Irrigation records in PostgreSQL, shared by every instance (`FIELDHOOK_DATABASE_URL`). A record
 * is committed before it is acknowledged, as on SQLite; the idempotency key is unique across
 * instances, so a retry that lands on another instance replays the first answer.
 *
 * Every instance's forwarder drains the same two cursors: a record recorded on one instance is
 * sent by it at once and found by the others' polls only if it is still pending then. A record
 * sent twice is harmless: InfluxDB overwrites the same point and the predictor de-duplicates
 * records by id.
 */
import type pg from 'pg';
import type { PostgresPlane } from '../shared/database/control-plane.js';
import type { PostgresMigration } from '../shared/database/migrations.js';
import { orUnavailable } from '../shared/database/postgres.js';
import {
  IRRIGATION_COLUMNS,
  newIrrigationId,
  presentIrrigation,
  replayOf,
  type ForwardTarget,
  type IrrigationRepository,
  type IrrigationRow,
} from './store.js';

/** The irrigation records' store name in `fieldhook_migrations`. */
export const IRRIGATIONS_STORE = 'irrigations';

/** The same data as irrigations.db (store.ts); times are epoch ms (BIGINT) as there. Append steps, never edit one. */
export const IRRIGATIONS_MIGRATIONS: readonly PostgresMigration[] = [
  {
    name: 'irrigation records and forwarding cursors',
    sql: `
      CREATE TABLE irrigation (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        farm TEXT NOT NULL, field TEXT NOT NULL,
        depth_mm DOUBLE PRECISION NOT NULL, start_ts BIGINT NOT NULL, end_ts BIGINT NOT NULL,
        source TEXT NOT NULL, who TEXT NOT NULL, recorded_at BIGINT NOT NULL,
        idempotency_scope TEXT, idempotency_key TEXT, digest TEXT NOT NULL,
        influx_at BIGINT, bus_at BIGINT
      );
      CREATE UNIQUE INDEX irrigation_idempotency ON irrigation (idempotency_scope, idempotency_key) WHERE idempotency_key IS NOT NULL;
      CREATE INDEX irrigation_field_end ON irrigation (farm, field, end_ts);
      CREATE INDEX irrigation_influx_pending ON irrigation (seq) WHERE influx_at IS NULL;
      CREATE INDEX irrigation_bus_pending ON irrigation (seq) WHERE bus_at IS NULL;`,
  },
];

/** BIGINT arrives as a string. */
type PgRow = Omit<IrrigationRow, 'start_ts' | 'end_ts' | 'recorded_at'> & { start_ts: string; end_ts: string; recorded_at: string };
const rowOf = (r: PgRow): IrrigationRow => ({ ...r, start_ts: Number(r.start_ts), end_ts: Number(r.end_ts), recorded_at: Number(r.recorded_at) });

// Column names are fixed per target, never taken from input.
const CURSOR: Record<ForwardTarget, string> = { influx: 'influx_at', bus: 'bus_at' };

/** Every time here comes in with the call (recordedAt, the forwarder's `at`): no clock of its own. */
export function createPostgresIrrigations(plane: PostgresPlane): IrrigationRepository {
  const { pool, shownUrl } = plane.postgres;
  let opening: Promise<void> | undefined;
  // The ingestor's broker may hand over a valve controller's report before the component starts:
  // whatever comes first migrates, the rest wait for it; a failed attempt is tried again.
  const ready = () =>
    (opening ??= plane.migrate(IRRIGATIONS_STORE, IRRIGATIONS_MIGRATIONS).catch((err: unknown) => {
      opening = undefined;
      throw err;
    }));
  /** One statement, once the store is ready; a database failure is FH_ERR_DATABASE_UNAVAILABLE (503). */
  const query = <R extends object = PgRow>(doing: string, sql: string, params: unknown[] = []) =>
    orUnavailable(
      ready().then(() => pool.query<R & pg.QueryResultRow>(sql, params)),
      shownUrl,
      doing,
    );
  const rows = async (doing: string, sql: string, params: unknown[]) => (await query(doing, sql, params)).rows.map(rowOf);

  return {
    open: ready,
    async record(input, idem) {
      const { farm, field, depthMm, startTs, endTs, source, who, recordedAt, digest } = input;
      // One statement: of two requests with one key (on any instances), one inserts and the other
      // waits for its commit, inserts nothing, and replays it.
      const inserted = await rows(
        'record an irrigation',
        `INSERT INTO irrigation (id, farm, field, depth_mm, start_ts, end_ts, source, who, recorded_at, idempotency_scope, idempotency_key, digest)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (idempotency_scope, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
         RETURNING ${IRRIGATION_COLUMNS}`,
        [newIrrigationId(), farm, field, depthMm, startTs, endTs, source, who, recordedAt, idem?.scope ?? null, idem?.key ?? null, digest],
      );
      if (inserted[0]) return { record: presentIrrigation(inserted[0]), replayed: false };
      const [existing] = await rows('read an irrigation', `SELECT ${IRRIGATION_COLUMNS} FROM irrigation WHERE idempotency_scope = $1 AND idempotency_key = $2`, [idem!.scope, idem!.key]);
      return replayOf(existing!, input, idem!);
    },
    async list(filter = {}) {
      const where: string[] = [];
      const params: (string | number)[] = [];
      const add = (sql: string, value: string | number) => where.push(`${sql} $${params.push(value)}`);
      if (filter.farm !== undefined) add('farm =', filter.farm);
      if (filter.field !== undefined) add('field =', filter.field);
      if (filter.since !== undefined) add('end_ts >=', filter.since);
      const limit = `$${params.push(filter.limit ?? 1000)}`;
      const sql = `SELECT ${IRRIGATION_COLUMNS} FROM (SELECT * FROM irrigation ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY end_ts DESC, seq DESC LIMIT ${limit}) newest ORDER BY end_ts, seq`;
      return (await rows('list irrigations', sql, params)).map(presentIrrigation);
    },
    async pending(target, limit) {
      const sql = `SELECT ${IRRIGATION_COLUMNS} FROM irrigation WHERE ${CURSOR[target]} IS NULL ORDER BY seq LIMIT $1`;
      return (await rows('read the irrigations to forward', sql, [limit])).map(presentIrrigation);
    },
    async markForwarded(target, ids, at) {
      // The first instance to send a record keeps its time.
      await query('move the forwarding cursor', `UPDATE irrigation SET ${CURSOR[target]} = $1 WHERE id = ANY($2) AND ${CURSOR[target]} IS NULL`, [at, ids]);
    },
    async pendingCount(target) {
      const { rows: counted } = await query<{ n: string }>('count the irrigations to forward', `SELECT count(*) AS n FROM irrigation WHERE ${CURSOR[target]} IS NULL`);
      return Number(counted[0]!.n);
    },
    // The pool is the control plane's: closed with it.
    close: () => {},
  };
}
