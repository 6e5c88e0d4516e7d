import type { Statement } from 'better-sqlite3';
import { openSqlite, type SqliteDatabase } from '../../shared/sqlite.js';
import { readingToLine } from '../line-protocol.js';
import type { NormalizedReading } from '../reading.js';
import { BUS_CONSUMER, INFLUX_CONSUMER, type AppendRequest, type AppendResult, type DeadLetter, type SpoolRecord, type SpoolUsage } from './spool.js';
import { devicePartsOf, isoTime, nameSetOf } from './reading-parts.js';

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
        payload TEXT NOT NULL,
        lines TEXT NOT NULL,
        bus TEXT NOT NULL
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
  // The bus column as it was prepared (each reading's bus JSON, newline-separated, in reading
  // order) with its topics beside it, instead of a JSON array of per-field messages: the messages
  // were JSON strings inside JSON, escaped on every append and parsed back on every read. Records
  // written before keep the old form (`bus_topics` NULL) and are read as such.
  (db: SqliteDatabase) => {
    db.exec('ALTER TABLE records ADD COLUMN bus_topics TEXT');
  },
  // Later, with no change to the table: a record's `payload` (the readings as JSON, for dead
  // letters) is left empty when its bus column, in the form above, holds every reading; only a
  // requeued dead letter, which has no bus column, still fills it. Records written before keep
  // their payload and are read from it as before (readingsOf).
  //
  // De-duplication keys in one B-tree: the `seen_at` index was a second B-tree insert per key (and
  // a second delete) for the pruning alone; expired keys are now found by sweeping the keys in
  // their own order (pruneDedup).
  (db: SqliteDatabase) => {
    db.exec('DROP INDEX IF EXISTS dedup_seen_at');
  },
  // Where the sweep goes on, kept with the keys: a process restarted more often than a sweep goes
  // round would otherwise start again at the first key each time and never reach the last ones.
  (db: SqliteDatabase) => {
    db.exec("CREATE TABLE dedup_sweep (id INTEGER PRIMARY KEY CHECK (id = 0), device TEXT NOT NULL, key TEXT NOT NULL); INSERT INTO dedup_sweep VALUES (0, '', '')");
  },
];

/** De-duplication keys per INSERT statement (3 parameters each, well below SQLite's 32,766). */
const DEDUP_ROWS = 64;

/**
 * Keys a prune visits, per key recorded since the prune before (and at least SWEEP_MIN_ROWS): the
 * sweep goes round the whole table about once per SWEEP_FACTOR prunes' worth of new keys, so in a
 * steady state a key is visited about SWEEP_FACTOR times in its life (0.04 µs each) and forgotten
 * at most a window / (SWEEP_FACTOR - 1) after it expired (72 h: within about 10 h).
 */
const SWEEP_FACTOR = 8;
const SWEEP_MIN_ROWS = 10_000;

export interface SpoolStoreOptions {
  /** SQLite file; `:memory:` for tests that need no durability. */
  path: string;
  /** Consumers whose cursors hold records back from deletion. */
  consumers: string[];
  now?: () => number;
}

/**
 * An append as it crosses to the store. Each reading's pieces are prepared where the reading was
 * parsed (the thread answering the device has the objects at hand, and time to spare; the store's
 * thread is the busier one): its line protocol, its bus topic and bus JSON, newline-separated per
 * column (none of them holds a raw newline: JSON escapes it, line protocol tags escape it, topics
 * are made of validated ids), since a string crosses a thread as one copy. The reading's own JSON
 * is not among them: the bus JSON holds all of it, and a dead letter, which is rare, rebuilds the
 * reading from it ({@link readingsFromBus}).
 */
export interface EncodedAppend {
  correlationId: string;
  lines: string;
  topics: string;
  bus: string;
  /** JSON `[device, key][]`: message ids may hold any character. */
  keys: string;
  onceKey?: { device: string; key: string };
}

