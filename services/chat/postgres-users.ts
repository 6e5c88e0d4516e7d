/**
 * The chat users in PostgreSQL, shared by every instance (`FIELDHOOK_DATABASE_URL`): the chat
 * endpoints read the mapping on every request, so a user added through any instance or the CLI
 * counts on all of them at once, with no cache to keep current.
 */
import type pg from 'pg';
import type { Clock } from '../shared/clock.js';
import type { PostgresPlane } from '../shared/database/control-plane.js';
import type { PostgresMigration } from '../shared/database/migrations.js';
import { orUnavailable } from '../shared/database/postgres.js';
import { checkChatPlatform, checkChatUser, checkNewChatUser, type ChatPlatform, type ChatUser, type ChatUserRepository } from './users.js';

/** The chat users' store name in `fieldhook_migrations`. */
export const CHAT_STORE = 'chat';

/** The same data as chat.db (users.ts). */
export const CHAT_MIGRATIONS: readonly PostgresMigration[] = [
  {
    name: 'chat users',
    sql: `
      CREATE TABLE chat_user (
        platform TEXT NOT NULL, user_id TEXT NOT NULL, farm TEXT NOT NULL, added_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (platform, user_id, farm)
      );`,
  },
];

interface Row {
  platform: ChatPlatform;
  user_id: string;
  farm: string;
  added_at: Date;
}

const present = (r: Row): ChatUser => ({ platform: r.platform, user: r.user_id, farm: r.farm, added_at: r.added_at.toISOString() });
// COLLATE "C": the byte order SQLite sorts TEXT in, whatever the database's locale.
const ORDER = 'user_id COLLATE "C", farm COLLATE "C"';

export function createPostgresChatUsers(plane: PostgresPlane, clock: Clock): ChatUserRepository {
  const { pool, shownUrl } = plane.postgres;
  /** A database failure is FH_ERR_DATABASE_UNAVAILABLE (503): the chat platform retries. */
  const query = <R extends pg.QueryResultRow = Row>(sql: string, params: unknown[]) => orUnavailable(pool.query<R>(sql, params), shownUrl, 'read or write the chat users');
  const rows = async (sql: string, params: unknown[]) => (await query(sql, params)).rows.map(present);
  return {
    open: () => plane.migrate(CHAT_STORE, CHAT_MIGRATIONS),
    async add(platform, user, farm) {
      const p = checkNewChatUser(platform, user, farm);
      // Adding a mapping twice keeps the first one's time, as on SQLite.
      await query('INSERT INTO chat_user (platform, user_id, farm, added_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [p, user, farm, new Date(clock.now())]);
      const [added] = await rows('SELECT * FROM chat_user WHERE platform = $1 AND user_id = $2 AND farm = $3', [p, user, farm]);
      return added!;
    },
    async remove(platform, user, farm) {
      checkChatUser(platform, user, farm);
      const { rowCount } = await query('DELETE FROM chat_user WHERE platform = $1 AND user_id = $2 AND farm = $3', [platform, user, farm]);
      return (rowCount ?? 0) > 0;
    },
    async list(platform) {
      return platform === undefined
        ? rows(`SELECT * FROM chat_user ORDER BY platform COLLATE "C", ${ORDER}`, [])
        : rows(`SELECT * FROM chat_user WHERE platform = $1 ORDER BY ${ORDER}`, [checkChatPlatform(platform)]);
    },
    async farmsOf(platform, user) {
      const { rows: farms } = await query<{ farm: string }>('SELECT farm FROM chat_user WHERE platform = $1 AND user_id = $2 ORDER BY farm COLLATE "C"', [platform, user]);
      return farms.map((r) => r.farm);
    },
    // The pool is the control plane's: closed with it.
    close: () => {},
  };
}
