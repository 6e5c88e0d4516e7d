import { openSqlite, type SqliteDatabase } from '../../shared/sqlite.js';
import { dedupKey, type NormalizedReading } from '../reading.js';
import type { AppendRequest, AppendResult, DeadLetter, SpoolRecord, SpoolUsage } from './spool.js';

const MIGRATIONS = [
  (db: SqliteDatabase) => {
    db.exec(`
      CREATE TABLE records (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        created_at INTEGER NOT NULL,
        correlation_id TEXT NOT NULL,
        only_consumer TEXT,
        readings INTEGER NOT NULL,
        bytes INTEGER NOT NULL,
        payload TEXT NOT NULL
      );
      CREATE TABLE cursors (consumer TEXT PRIMARY KEY, seq INTEGER NOT NULL);
      CREATE TABLE dedup (
        device TEXT NOT NULL,
        key TEXT NOT NULL,
        seen_at INTEGER NOT NULL,
        PRIMARY KEY (device, key)
      ) WITHOUT ROWID;
      CREATE INDEX dedup_seen_at ON dedup (seen_at);
      CREATE TABLE dead_letters (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        created_at INTEGER NOT NULL,
        correlation_id TEXT NOT NULL,
        reading TEXT NOT NULL,
        status INTEGER NOT NULL,
        reason TEXT NOT NULL
      );
    `);
  },
];

export interface SpoolStoreOptions {
  /** SQLite file; `:memory:` for tests that need no durability. */
  path: string;
  /** Consumers whose cursors hold records back from deletion. */
  consumers: string[];
  now?: () => number;
}

/**
 * An append as it crosses to the store: the readings already serialised (a string crosses a
 * thread boundary as one copy, objects one by one) with their de-duplication keys beside them.
 */
export interface EncodedAppend {
  correlationId: string;
  payload: string;
  keys: { device: string; key: string }[];
  onceKey?: { device: string; key: string };
}

export function encodeAppend(request: AppendRequest): EncodedAppend {
  return {
    correlationId: request.correlationId,
    payload: JSON.stringify(request.readings),
    keys: request.readings.map((r) => ({ device: r.device, key: dedupKey(r) })),
    ...(request.onceKey ? { onceKey: request.onceKey } : {}),
  };
}

/** A record as stored: readings still serialised, parsed by whoever consumes them. */
export interface RawRecord {
  seq: number;
  createdAt: number;
  correlationId: string;
  payload: string;
}

export function decodeRecord(raw: RawRecord): SpoolRecord {
  return {
    seq: raw.seq,
    createdAt: raw.createdAt,
    correlationId: raw.correlationId,
    readings: JSON.parse(raw.payload) as NormalizedReading[],
  };
}

/** The spool's storage, synchronous: it runs wherever SQLite runs (this thread or a worker). */
export interface SpoolStore {
  /** Apply appends in one transaction, so one fsync makes all of them durable. */
  appendBatch(requests: EncodedAppend[]): AppendResult[];
  read(consumer: string, maxReadings: number): RawRecord[];
  commit(consumer: string, seq: number): void;
  pendingBytes(): number;
  usage(): SpoolUsage;
  addDeadLetters(letters: Omit<DeadLetter, 'id' | 'createdAt'>[]): void;
  listDeadLetters(limit: number): DeadLetter[];
  requeueDeadLetters(ids?: number[]): number;
  pruneDedup(olderThanMs: number): number;
  close(): void;
}

interface RecordRow {
  seq: number;
  created_at: number;
  correlation_id: string;
  readings: number;
  payload: string;
}

/**
 * SQLite in WAL mode with `synchronous=FULL`: a committed transaction has been fsynced.
 * De-duplication keys are written in the same transaction as the readings they admit.
 */
