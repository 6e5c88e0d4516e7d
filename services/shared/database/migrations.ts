import type pg from 'pg';
import { Errors } from '../error-catalog.js';

/**
 * One schema step of one store. Steps are numbered from 1 in the order they are listed and are
 * never edited once released: a change is a new step.
 */
export interface PostgresMigration {
  name: string;
  /** SQL, run in the step's transaction (several statements are fine). */
  sql: string;
}

/**
 * The key of the advisory lock migrations are applied under (one key for every store, so two
 * instances starting together apply each step once, one after the other; the second finds
 * nothing left to do). The two halves spell `fhk` and `migr`.
 */
export const MIGRATION_LOCK: readonly [number, number] = [0x66686b, 0x6d696772];

const MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS fieldhook_migrations (
  store TEXT NOT NULL,
  version INTEGER NOT NULL,
  name TEXT NOT NULL,
  applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (store, version)
)`;

/**
 * Bring `store`'s tables up to date: under the advisory lock, apply each step not yet recorded in
 * `fieldhook_migrations`, each in its own transaction together with its record, so a crash
 * leaves either the whole step or none of it. Refuses a database on which a newer fieldhook
 * recorded steps this one does not know (`FH_ERR_DATABASE_SCHEMA_NEWER`): running older code on
 * a newer schema is how data gets written wrongly. Returns the steps applied now.
 *
 * While another instance holds the lock (it is migrating), this one waits for it as long as that
 * takes, without the pool's statement timeout, after calling `onWait` once.
 */
export async function migratePostgres(
  pool: pg.Pool,
  store: string,
  migrations: readonly PostgresMigration[],
  onWait: () => void = () => {},
): Promise<string[]> {
  const client = await pool.connect();
  const applied: string[] = [];
  // A connection whose unlock failed goes away instead of back to the pool, taking its lock along
  // (and its session settings).
  let unlocked = false;
  try {
    // Waiting for the lock and rewriting a large table are not queries the pool's statement timeout
    // is meant for: this connection has none while it migrates (reset before it goes back).
    await client.query('SET statement_timeout = 0');
    // A session lock, not a transaction one: it spans several transactions.
    const { rows: tried } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', [...MIGRATION_LOCK]);
    if (!tried[0]?.locked) {
      onWait();
      await client.query('SELECT pg_advisory_lock($1, $2)', [...MIGRATION_LOCK]);
    }
    try {
      await client.query(MIGRATIONS_TABLE);
      const { rows } = await client.query<{ version: number }>('SELECT version FROM fieldhook_migrations WHERE store = $1', [store]);
      const done = new Set(rows.map((r) => r.version));
      const newest = Math.max(0, ...done);
      if (newest > migrations.length) {
        throw Errors.databaseSchemaNewer(
          `The ${store} store is at schema version ${newest}; this fieldhook knows ${migrations.length}: run the newer fieldhook that migrated it`,
          { store, version: newest, known: migrations.length },
        );
      }
      for (const [index, step] of migrations.entries()) {
        const version = index + 1;
        if (done.has(version)) continue;
        await client.query('BEGIN');
        try {
          await client.query(step.sql);
          await client.query('INSERT INTO fieldhook_migrations (store, version, name) VALUES ($1, $2, $3)', [store, version, step.name]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => {});
          throw err;
        }
        applied.push(`${version} ${step.name}`);
      }
    } finally {
      await client
        .query('SELECT pg_advisory_unlock($1, $2)', [...MIGRATION_LOCK])
        .then(() => client.query('RESET statement_timeout'))
        .then(
          () => (unlocked = true),
          () => {},
        );
    }
  } finally {
    client.release(!unlocked);
  }
  return applied;
}
