import { join } from 'node:path';
import type { Command } from 'commander';
import { createSqliteChatUsers, type ChatUserRepository } from '../../chat/users.js';
import { cliConfig, printJson } from '../context.js';

/** Open the chat users of this DATA_DIR, run `fn`, and close them. */
async function withChatUsers<T>(fn: (users: ChatUserRepository) => Promise<T>): Promise<T> {
  const users = createSqliteChatUsers(join(cliConfig().DATA_DIR, 'chat.db'));
  try {
    return await fn(users);
  } finally {
    users.close();
  }
}

/**
 * `fieldhook chat users add|remove|list`: which Slack and Telegram users may see and record for
 * which farms. The running fieldhook reads the same file on every chat request: no restart.
 */
export function registerChatCommands(program: Command): void {
  const users = program.command('chat').description('Chat answers (Slack, Telegram)').command('users').description('Chat users and the farms they may see and record for');

  users
    .command('add')
    .description('Let a chat user see and record for a farm')
    .requiredOption('--platform <platform>', 'slack or telegram')
    .requiredOption('--user <id>', 'the platform user id (Slack U…, Telegram numeric id)')
    .requiredOption('--farm <farm>')
    .action((o: { platform: string; user: string; farm: string }) => withChatUsers(async (repo) => printJson(await repo.add(o.platform, o.user, o.farm))));

  users
    .command('remove')
    .description('Take a farm away from a chat user')
    .requiredOption('--platform <platform>', 'slack or telegram')
    .requiredOption('--user <id>')
    .requiredOption('--farm <farm>')
    .action((o: { platform: string; user: string; farm: string }) =>
      withChatUsers(async (repo) => printJson({ ...o, removed: await repo.remove(o.platform, o.user, o.farm) })),
    );

  users
    .command('list')
    .description('Chat users and their farms')
    .option('--platform <platform>', 'slack or telegram')
    .action((o: { platform?: string }) => withChatUsers(async (repo) => printJson(await repo.list(o.platform))));
}
