import type { Command } from 'commander';
import { createChatUserRepository } from '../../chat/open-users.js';
import type { ChatUserRepository } from '../../chat/users.js';
import { systemClock } from '../../shared/clock.js';
import { closeControlPlane, createControlPlane } from '../../shared/database/control-plane.js';
import { silentLogger } from '../../shared/logger.js';
import { cliConfig, printJson } from '../context.js';

/** Open the chat users `fieldhook start` uses (DATA_DIR's, or FIELDHOOK_DATABASE_URL's), run `fn`, and close them. */
async function withChatUsers<T>(fn: (users: ChatUserRepository) => Promise<T>): Promise<T> {
  const plane = createControlPlane(cliConfig(), silentLogger());
  const users = createChatUserRepository(plane, systemClock);
  try {
    await users.open();
    return await fn(users);
  } finally {
    users.close();
    await closeControlPlane(plane);
  }
}

/**
 * `fieldhook chat users add|remove|list`: which Slack and Telegram users may see and record for
 * which farms. The running fieldhook reads the same store on every chat request: no restart.
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
