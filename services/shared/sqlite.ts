import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { createPrivateFile, ensurePrivateDir } from './data-dir.js';
import { Errors } from './error-catalog.js';

export type SqliteDatabase = Database.Database;

/** One schema step; applied once, in order, and recorded in `PRAGMA user_version`. */
export type Migration = (db: SqliteDatabase) => void;

export interface OpenSqliteOptions {
  /**
   * `FULL` fsyncs the WAL on every commit: required where a commit is an acknowledgement
   * (spool, outbox). `NORMAL` is enough for state that can be rebuilt or re-sent.
   */
  synchronous?: 'FULL' | 'NORMAL';
}

/**
 * Open (creating folders as needed) a SQLite file in WAL mode and bring its schema up to date.
 * `:memory:` works for tests.
 *
 * The files hold secrets in clear, so a missing folder is created 0700 and a missing database
 * 0600 before SQLite opens it; SQLite gives the `-wal`, `-shm` and `-journal` files it creates
 * later the mode of the database file. An existing file keeps its mode (`fieldhook start` warns
 * when it is looser).
 */
export function openSqlite(path: string, migrations: Migration[], options: OpenSqliteOptions = {}): SqliteDatabase {
  if (path !== ':memory:' && path !== '') {
    ensurePrivateDir(dirname(path));
    createPrivateFile(path);
  }
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > migrations.length) {
    // Written by a newer fieldhook: this version would misread what it stores (a spool record an
    // older writer cannot dead-letter), so it refuses the file, as it refuses PostgreSQL's stores.
    db.close();
    throw Errors.databaseSchemaNewer(`${path} was migrated by a newer fieldhook (schema ${current}, this version knows ${migrations.length}); run that version, or restore the backup taken before the upgrade (docs/operations.md, upgrades)`);
  }
  for (let version = current; version < migrations.length; version++) {
    db.transaction(() => {
      migrations[version]!(db);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
  return db;
}

/**
 * A version that moves whenever the file's content may have changed: SQLite's `data_version`
 * moves when another connection (another process) commits, and this connection's own writes,
 * which it does not see, are counted with `wrote()`. Both only grow, so their sum moves whenever
 * either does.
 */
export function changeVersion(db: SqliteDatabase): { wrote(): void; version(): number } {
  const dataVersion = db.prepare('PRAGMA data_version').pluck();
  let ownWrites = 0;
  return {
    wrote: () => void ownWrites++,
    version: () => (dataVersion.get() as number) + ownWrites,
  };
}
