/**
 * The chat users on both control-plane backends, by one suite: SQLite in the data folder and
 * PostgreSQL (the run's real server, a fresh database per test). On PostgreSQL a mapping added
 * through one instance counts on another at once.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createChatUserRepository } from '../../../services/chat/open-users.js';
import type { ChatUserRepository } from '../../../services/chat/users.js';
import { createManualClock } from '../../helpers/manual-clock.js';
import { BACKENDS, planeFixture, type PlaneFixture } from '../../helpers/control-plane-fixture.js';

const T0 = Date.parse('2026-07-06T08:00:00Z');
const exec = promisify(execFile);
const CLI_TIMEOUT = { timeout: 60_000 };
/** `fieldhook <args>` with the fixture's data folder and, on PostgreSQL, its database. */
const cli = (fixture: PlaneFixture, ...args: string[]) =>
  exec(process.execPath, ['--import', 'tsx', 'services/cli/main.ts', ...args], {
    env: { ...process.env, FIELDHOOK_DATA_DIR: fixture.dataDir, ...(fixture.databaseUrl ? { FIELDHOOK_DATABASE_URL: fixture.databaseUrl } : {}) },
  });
const codeOf = (promise: Promise<unknown>) => promise.then(() => 'resolved', (err: { code?: string }) => err.code);

describe.each(BACKENDS)('chat users on %s', (backend) => {
  let fixture: PlaneFixture;
  const clock = createManualClock(T0);

  const open = (instanceId?: string): Promise<ChatUserRepository> => fixture.open((plane) => createChatUserRepository(plane, clock), instanceId);

  beforeEach(async () => {
    fixture = await planeFixture(backend, 'chat_users');
  });
  afterEach(() => fixture.close());

  it('maps users to farms, keeps the first time a mapping was added, and lists them in byte order', async () => {
    const users = await open();
    expect(await users.add('slack', 'U2', 'f1')).toEqual({ platform: 'slack', user: 'U2', farm: 'f1', added_at: new Date(T0).toISOString() });
    await clock.advance(60_000);
    expect((await users.add('slack', 'U2', 'f1')).added_at).toBe(new Date(T0).toISOString());
    await users.add('slack', 'U2', 'F0');
    await users.add('slack', 'U1', 'f1');
    await users.add('telegram', '1111', 'f1');
    expect((await users.list()).map((u) => `${u.platform}:${u.user}:${u.farm}`)).toEqual(['slack:U1:f1', 'slack:U2:F0', 'slack:U2:f1', 'telegram:1111:f1']);
    expect((await users.list('telegram')).map((u) => u.user)).toEqual(['1111']);
    expect(await users.farmsOf('slack', 'U2')).toEqual(['F0', 'f1']);
    expect(await users.farmsOf('slack', 'U9')).toEqual([]);
  });

  it('removes a mapping and says whether it existed', async () => {
    const users = await open();
    await users.add('slack', 'U1', 'f1');
    expect(await users.remove('slack', 'U1', 'f1')).toBe(true);
    expect(await users.remove('slack', 'U1', 'f1')).toBe(false);
    expect(await users.farmsOf('slack', 'U1')).toEqual([]);
  });

  it('refuses an unknown platform, a malformed user or farm with FH_ERR_CHAT_USER_INVALID', async () => {
    const users = await open();
    expect(await codeOf(users.add('irc', 'U1', 'f1'))).toBe('FH_ERR_CHAT_USER_INVALID');
    expect(await codeOf(users.add('slack', 'U 1', 'f1'))).toBe('FH_ERR_CHAT_USER_INVALID');
    expect(await codeOf(users.add('slack', 'U1', 'f/1'))).toBe('FH_ERR_CHAT_USER_INVALID');
    // Telegram's user ids are positive numbers: another id could never match an update.
    for (const user of ['abc', '-5', '0']) expect(await codeOf(users.add('telegram', user, 'f1')), user).toBe('FH_ERR_CHAT_USER_INVALID');
    expect(await codeOf(users.list('irc'))).toBe('FH_ERR_CHAT_USER_INVALID');
    expect(await users.list()).toEqual([]);
  });

  it('keeps its mappings across a restart', async () => {
    const first = await open();
    await first.add('telegram', '42', 'f1');
    first.close();
    expect(await (await open()).farmsOf('telegram', '42')).toEqual(['f1']);
  });

  it.runIf(backend === 'postgres')('answers FH_ERR_DATABASE_UNAVAILABLE (503) when PostgreSQL does not answer', async () => {
    await open();
    const users = createChatUserRepository(fixture.plane('impatient', { statementTimeoutMs: 200 }), clock);
    await users.open();
    const release = await fixture.lock('chat_user');
    try {
      await expect(users.farmsOf('slack', 'U1')).rejects.toMatchObject({ code: 'FH_ERR_DATABASE_UNAVAILABLE', statusCode: 503 });
    } finally {
      await release();
    }
    expect(await users.farmsOf('slack', 'U1')).toEqual([]);
  });

  it('keeps the mappings `fieldhook chat users add` writes with the same settings', CLI_TIMEOUT, async () => {
    const users = await open();
    await cli(fixture, 'chat', 'users', 'add', '--platform', 'telegram', '--user', '4242', '--farm', 'f9');
    expect(await users.farmsOf('telegram', '4242')).toEqual(['f9']);
  });

  it.runIf(backend === 'postgres')('counts a mapping added through one instance on another at once', async () => {
    const a = await open('inst-a');
    const b = await open('inst-b');
    expect(await b.farmsOf('slack', 'U7')).toEqual([]);
    await a.add('slack', 'U7', 'f3');
    expect(await b.farmsOf('slack', 'U7')).toEqual(['f3']);
    await b.remove('slack', 'U7', 'f3');
    expect(await a.farmsOf('slack', 'U7')).toEqual([]);
  });
});
