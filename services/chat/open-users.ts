import type { Clock } from '../shared/clock.js';
import type { ControlPlane } from '../shared/database/control-plane.js';
import { createPostgresChatUsers } from './postgres-users.js';
import { createSqliteChatUsers, type ChatUserRepository } from './users.js';

/** The chat users' file in the data folder on the SQLite backend. */
export const CHAT_FILE = 'chat.db';

/** The chat users on the control plane's backend; call `open()` before using them. */
export function createChatUserRepository(plane: ControlPlane, clock: Clock): ChatUserRepository {
  return plane.kind === 'postgres' ? createPostgresChatUsers(plane, clock) : createSqliteChatUsers(plane.path(CHAT_FILE), clock);
}
