import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

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
 */
export function openSqlite(path: string, migrations: Migration[], options: OpenSqliteOptions = {}): SqliteDatabase {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  const current = db.pragma('user_version', { simple: true }) as number;
  for (let version = current; version < migrations.length; version++) {
    db.transaction(() => {
      migrations[version]!(db);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
  return db;
}
