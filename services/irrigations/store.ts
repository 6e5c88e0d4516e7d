/**
 * Irrigation records on disk: the repository interface and its SQLite implementation
 * (postgres-store.ts is the PostgreSQL one). A record is committed (fsync) before it is
 * acknowledged; two forwarding cursors, one per downstream (InfluxDB, the bus), say what has
 * left, so an outage of either delays it without losing a record.
 */
import { randomBytes } from 'node:crypto';
import { openSqlite, type Migration, type SqliteDatabase } from '../shared/sqlite.js';
import { Errors } from '../shared/error-catalog.js';
import type { IrrigationFacts, IrrigationRecord, IrrigationSource } from './record.js';

/** The downstreams a record is forwarded to, each with its own cursor. */
export const FORWARD_TARGETS = ['influx', 'bus'] as const;
export type ForwardTarget = (typeof FORWARD_TARGETS)[number];

export interface NewIrrigation extends IrrigationFacts {
  source: IrrigationSource;
  who: string;
  recordedAt: number;
}

/** An idempotency key and the principal it belongs to: keys of two reporters never collide. */
export interface IdempotencyKey {
  scope: string;
  key: string;
}

export interface IrrigationRepository {
  /**
   * Store a record. With a key already used by the same principal: the stored record when the
   * request is the same (`replayed`), `FH_ERR_IRRIGATION_IDEMPOTENCY_CONFLICT` when it differs.
   */
  record(input: NewIrrigation, idempotency?: IdempotencyKey): Promise<{ record: IrrigationRecord; replayed: boolean }>;
  /** Records whose water ended at or after `since` (epoch ms), newest last. */
  list(filter?: { farm?: string; field?: string; since?: number; limit?: number }): Promise<IrrigationRecord[]>;
  /** Records not yet forwarded to `target`, oldest first. */
  pending(target: ForwardTarget, limit: number): Promise<IrrigationRecord[]>;
  markForwarded(target: ForwardTarget, ids: readonly string[], at: number): Promise<void>;
  /** How many records `target` has not taken yet. */
  pendingCount(target: ForwardTarget): Promise<number>;
  /** Ready the store (PostgreSQL migrates here); the other calls wait for it. */
  open(): Promise<void>;
  close(): void;
}

const MIGRATIONS: Migration[] = [
  (db) => {
    db.exec(`
      CREATE TABLE irrigation (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        farm TEXT NOT NULL, field TEXT NOT NULL,
        depth_mm REAL NOT NULL, start_ts INTEGER NOT NULL, end_ts INTEGER NOT NULL,
        source TEXT NOT NULL, who TEXT NOT NULL, recorded_at INTEGER NOT NULL,
        idempotency_scope TEXT, idempotency_key TEXT, digest TEXT NOT NULL,
        influx_at INTEGER, bus_at INTEGER
      );
      CREATE UNIQUE INDEX irrigation_idempotency ON irrigation (idempotency_scope, idempotency_key) WHERE idempotency_key IS NOT NULL;
      CREATE INDEX irrigation_field_end ON irrigation (farm, field, end_ts);
      CREATE INDEX irrigation_influx_pending ON irrigation (seq) WHERE influx_at IS NULL;
      CREATE INDEX irrigation_bus_pending ON irrigation (seq) WHERE bus_at IS NULL;`);
  },
];

/** A stored record as both backends read it (times epoch ms). */
export interface IrrigationRow {
  id: string;
  farm: string;
  field: string;
  depth_mm: number;
  start_ts: number;
  end_ts: number;
  source: IrrigationSource;
  who: string;
  recorded_at: number;
  digest: string;
}

export const presentIrrigation = (r: IrrigationRow): IrrigationRecord => ({
  id: r.id,
  farm: r.farm,
  field: r.field,
  depth_mm: r.depth_mm,
  start: new Date(r.start_ts).toISOString(),
  end: new Date(r.end_ts).toISOString(),
  source: r.source,
  who: r.who,
  recorded_at: new Date(r.recorded_at).toISOString(),
});

/** Refuses a key used before for another request; see {@link IrrigationRepository.record}. */
export function replayOf(existing: IrrigationRow, input: NewIrrigation, idem: IdempotencyKey): { record: IrrigationRecord; replayed: true } {
  if (existing.digest !== input.digest || existing.source !== input.source) {
    throw Errors.irrigationIdempotencyConflict(`Idempotency-Key ${JSON.stringify(idem.key.slice(0, 64))} was used for another irrigation`, { id: existing.id });
  }
  return { record: presentIrrigation(existing), replayed: true };
}