export function encodeAppend(request: AppendRequest): EncodedAppend {
  const { readings, correlationId } = request;
  const n = readings.length;
  const tail = `,"correlation_id":${JSON.stringify(correlationId)}}`;
  // One string per reading and column, joined once: `+=` over a whole column made a chain of
  // partial strings per reading that postMessage then had to flatten (half the encoding's time).
  const bus = new Array<string>(n);
  const lines = new Array<string>(n);
  const topics = new Array<string>(n);
  const keys = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const r = readings[i]!;
    const parts = devicePartsOf(r);
    const names = Object.keys(r.values);
    const set = nameSetOf(names);
    // Each value is turned into text once, for the JSON (names in the reading's order) and the
    // line (sorted): String(x) is JSON.stringify(x) for every finite number.
    let values = '';
    for (let k = 0; k < names.length; k++) values += set.jsonKeys[k]! + (valueText[k] = String(r.values[names[k]!]));
    values += '}';
    let fields = '';
    for (let k = 0; k < names.length; k++) fields += set.lineKeys[k]! + valueText[set.lineOrder[k]!]!;
    const idJson = r.id !== undefined ? JSON.stringify(r.id) : undefined;
    const head = idJson !== undefined ? `${parts.json},"id":${idJson}` : parts.json;
    // The result is what JSON.stringify gives for toBusReading(reading).
    bus[i] = `${head},"ts":"${isoTime(r.ts)}","values":${values}${tail}`;
    lines[i] = `${parts.line} ${fields} ${r.ts}`;
    topics[i] = parts.topic;
    // dedupKey(r) as JSON: `"i:` + the id's JSON after its opening quote, or `"t:<ts>"`.
    keys[i] = `[${parts.deviceJson},${idJson !== undefined ? `"i:${idJson.slice(1)}` : `"t:${r.ts}"`}]`;
  }
  return {
    correlationId,
    lines: lines.join('\n'),
    topics: topics.join('\n'),
    bus: bus.join('\n'),
    keys: `[${keys.join(',')}]`,
    ...(request.onceKey ? { onceKey: request.onceKey } : {}),
  };
}

/**
 * The readings of a record, from its bus column as {@link encodeAppend} writes it: each line is
 * toBusReading(reading) as JSON, which holds the whole reading (the time as ISO 8601, whole
 * milliseconds, as a reading's time always is). The object has the reading's own key order, so a
 * dead letter made from it is the same JSON as one made from the reading.
 */
export function readingsFromBus(bus: string): NormalizedReading[] {
  return bus.split('\n').map((line) => {
    const m = JSON.parse(line) as { device: string; farm: string; field: string; id?: string; ts: string; values: Record<string, number> };
    const ts = Date.parse(m.ts);
    return m.id !== undefined
      ? { device: m.device, farm: m.farm, field: m.field, id: m.id, ts, values: m.values }
      : { device: m.device, farm: m.farm, field: m.field, ts, values: m.values };
  });
}

/** The text of each value of the reading being encoded (reused: one encoding runs at a time). */
const valueText: string[] = [];


/** The spool's storage, synchronous: it runs wherever SQLite runs (this thread or a worker). */
export interface SpoolStore {
  /** Apply appends in one transaction, so one fsync makes all of them durable. */
  appendBatch(requests: EncodedAppend[]): AppendResult[];
  read(consumer: string, maxReadings: number): SpoolRecord[];
  pinUnwrittenBus(): { afterSeq: number; untilSeq: number };
  readBusRange(afterSeq: number, untilSeq: number, maxReadings: number): SpoolRecord[];
  unpin(): void;
  readingsOf(seq: number): NormalizedReading[];
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
  data: string;
  topics?: string | null;
}

/**
 * Records from rows in their order, up to about `maxReadings` readings: the first record always
 * comes back, even when it alone holds more than `maxReadings`.
 */
