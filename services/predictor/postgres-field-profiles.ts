/**
 * Field profiles in PostgreSQL, shared by every instance (`FIELDHOOK_DATABASE_URL`): a field
 * added or changed through any instance or the CLI reaches every predictor. Their change version
 * comes from the store's change feed (a trigger NOTIFYs on every commit), so a predictor re-reads
 * the profiles only when one changed.
 */
import type pg from 'pg';
import type { Clock } from '../shared/clock.js';
import { notifyChangesSql, type ChangeFeed } from '../shared/database/change-feed.js';
import type { PostgresPlane } from '../shared/database/control-plane.js';
import type { PostgresMigration } from '../shared/database/migrations.js';
import { databaseUnavailable, inTransaction, orUnavailable } from '../shared/database/postgres.js';
import { Errors } from '../shared/error-catalog.js';
import { validateFieldSettings, type FieldSettings, type OpenableFieldProfileRepository } from './field-profiles.js';

/** The field profiles' store name in `fieldhook_migrations`, and the channel their changes are announced on. */
export const FIELD_PROFILES_STORE = 'field-profiles';
export const FIELD_PROFILES_CHANNEL = 'fieldhook_field_profiles';

/** The same data as predictor.db's field_profile (sqlite-predictor-store.ts); times epoch ms. Append steps, never edit one. */
export const FIELD_PROFILES_MIGRATIONS: readonly PostgresMigration[] = [
  {
    name: 'field profiles',
    sql: `
      CREATE TABLE field_profile (
        farm TEXT NOT NULL, field TEXT NOT NULL, settings JSONB NOT NULL, updated_at BIGINT NOT NULL,
        PRIMARY KEY (farm, field)
      );
      ${notifyChangesSql(FIELD_PROFILES_CHANNEL, ['field_profile'])}`,
  },
];

/**
 * What a field keeps besides its profile (the predictor's store, postgres-predictor-store.ts):
 * removed with it, so a field added again later starts afresh, as on SQLite. A table not created
 * yet (no predictor has started on this database) has nothing to remove.
 */
const FIELD_STATE_TABLES = ['predictor_decision_state', 'predictor_field_learning'] as const;

// COLLATE "C": the byte order SQLite sorts TEXT in, whatever the database's locale.
const ORDER = 'farm COLLATE "C", field COLLATE "C"';

export function createPostgresFieldProfiles(plane: PostgresPlane, clock: Clock): OpenableFieldProfileRepository {
  const { pool, shownUrl } = plane.postgres;
  /** A database failure is FH_ERR_DATABASE_UNAVAILABLE (503); catalog errors (not found, invalid) pass through. */
  const unavailable = <T>(work: Promise<T>, doing: string) => orUnavailable(work, shownUrl, doing);
  let feed: ChangeFeed | undefined;
  const settingsOf = async (sql: string, params: unknown[], on: pg.Pool | pg.PoolClient = pool) =>
    (await on.query<{ settings: FieldSettings }>(sql, params)).rows.map((r) => r.settings);
  /** A committed change of this process: seen at once, not when its notification arrives. */
  const changed = <T>(result: T) => (feed?.bump(), result);

  return {
    async open() {
      await plane.migrate(FIELD_PROFILES_STORE, FIELD_PROFILES_MIGRATIONS);
      feed ??= plane.changeFeed(FIELD_PROFILES_CHANNEL);
      try {
        await feed.start();
      } catch (err) {
        throw databaseUnavailable(err, plane.postgres.shownUrl, 'listen for field profile changes');
      }
    },
    list: (farm) =>
      unavailable(
        farm === undefined
          ? settingsOf(`SELECT settings FROM field_profile ORDER BY ${ORDER}`, [])
          : settingsOf(`SELECT settings FROM field_profile WHERE farm = $1 ORDER BY ${ORDER}`, [farm]),
        'read the field profiles',
      ),
    async get(farm, field) {
      return (await unavailable(settingsOf('SELECT settings FROM field_profile WHERE farm = $1 AND field = $2', [farm, field]), 'read a field profile'))[0];
    },
    async add(settings) {
      validateFieldSettings(settings);
      const { rowCount } = await unavailable(
        pool.query('INSERT INTO field_profile (farm, field, settings, updated_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [
          settings.farm,
          settings.field,
          JSON.stringify(settings),
          clock.now(),
        ]),
        'add a field profile',
      );
      if (rowCount === 0) throw Errors.fieldExists(`Field ${settings.farm}/${settings.field} exists; use update`);
      return changed(settings);
    },
    async update(farm, field, patch) {
      // The row stays locked from read to write: two updates at once both count.
      const next = await unavailable(inTransaction(pool, async (client) => {
        const [current] = await settingsOf('SELECT settings FROM field_profile WHERE farm = $1 AND field = $2 FOR UPDATE', [farm, field], client);
        if (!current) throw Errors.fieldNotFound(`No field ${farm}/${field}`);
        const updated = validateFieldSettings({ ...current, ...patch, farm, field });
        await client.query('UPDATE field_profile SET settings = $1, updated_at = $2 WHERE farm = $3 AND field = $4', [JSON.stringify(updated), clock.now(), farm, field]);
        return updated;
      }), 'update a field profile');
      return changed(next);
    },
    async remove(farm, field) {
      const removed = await unavailable(inTransaction(pool, async (client) => {
        // The profile first: its row lock makes a state save in flight (which locks it FOR SHARE)
        // finish before the state is deleted, and one after it find no profile and write nothing.
        const { rowCount } = await client.query('DELETE FROM field_profile WHERE farm = $1 AND field = $2', [farm, field]);
        for (const table of FIELD_STATE_TABLES) {
          const { rows } = await client.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [table]);
          if (rows[0]?.present) await client.query(`DELETE FROM ${table} WHERE farm = $1 AND field = $2`, [farm, field]);
        }
        return (rowCount ?? 0) > 0;
      }), 'remove a field profile');
      return changed(removed);
    },
    // Before open() there is no feed: every look is a change, so nothing is trusted from memory.
    changeVersion: () => (feed ? feed.version() : Number.NaN),
    close: async () => {
      await feed?.stop();
    },
  };
}