export function createSpoolStore(options: SpoolStoreOptions): SpoolStore {
  const now = options.now ?? Date.now;
  const db = openSqlite(options.path, MIGRATIONS, { synchronous: 'FULL' });
  const consumers = [...options.consumers];

  const insertCursor = db.prepare('INSERT OR IGNORE INTO cursors (consumer, seq) VALUES (?, 0)');
  for (const consumer of consumers) insertCursor.run(consumer);
  const stmt = {
    dedup: db.prepare('INSERT OR IGNORE INTO dedup (device, key, seen_at) VALUES (?, ?, ?)'),
    insertRecord: db.prepare(
      'INSERT INTO records (created_at, correlation_id, only_consumer, readings, bytes, payload) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    cursor: db.prepare('SELECT seq FROM cursors WHERE consumer = ?').pluck(),
    setCursor: db.prepare('UPDATE cursors SET seq = ? WHERE consumer = ? AND seq < ?'),
    // Iterated and stopped early: only the records a read returns are fetched, however long the
    // backlog behind the cursor is after an outage.
    read: db.prepare(
      `SELECT seq, created_at, correlation_id, readings, payload FROM records
       WHERE seq > ? AND (only_consumer IS NULL OR only_consumer = ?) ORDER BY seq`,
    ),
    pendingBytes: db.prepare('SELECT coalesce(sum(bytes), 0) FROM records').pluck(),
    deleteConsumed: db.prepare('DELETE FROM records WHERE seq <= ? RETURNING bytes').pluck(),
    pendingFor: db.prepare(
      `SELECT coalesce(sum(readings), 0) AS readings, min(created_at) AS oldest FROM records
       WHERE seq > ? AND (only_consumer IS NULL OR only_consumer = ?)`,
    ),
    insertDead: db.prepare(
      'INSERT INTO dead_letters (created_at, correlation_id, reading, status, reason) VALUES (?, ?, ?, ?, ?)',
    ),
    countDead: db.prepare('SELECT count(*) FROM dead_letters').pluck(),
    listDead: db.prepare('SELECT * FROM dead_letters ORDER BY id LIMIT ?'),
    pruneDedup: db.prepare('DELETE FROM dedup WHERE seen_at < ?'),
  };

  let pendingBytes = stmt.pendingBytes.get() as number;
  let deadLetters = stmt.countDead.get() as number;

  function insertRecord(correlationId: string, payload: string, count: number, only: string | null): void {
    const bytes = Buffer.byteLength(payload);
    stmt.insertRecord.run(now(), correlationId, only, count, bytes, payload);
    pendingBytes += bytes;
  }

  function applyOne(request: EncodedAppend, at: number): AppendResult {
    if (request.onceKey && stmt.dedup.run(request.onceKey.device, request.onceKey.key, at).changes === 0) {
      return { stored: request.keys.map(() => false), replayed: true };
    }
    const stored = request.keys.map((k) => stmt.dedup.run(k.device, k.key, at).changes === 1);
    const fresh = stored.filter(Boolean).length;
    if (fresh === stored.length) {
      insertRecord(request.correlationId, request.payload, fresh, null);
    } else if (fresh > 0) {
      // Some were duplicates (rare): keep only the fresh readings.
      const readings = (JSON.parse(request.payload) as NormalizedReading[]).filter((_, i) => stored[i]);
      insertRecord(request.correlationId, JSON.stringify(readings), fresh, null);
    }
    return { stored, replayed: false };
  }

  const appendBatch = db.transaction((requests: EncodedAppend[]) => {
    const at = now();
    return requests.map((r) => applyOne(r, at));
  });

  // Moving a cursor and deleting what every consumer has passed: one transaction, one fsync.
  const commit = db.transaction((consumer: string, seq: number) => {
    stmt.setCursor.run(seq, consumer, seq);
    const slowest = Math.min(...consumers.map((c) => stmt.cursor.get(c) as number));
    const freed = stmt.deleteConsumed.all(slowest) as number[];
    for (const bytes of freed) pendingBytes -= bytes;
  });

  return {
    appendBatch,
    commit,
    read(consumer, maxReadings) {
      const after = stmt.cursor.get(consumer) as number | undefined;
      if (after === undefined) throw new Error(`Unknown spool consumer ${consumer}`);
      const records: RawRecord[] = [];
      let count = 0;
      // The first record always comes back, even when it alone holds more than maxReadings.
      for (const row of stmt.read.iterate(after, consumer) as IterableIterator<RecordRow>) {
        records.push({ seq: row.seq, createdAt: row.created_at, correlationId: row.correlation_id, payload: row.payload });
        count += row.readings;
        if (count >= maxReadings) break;
      }
      return records;
    },
    pendingBytes: () => pendingBytes,
    usage() {
      const perConsumer: SpoolUsage['consumers'] = {};
      const at = now();
      for (const consumer of consumers) {
        const row = stmt.pendingFor.get(stmt.cursor.get(consumer), consumer) as { readings: number; oldest: number | null };
        perConsumer[consumer] = { pendingReadings: row.readings, oldestAgeMs: row.oldest === null ? 0 : at - row.oldest };
      }
      return { pendingBytes, consumers: perConsumer, deadLetters };
    },
    addDeadLetters(letters) {
      const at = now();
      db.transaction(() => {
        for (const l of letters) stmt.insertDead.run(at, l.correlationId, JSON.stringify(l.reading), l.status, l.reason);
      })();
      deadLetters += letters.length;
    },
    listDeadLetters(limit) {
      const rows = stmt.listDead.all(limit) as {
        id: number;
        created_at: number;
        correlation_id: string;
        reading: string;
        status: number;
        reason: string;
      }[];
      return rows.map((r) => ({
        id: r.id,
        createdAt: r.created_at,
        correlationId: r.correlation_id,
        reading: JSON.parse(r.reading) as NormalizedReading,
        status: r.status,
        reason: r.reason,
      }));
    },
    requeueDeadLetters(ids) {
      const where = ids ? `WHERE id IN (${ids.map(() => '?').join(',')})` : '';
      const count = db.transaction(() => {
        const rows = db.prepare(`DELETE FROM dead_letters ${where} RETURNING correlation_id, reading`).all(...(ids ?? [])) as {
          correlation_id: string;
          reading: string;
        }[];
        // The bus already carried these readings: send them to InfluxDB only.
        for (const row of rows) insertRecord(row.correlation_id, `[${row.reading}]`, 1, 'influx');
        return rows.length;
      })();
      deadLetters -= count;
      return count;
    },
    pruneDedup(olderThanMs) {
      return stmt.pruneDedup.run(now() - olderThanMs).changes;
    },
    close: () => db.close(),
  };
}
