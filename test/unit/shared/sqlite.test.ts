import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { modeOf, usualUmask } from '../../helpers/file-modes.js';
import { openSqlite, type SqliteDatabase } from '../../../services/shared/sqlite.js';

const MIGRATIONS = [(db: SqliteDatabase) => db.exec('CREATE TABLE secret (value TEXT)')];

describe('openSqlite', () => {
  let root: string;
  let restoreUmask: () => void;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'fh-sqlite-'));
    restoreUmask = usualUmask();
  });
  afterEach(() => {
    restoreUmask();
    rmSync(root, { recursive: true, force: true });
  });

  it('refuses a file a newer fieldhook migrated, and leaves it as it was', () => {
    const path = join(root, 'spool.db');
    const newer = openSqlite(path, [...MIGRATIONS, (db) => db.exec('CREATE TABLE later (x)')]);
    newer.close();
    expect(() => openSqlite(path, MIGRATIONS)).toThrow(expect.objectContaining({ code: 'FH_ERR_DATABASE_SCHEMA_NEWER', message: expect.stringContaining('schema 2, this version knows 1') }));
    const again = openSqlite(path, [...MIGRATIONS, (db) => db.exec('CREATE TABLE later (x)')]);
    expect(again.pragma('user_version', { simple: true })).toBe(2);
    again.close();
  });

  it('creates a missing folder 0700, and the database with its -wal and -shm files 0600', () => {
    const dir = join(root, '.fieldhook');
    const db = openSqlite(join(dir, 'registry.db'), MIGRATIONS);
    db.prepare('INSERT INTO secret (value) VALUES (?)').run('whsec_x');
    try {
      expect(modeOf(dir)).toBe(0o700);
      const files = readdirSync(dir).sort();
      expect(files).toEqual(['registry.db', 'registry.db-shm', 'registry.db-wal']);
      for (const file of files) expect({ file, mode: modeOf(join(dir, file)).toString(8) }).toEqual({ file, mode: '600' });
    } finally {
      db.close();
    }
  });

  it('gives a rollback -journal the database file’s mode too (journal_mode changed by hand)', () => {
    const path = join(root, 'spool.db');
    const db = openSqlite(path, MIGRATIONS);
    db.pragma('journal_mode = DELETE');
    db.exec('BEGIN; INSERT INTO secret (value) VALUES (1)');
    try {
      expect(modeOf(`${path}-journal`)).toBe(0o600);
    } finally {
      db.exec('COMMIT');
      db.close();
    }
  });

  it('opens an existing database without changing its mode or its content', () => {
    const path = join(root, 'dispatch.sqlite');
    openSqlite(path, MIGRATIONS).prepare('INSERT INTO secret (value) VALUES (?)').run('kept');
    chmodSync(path, 0o640);
    const db = openSqlite(path, MIGRATIONS);
    try {
      expect(db.prepare('SELECT value FROM secret').pluck().all()).toEqual(['kept']);
      expect(modeOf(path)).toBe(0o640);
    } finally {
      db.close();
    }
  });

  it('still opens :memory: without touching the file system', () => {
    const db = openSqlite(':memory:', MIGRATIONS);
    expect(db.prepare('SELECT count(*) FROM secret').pluck().get()).toBe(0);
    db.close();
    expect(readdirSync(root)).toEqual([]);
  });
});