/** A new record's id. */
export const newIrrigationId = () => `irr_${randomBytes(12).toString('hex')}`;

export const IRRIGATION_COLUMNS = 'id, farm, field, depth_mm, start_ts, end_ts, source, who, recorded_at, digest';

/** `<DATA_DIR>/irrigations.db`, or `:memory:` for tests. */
export function createSqliteIrrigations(path: string): IrrigationRepository {
  // FULL: a commit here is an acknowledgement (HTTP 201, PUBACK, a chat answer).
  const db: SqliteDatabase = openSqlite(path, MIGRATIONS, { synchronous: 'FULL' });
  const insert = db.prepare(
    `INSERT INTO irrigation (id, farm, field, depth_mm, start_ts, end_ts, source, who, recorded_at, idempotency_scope, idempotency_key, digest)
     VALUES (@id, @farm, @field, @depthMm, @startTs, @endTs, @source, @who, @recordedAt, @scope, @key, @digest)`,
  );
  const byKey = db.prepare<[string, string], IrrigationRow>(`SELECT ${IRRIGATION_COLUMNS} FROM irrigation WHERE idempotency_scope = ? AND idempotency_key = ?`);
  const byId = db.prepare<[string], IrrigationRow>(`SELECT ${IRRIGATION_COLUMNS} FROM irrigation WHERE id = ?`);
  const pending = {
    influx: db.prepare<[number], IrrigationRow>(`SELECT ${IRRIGATION_COLUMNS} FROM irrigation WHERE influx_at IS NULL ORDER BY seq LIMIT ?`),
    bus: db.prepare<[number], IrrigationRow>(`SELECT ${IRRIGATION_COLUMNS} FROM irrigation WHERE bus_at IS NULL ORDER BY seq LIMIT ?`),
  };
  const count = {
    influx: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM irrigation WHERE influx_at IS NULL'),
    bus: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM irrigation WHERE bus_at IS NULL'),
  };
  const mark = {
    influx: db.prepare<[number, string]>('UPDATE irrigation SET influx_at = ? WHERE id = ?'),
    bus: db.prepare<[number, string]>('UPDATE irrigation SET bus_at = ? WHERE id = ?'),
  };
  const markMany = db.transaction((target: ForwardTarget, ids: readonly string[], at: number) => {
    for (const id of ids) mark[target].run(at, id);
  });
  // Look-up and insert in one transaction: two requests with one key cannot both insert.
  const recordTx = db.transaction((input: NewIrrigation, idem: IdempotencyKey | undefined) => {
    if (idem) {
      const existing = byKey.get(idem.scope, idem.key);
      if (existing) return replayOf(existing, input, idem);
    }
    const id = newIrrigationId();
    const { farm, field, depthMm, startTs, endTs, source, who, recordedAt, digest } = input;
    insert.run({ id, farm, field, depthMm, startTs, endTs, source, who, recordedAt, digest, scope: idem?.scope ?? null, key: idem?.key ?? null });
    return { record: presentIrrigation(byId.get(id)!), replayed: false };
  });

  return {
    async record(input, idempotency) {
      return recordTx(input, idempotency);
    },
    async list(filter = {}) {
      const where: string[] = [];
      const params: (string | number)[] = [];
      if (filter.farm !== undefined) where.push('farm = ?') && params.push(filter.farm);
      if (filter.field !== undefined) where.push('field = ?') && params.push(filter.field);
      if (filter.since !== undefined) where.push('end_ts >= ?') && params.push(filter.since);
      const sql = `SELECT ${IRRIGATION_COLUMNS} FROM (SELECT * FROM irrigation ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY end_ts DESC, seq DESC LIMIT ?) ORDER BY end_ts, seq`;
      return db.prepare<(string | number)[], IrrigationRow>(sql).all(...params, filter.limit ?? 1000).map(presentIrrigation);
    },
    async pending(target, limit) {
      return pending[target].all(limit).map(presentIrrigation);
    },
    async markForwarded(target, ids, at) {
      markMany(target, ids, at);
    },
    async pendingCount(target) {
      return count[target].get()!.n;
    },
    open: async () => {},
    close: () => db.close(),
  };
}
