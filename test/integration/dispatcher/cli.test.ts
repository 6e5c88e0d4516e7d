import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerDeliveryCommands } from '../../../services/cli/commands/deliveries.js';
import { registerSubscriptionCommands } from '../../../services/cli/commands/subscriptions.js';
import { ADMIN_TOKEN, makeDispatcher, startReceiver, verify, type Receiver, type TestDispatcher } from './helpers.js';
import { eventually } from '../../helpers/eventually.js';

let t: TestDispatcher;
let receiver: Receiver;
let base: string;

beforeAll(async () => {
  receiver = await startReceiver();
  t = makeDispatcher();
  await t.dispatcher.start();
  base = await t.dispatcher.app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await receiver.close();
  await t.cleanup();
});

/** Run `fieldhook <args>` with the dispatcher commands; returns the parsed JSON it printed. */
async function cli(...args: string[]): Promise<{ out: any; exitCode: number | undefined }> {
  const program = new Command('fieldhook').exitOverride();
  registerSubscriptionCommands(program);
  registerDeliveryCommands(program);
  let printed = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    printed += String(chunk);
    return true;
  });
  const before = process.exitCode;
  try {
    await program.parseAsync(['node', 'fieldhook', ...args, '--admin-url', base, '--admin-token', ADMIN_TOKEN]);
  } finally {
    spy.mockRestore();
  }
  const exitCode = process.exitCode as number | undefined;
  process.exitCode = before;
  return { out: printed ? JSON.parse(printed) : undefined, exitCode };
}

describe('fieldhook subscriptions pointed at something that is not fieldhook', () => {
  it('refuses the answer of another server on that port instead of printing it', async () => {
    // A server that answers 200 with JSON, or 204, as a wrong --admin-url might.
    const foreign = createServer((req, res) => void (req.url?.includes('empty') ? res.writeHead(204).end() : res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true,"result":{}}')));
    await new Promise<void>((resolve) => foreign.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(foreign.address() as AddressInfo).port}`;
    try {
      for (const at of [url, `${url}/empty`]) {
        const program = new Command('fieldhook').exitOverride();
        registerSubscriptionCommands(program);
        await expect(program.parseAsync(['node', 'fieldhook', 'subscriptions', 'list', '--admin-url', at, '--admin-token', ADMIN_TOKEN])).rejects.toMatchObject({
          code: 'FH_ERR_CLI_UNREACHABLE',
          message: expect.stringContaining("does not answer as fieldhook's API"),
        });
      }
    } finally {
      foreign.close();
    }
  });
});

describe('fieldhook subscriptions / deliveries', () => {
  it('adds, lists, shows, updates, tests, rotates and removes through the API', async () => {
    const added = (await cli('subscriptions', 'add', receiver.url, '--events', 'irrigation.*,sensor.stale', '--description', 'bot')).out;
    expect(added).toMatchObject({ url: receiver.url, events: ['irrigation.*', 'sensor.stale'], description: 'bot' });
    expect(added.secret).toMatch(/^whsec_/);
    expect((await cli('subscriptions', 'list')).out.data).toHaveLength(1);
    expect((await cli('subscriptions', 'show', added.id)).out.secret).toBeUndefined();
    expect((await cli('subscriptions', 'update', added.id, '--rate-limit', '50')).out.rate_limit_per_second).toBe(50);

    const tested = await cli('subscriptions', 'test', added.id);
    expect(tested.exitCode).toBeUndefined();
    expect(tested.out.status).toBe('succeeded');
    expect(verify(added.secret, receiver.received.at(-1)!).type).toBe('webhook.test');

    const rotated = (await cli('subscriptions', 'rotate', added.id)).out;
    expect(rotated.secret).toMatch(/^whsec_/);
    await cli('subscriptions', 'test', added.id);
    const last = receiver.received.at(-1)!;
    expect(verify(rotated.secret, last).type).toBe('webhook.test');
    expect(verify(added.secret, last).type).toBe('webhook.test');

    const log = (await cli('deliveries', 'list', '--subscription', added.id, '--status', 'succeeded')).out;
    expect(log.data).toHaveLength(2);
    const shown = (await cli('deliveries', 'show', log.data[0].id)).out;
    expect(shown.attempt_log[0].status_code).toBe(204);
    const retried = (await cli('deliveries', 'retry', log.data[0].id)).out;
    expect(retried.status).toBe('pending');
    await eventually(() => receiver.received.length === 3);
    const recovered = (await cli('subscriptions', 'recover', added.id, '--since', '2020-01-01T00:00:00Z')).out;
    expect(recovered).toEqual({ recovered: 0 });

    expect((await cli('subscriptions', 'remove', added.id)).out).toEqual({ removed: added.id });
    await expect(cli('subscriptions', 'show', added.id)).rejects.toMatchObject({ code: 'FH_ERR_SUBSCRIPTION_NOT_FOUND' });
  });
});
