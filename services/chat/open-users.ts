import type { Clock } from '../shared/clock.js';
import type { ControlPlane } from '../shared/database/control-plane.js';
import { importingFromSqlite, type SqliteImport } from '../shared/database/sqlite-import.js';
import { createPostgresChatUsers } from './postgres-users.js';
import { createSqliteChatUsers, type ChatUserRepository } from './users.js';

/** The chat users' file in the data folder on the SQLite backend. */
export const CHAT_FILE = 'chat.db';

/** An older version's chat users in the data folder, copied into PostgreSQL once (SQLite kept `added_at` in epoch ms). */
const CHAT_IMPORT: SqliteImport = {
  file: CHAT_FILE,
  table: 'chat_user',
  into: 'chat_user',
  columns: ['platform', 'user_id', 'farm', 'added_at'],
  convert: { added_at: 'to_timestamp($::float8 / 1000)' },
};

/** The chat users on the control plane's backend; call `open()` before using them. */
export function createChatUserRepository(plane: ControlPlane, clock: Clock): ChatUserRepository {
  return plane.kind === 'postgres'
    ? createPostgresChatUsers(importingFromSqlite(plane, [CHAT_IMPORT]), clock)
    : createSqliteChatUsers(plane.path(CHAT_FILE), clock);
}