function collect(rows: IterableIterator<RecordRow>, maxReadings: number): SpoolRecord[] {
  const records: SpoolRecord[] = [];
  let count = 0;
  for (const row of rows) {
    const record: SpoolRecord = { seq: row.seq, createdAt: row.created_at, correlationId: row.correlation_id, count: row.readings, data: row.data };
    if (typeof row.topics === 'string') record.topics = row.topics;
    records.push(record);
    count += row.readings;
    if (count >= maxReadings) break;
  }
  return records;
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
      `INSERT INTO records (created_at, correlation_id, only_consumer, readings, bytes, payload, lines, bus, bus_topics)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    cursor: db.prepare('SELECT seq FROM cursors WHERE consumer = ?').pluck(),
    setCursor: db.prepare('UPDATE cursors SET seq = ? WHERE consumer = ? AND seq < ?'),
    // Iterated and stopped early: only the records a read returns are fetched, however long the
    // backlog behind the cursor is after an outage.
    // Each consumer reads only the column prepared for it.
    readLines: db.prepare(
      `SELECT seq, created_at, correlation_id, readings, lines AS data FROM records
       WHERE seq > ? AND (only_consumer IS NULL OR only_consumer = ?) ORDER BY seq`,
    ),
    readBus: db.prepare(
      `SELECT seq, created_at, correlation_id, readings, bus AS data, bus_topics AS topics FROM records
       WHERE seq > ? AND (only_consumer IS NULL OR only_consumer = ?) ORDER BY seq`,
    ),
    readBusRange: db.prepare(
      `SELECT seq, created_at, correlation_id, readings, bus AS data, bus_topics AS topics FROM records
       WHERE seq > ? AND seq <= ? AND (only_consumer IS NULL OR only_consumer = ?) ORDER BY seq`,
    ),
    payload: db.prepare('SELECT payload, bus FROM records WHERE seq = ?'),
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
    // The sweep's next stop: the key `?3` keys on from where it is, in key order.
    sweepEnd: db.prepare('SELECT device, key FROM dedup WHERE (device, key) > (?, ?) ORDER BY device, key LIMIT 1 OFFSET ?'),
    sweep: db.prepare('DELETE FROM dedup WHERE (device, key) > (?, ?) AND (device, key) <= (?, ?) AND seen_at < ?'),
    sweepToEnd: db.prepare('DELETE FROM dedup WHERE (device, key) > (?, ?) AND seen_at < ?'),
    sweptTo: db.prepare('SELECT device, key FROM dedup_sweep WHERE id = 0'),
    sweepOn: db.prepare('UPDATE dedup_sweep SET device = ?, key = ? WHERE id = 0'),
  };

  let pendingBytes = stmt.pendingBytes.get() as number;
  let deadLetters = stmt.countDead.get() as number;
  /** Keys recorded since the sweep of expired keys last ran (where it goes on is in `dedup_sweep`; every device id sorts after ''). */
  let recordedSinceSweep = 0;

  /**
   * A record holds what each consumer sends on, ready: line protocol for InfluxDB, each reading's
   * bus JSON and topic for the bus. The consumers then only pass strings on (the bus publisher
   * joins a round's readings per field). The readings themselves (`readings`, JSON, for dead
   * letters) are stored only when the bus column does not hold them: '' otherwise.
   */
  function insertRecord(correlationId: string, count: number, readings: string, lines: string, bus: string, busTopics: string | null, only: string | null): void {
    const bytes = Buffer.byteLength(readings) + Buffer.byteLength(lines) + Buffer.byteLength(bus) + (busTopics === null ? 0 : Buffer.byteLength(busTopics));
    stmt.insertRecord.run(now(), correlationId, only, count, bytes, readings, lines, bus, busTopics);
    pendingBytes += bytes;
  }

  /** `INSERT OR IGNORE` of `rows` keys at once, returning the keys it inserted as `device key`. */
  const dedupStatements = new Map<number, Statement<unknown[], string>>();
  function dedupInsert(rows: number): Statement<unknown[], string> {
    let statement = dedupStatements.get(rows);
    if (statement === undefined) {
      // A device id holds no space (DEVICE_ID_PATTERN): `device key` names one key.
      statement = db
        .prepare<unknown[], string>(`INSERT OR IGNORE INTO dedup (device, key, seen_at) VALUES ${Array.from({ length: rows }, () => '(?, ?, ?)').join(', ')} RETURNING device || ' ' || key`)
        .pluck();
      dedupStatements.set(rows, statement);
    }
    return statement;
  }

  /**
   * Record the de-duplication keys; true for each one not seen before. Keys go in by statements of
   * up to DEDUP_ROWS rows (one call into SQLite per DEDUP_ROWS readings, not per reading, the rest
   * of a batch in one more); a key repeated within the batch is new only the first time. When a
   * statement inserted every one of its keys, they are all new and none is looked at again.
   */
  function remember(keys: [device: string, key: string][], at: number): boolean[] {
    const stored = new Array<boolean>(keys.length);
    for (let i = 0; i < keys.length; i += DEDUP_ROWS) {
      const end = Math.min(keys.length, i + DEDUP_ROWS);
      const params = new Array<string | number>(3 * (end - i));
      for (let k = i, p = 0; k < end; k++) {
        params[p++] = keys[k]![0];
        params[p++] = keys[k]![1];
        params[p++] = at;
      }
      const inserted = dedupInsert(end - i).all(...params);
      recordedSinceSweep += inserted.length;
      if (inserted.length === end - i) {
        stored.fill(true, i, end);
        continue;
      }
      const fresh = new Set(inserted);
      for (let k = i; k < end; k++) stored[k] = fresh.delete(`${keys[k]![0]} ${keys[k]![1]}`);
    }
    return stored;
  }

  function applyOne(request: EncodedAppend, at: number): AppendResult {
    const keys = JSON.parse(request.keys) as [device: string, key: string][];
    if (request.onceKey) {
      if (stmt.dedup.run(request.onceKey.device, request.onceKey.key, at).changes === 0) return { stored: keys.map(() => false), replayed: true };
      recordedSinceSweep++;
    }
    const stored = remember(keys, at);
    let count = 0;
    for (const fresh of stored) if (fresh) count++;
    // Usually every reading is new: the columns are then taken as they came.
    const all = count === keys.length;
    const keep = (column: string) => column.split('\n').filter((_, i) => stored[i]);
    if (count > 0) {
      const lines = all ? request.lines : keep(request.lines).join('\n');
      const bus = all ? request.bus : keep(request.bus).join('\n');
      const topics = all ? request.topics : keep(request.topics).join('\n');
      insertRecord(request.correlationId, count, '', lines, bus, topics, null);
    }
    return { stored, replayed: false };
  }

  const appendBatch = db.transaction((requests: EncodedAppend[]) => {
    const at = now();
    return requests.map((r) => applyOne(r, at));
  });

  /** Records after this seq are kept whatever the cursors (pinUnwrittenBus); +∞: none pinned. */
  let pinnedAfter = Number.POSITIVE_INFINITY;
  // Moving a cursor and deleting what every consumer has passed: one transaction, one fsync.
  const commit = db.transaction((consumer: string, seq: number) => {
    stmt.setCursor.run(seq, consumer, seq);
    const slowest = Math.min(pinnedAfter, ...consumers.map((c) => stmt.cursor.get(c) as number));
    const freed = stmt.deleteConsumed.all(slowest) as number[];
    for (const bytes of freed) pendingBytes -= bytes;
  });

  return {
    appendBatch,
    commit,
    read(consumer, maxReadings) {
      const after = stmt.cursor.get(consumer) as number | undefined;
      if (after === undefined) throw new Error(`Unknown spool consumer ${consumer}`);
      const query = consumer === INFLUX_CONSUMER ? stmt.readLines : stmt.readBus;
      return collect(query.iterate(after, consumer) as IterableIterator<RecordRow>, maxReadings);
    },
    pinUnwrittenBus() {
      const written = stmt.cursor.get(INFLUX_CONSUMER) as number | undefined;
      const handed = stmt.cursor.get(BUS_CONSUMER) as number | undefined;
      if (written === undefined || handed === undefined || handed <= written) return { afterSeq: 0, untilSeq: 0 };
      pinnedAfter = written;
      return { afterSeq: written, untilSeq: handed };
    },
    readBusRange(afterSeq, untilSeq, maxReadings) {
      return collect(stmt.readBusRange.iterate(afterSeq, untilSeq, BUS_CONSUMER) as IterableIterator<RecordRow>, maxReadings);
    },
    unpin() {
      pinnedAfter = Number.POSITIVE_INFINITY;
    },
    readingsOf(seq) {
      const row = stmt.payload.get(seq) as { payload: string; bus: string } | undefined;
      if (row === undefined) return [];
      // Records spooled by earlier versions, and requeued dead letters, hold the readings' JSON.
      return row.payload !== '' ? (JSON.parse(row.payload) as NormalizedReading[]) : readingsFromBus(row.bus);
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
        for (const row of rows) {
          const line = readingToLine(JSON.parse(row.reading) as NormalizedReading);
          insertRecord(row.correlation_id, 1, `[${row.reading}]`, line, '', '', INFLUX_CONSUMER);
        }
        return rows.length;
      })();
      deadLetters -= count;
      return count;
    },
    /**
     * Forget keys older than the window, visiting a bounded stretch of the keys in their own order
     * and going on from there next time (one B-tree per key: no index by age to read them from).
     * A key is remembered at least `olderThanMs`; the sweep's pace follows the keys recorded, so
     * the table stays within about 1 + 1 / (SWEEP_FACTOR - 1) windows of keys.
     */
    pruneDedup(olderThanMs) {
      const cutoff = now() - olderThanMs;
      const budget = Math.max(SWEEP_MIN_ROWS, SWEEP_FACTOR * recordedSinceSweep);
      recordedSinceSweep = 0;
      return db.transaction(() => {
        const { device, key } = stmt.sweptTo.get() as { device: string; key: string };
        const end = stmt.sweepEnd.get(device, key, budget - 1) as { device: string; key: string } | undefined;
        stmt.sweepOn.run(end?.device ?? '', end?.key ?? '');
        return end === undefined ? stmt.sweepToEnd.run(device, key, cutoff).changes : stmt.sweep.run(device, key, end.device, end.key, cutoff).changes;
      })();
    },
    close: () => db.close(),
  };
}
