/**
 * Upgrading to PostgreSQL keeps what the SQLite files held. Before fieldhook kept field profiles,
 * decision state, irrigation records, chat users and forecasts in PostgreSQL, they were SQLite
 * files in each instance's data folder even with `FIELDHOOK_DATABASE_URL` set. A store that now
 * lives in PostgreSQL copies the rows of its old file once, right after its migrations, so an
 * upgrade loses nothing: records acknowledged but not yet forwarded keep their empty forwarding
 * cursors (and are forwarded), idempotency keys keep answering retries.
 *
 * Once per data folder and table: the copy is one PostgreSQL transaction (under the migration
 * lock), and the SQLite file then notes it in a table of its own (`imported_to_postgres`). A crash
 * between the two copies again, which changes nothing: a row whose key PostgreSQL already holds
 * (from an earlier copy, another instance's folder, or newer use) is skipped, PostgreSQL's wins.
 * Several instances each bring their own folder's rows. The file stays where it was, untouched
 * otherwise: the way back to SQLite (no `FIELDHOOK_DATABASE_URL`) finds it as it was.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { PostgresPlane } from './control-plane.js';
import { MIGRATION_LOCK } from './migrations.js';
import { asUnavailable, inTransaction } from './postgres.js';

/** One SQLite table whose rows go to one PostgreSQL table. Names are fixed in code, never input. */
export interface SqliteImport {
  /** The SQLite file in the data folder (`irrigations.db`). */
  file: string;
  table: string;
  into: string;
  /** The columns copied, named alike on both sides, in the order they are read. */
  columns: readonly string[];
  /** SQLite's order of the rows (the order PostgreSQL numbers them in); default: rowid. */
  orderBy?: string;
  /** SQL for a column whose type differs, `$` standing for the SQLite value: `to_timestamp($::float8 / 1000)`. */
  convert?: Readonly<Record<string, string>>;
  /** Columns only PostgreSQL has, with their value (`updated_by`). */
  fixed?: Readonly<Record<string, string>>;
  /**
   * The transaction lock the store's own writers take, taken by the copy too: a store whose
   * instances follow its table by a revision sequence then sees the copied rows commit in
   * revision order like any write, and skips none.
   */
  lock?: readonly [number, number];
}

/** The table in the SQLite file that notes which PostgreSQL tables its rows went to. */
export const IMPORTED_TABLE = 'imported_to_postgres';
/** Rows per INSERT (PostgreSQL takes at most 65535 parameters in one statement). */
const BATCH_ROWS = 500;

/** `plane`, whose `migrate` copies `imports` after a store's migrations: give it to a PostgreSQL store. */
export function importingFromSqlite(plane: PostgresPlane, imports: readonly SqliteImport[]): PostgresPlane {
  return {
    ...plane,
    async migrate(store, migrations) {
      await plane.migrate(store, migrations);
      for (const spec of imports) await importSqliteTable(plane, spec);
    },
  };
}

/** Copy `spec`'s rows from the data folder's SQLite file, unless there is none or this was done; resolves with the rows inserted. */
export async function importSqliteTable(plane: PostgresPlane, spec: SqliteImport): Promise<number> {
  const path = join(plane.dataDir, spec.file);
  if (!existsSync(path)) return 0;
  // Read-write, so the copy can be noted and a write-ahead log left by the old version is folded in.
  const db = new Database(path, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    const tableIn = (name: string) => db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
    if (!tableIn(spec.table)) return 0;
    if (tableIn(IMPORTED_TABLE) && db.prepare(`SELECT 1 FROM ${IMPORTED_TABLE} WHERE into_table = ?`).get(spec.into) !== undefined) return 0;
    const rows = db.prepare(`SELECT ${spec.columns.join(', ')} FROM ${spec.table} ORDER BY ${spec.orderBy ?? 'rowid'}`).raw().all() as unknown[][];
    // An empty table is looked at again next time (the way back to SQLite may fill it).
    if (rows.length === 0) return 0;
    let inserted = 0;
    const refused: unknown[][] = [];
    try {
      await inTransaction(plane.postgres.pool, async (client) => {
        await client.query('SELECT pg_advisory_xact_lock($1, $2)', [...MIGRATION_LOCK]);
        if (spec.lock) await client.query('SELECT pg_advisory_xact_lock($1, $2)', [...spec.lock]);
        for (let at = 0; at < rows.length; at += BATCH_ROWS) {
          const batch = rows.slice(at, at + BATCH_ROWS);
          const n = await attempt(client, () => insertRows(client, spec, batch));
          if (n !== undefined) {
            inserted += n;
            continue;
          }
          // SQLite took values PostgreSQL cannot store (a NUL in a text): the batch row by row, leaving those out.
          for (const row of batch) {
            const one = await attempt(client, () => insertRows(client, spec, [row]));
            if (one === undefined) refused.push(row);
            else inserted += one;
          }
        }
      });
    } catch (err) {
      throw asUnavailable(err, plane.postgres.shownUrl, `copy ${path} (${spec.table}) into ${spec.into}`);
    }
    if (refused.length > 0) {
      plane.logger.warn({ file: path, table: spec.table, refused: refused.length, first: refused[0] }, 'PostgreSQL cannot store some rows of a SQLite store (a NUL character or text that is not UTF-8); they were left out of the copy');
    }
    db.exec(`CREATE TABLE IF NOT EXISTS ${IMPORTED_TABLE} (into_table TEXT PRIMARY KEY, rows INTEGER NOT NULL, inserted INTEGER NOT NULL, imported_at INTEGER NOT NULL)`);
    db.prepare(`INSERT OR REPLACE INTO ${IMPORTED_TABLE} (into_table, rows, inserted, imported_at) VALUES (?, ?, ?, ?)`).run(spec.into, rows.length, inserted, Date.now());
    plane.logger.info({ file: path, table: spec.table, into: spec.into, rows: rows.length, inserted, skipped: rows.length - inserted - refused.length, refused: refused.length }, 'copied the rows of a SQLite store into PostgreSQL (once)');
    return inserted;
  } finally {
    db.close();
  }
}

/** `work` under a savepoint: its rows inserted, or undefined (rolled back) when PostgreSQL refused a value (SQLSTATE class 22). */
async function attempt(client: pg.PoolClient, work: () => Promise<number>): Promise<number | undefined> {
  await client.query('SAVEPOINT row_batch');
  try {
    const n = await work();
    await client.query('RELEASE SAVEPOINT row_batch');
    return n;
  } catch (err) {
    if (!(err instanceof pg.DatabaseError && err.code?.startsWith('22'))) throw err;
    await client.query('ROLLBACK TO SAVEPOINT row_batch');
    return undefined;
  }
}

async function insertRows(client: pg.PoolClient, spec: SqliteImport, rows: unknown[][]): Promise<number> {
  const fixed = Object.entries(spec.fixed ?? {});
  const columns = [...spec.columns, ...fixed.map(([name]) => name)];
  const params: unknown[] = [];
  const tuples = rows.map((row) => {
    const values = spec.columns.map((column, i) => {
      const param = `$${params.push(row[i])}`;
      const convert = spec.convert?.[column];
      return convert ? convert.replaceAll('$', () => param) : param;
    });
    for (const [, value] of fixed) values.push(`$${params.push(value)}`);
    return `(${values.join(', ')})`;
  });
  const result = await client.query(`INSERT INTO ${spec.into} (${columns.join(', ')}) VALUES ${tuples.join(', ')} ON CONFLICT DO NOTHING`, params);
  return result.rowCount ?? 0;
}
