/**
 * Which chat users may see and record for which farms: the repository and its SQLite
 * implementation (`<DATA_DIR>/chat.db`; postgres-users.ts is the PostgreSQL one). The CLI writes
 * it (`fieldhook chat users add`), the chat endpoints read it on every request, so a change counts
 * at once without a restart, on every instance that shares the database.
 */
import { systemClock, type Clock } from '../shared/clock.js';
import { openSqlite, type Migration } from '../shared/sqlite.js';
import { ID_PATTERN } from '../shared/ids.js';
import { Errors } from '../shared/error-catalog.js';

export const CHAT_PLATFORMS = ['slack', 'telegram'] as const;
export type ChatPlatform = (typeof CHAT_PLATFORMS)[number];

export interface ChatUser {
  platform: ChatPlatform;
  /** The platform's user id: Slack `U…`/`W…`, Telegram's numeric id. */
  user: string;
  farm: string;
  added_at: string;
}

export interface ChatUserRepository {
  add(platform: string, user: string, farm: string): Promise<ChatUser>;
  /** True when the mapping existed. */
  remove(platform: string, user: string, farm: string): Promise<boolean>;
  list(platform?: string): Promise<ChatUser[]>;
  /** The farms a user may see and record for (none: the user is not mapped). */
  farmsOf(platform: ChatPlatform, user: string): Promise<string[]>;
  /** Ready the store (PostgreSQL migrates here); before any other call. */
  open(): Promise<void>;
  close(): void;
}

const USER_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

const MIGRATIONS: Migration[] = [
  (db) => {
    db.exec(`
      CREATE TABLE chat_user (
        platform TEXT NOT NULL, user_id TEXT NOT NULL, farm TEXT NOT NULL, added_at INTEGER NOT NULL,
        PRIMARY KEY (platform, user_id, farm)
      );`);
  },
];

export function checkChatPlatform(platform: string): ChatPlatform {
  if (!(CHAT_PLATFORMS as readonly string[]).includes(platform)) throw Errors.chatUserInvalid(`platform is one of ${CHAT_PLATFORMS.join(', ')}`);
  return platform as ChatPlatform;
}

export function checkChatUser(platform: string, user: string, farm?: string): ChatPlatform {
  checkChatPlatform(platform);
  if (!USER_PATTERN.test(user)) throw Errors.chatUserInvalid('user must be the platform user id (letters, digits, _ and -)');
  if (farm !== undefined && !ID_PATTERN.test(farm)) throw Errors.chatUserInvalid(`farm must match ${ID_PATTERN.source}`);
  return platform as ChatPlatform;
}

/** A mapping being added: also one an update can match (removing an old one only needs the above). */
export function checkNewChatUser(platform: string, user: string, farm: string): ChatPlatform {
  const p = checkChatUser(platform, user, farm);
  // Telegram's `from.id` is a positive number: any other id would be a mapping no update ever matches.
  if (p === 'telegram' && !/^[1-9]\d{0,15}$/.test(user)) throw Errors.chatUserInvalid("user must be Telegram's numeric user id");
  return p;
}

/** `<DATA_DIR>/chat.db`, or `:memory:` for tests. */
export function createSqliteChatUsers(path: string, clock: Clock = systemClock): ChatUserRepository {
  const db = openSqlite(path, MIGRATIONS, { synchronous: 'FULL' });
  const insert = db.prepare('INSERT OR IGNORE INTO chat_user (platform, user_id, farm, added_at) VALUES (?, ?, ?, ?)');
  const get = db.prepare<[string, string, string], { added_at: number }>('SELECT added_at FROM chat_user WHERE platform = ? AND user_id = ? AND farm = ?');
  const del = db.prepare('DELETE FROM chat_user WHERE platform = ? AND user_id = ? AND farm = ?');
  const all = db.prepare<[], Row>('SELECT platform, user_id, farm, added_at FROM chat_user ORDER BY platform, user_id, farm');
  const byPlatform = db.prepare<[string], Row>('SELECT platform, user_id, farm, added_at FROM chat_user WHERE platform = ? ORDER BY user_id, farm');
  const farms = db.prepare<[string, string], { farm: string }>('SELECT farm FROM chat_user WHERE platform = ? AND user_id = ? ORDER BY farm');
  interface Row {
    platform: ChatPlatform;
    user_id: string;
    farm: string;
    added_at: number;
  }
  const present = (r: Row): ChatUser => ({ platform: r.platform, user: r.user_id, farm: r.farm, added_at: new Date(r.added_at).toISOString() });
  return {
    async add(platform, user, farm) {
      const p = checkNewChatUser(platform, user, farm);
      insert.run(p, user, farm, clock.now());
      return { platform: p, user, farm, added_at: new Date(get.get(p, user, farm)!.added_at).toISOString() };
    },
    async remove(platform, user, farm) {
      checkChatUser(platform, user, farm);
      return del.run(platform, user, farm).changes > 0;
    },
    async list(platform) {
      return (platform === undefined ? all.all() : byPlatform.all(checkChatPlatform(platform))).map(present);
    },
    async farmsOf(platform, user) {
      return farms.all(platform, user).map((r) => r.farm);
    },
    open: async () => {},
    close: () => db.close(),
  };
}
