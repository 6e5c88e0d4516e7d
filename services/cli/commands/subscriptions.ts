import { Command, Option } from 'commander';
import { createAdminClient, type AdminClient } from '../../dispatcher/admin-client.js';
import { FORMAT_NAMES } from '../../dispatcher/formats/format-names.js';
import { LOCALES } from '../../dispatcher/messages/catalog.js';
import { Errors } from '../../shared/error-catalog.js';
import { cliConfig } from '../context.js';
import { runningPipeline, storedAdminToken } from '../local-pipeline.js';

/** The standalone dispatcher's API (services/dispatcher/main.ts), when nothing else says where. */
const STANDALONE_DISPATCHER_URL = 'http://127.0.0.1:8383';

/**
 * `fieldhook subscriptions …` and `fieldhook deliveries …` talk to the running dispatcher's HTTP
 * API (not to its SQLite file), so they work against a remote instance and never race the
 * delivery loop. `--admin-url`/`--admin-token` or FIELDHOOK_ADMIN_URL/FIELDHOOK_ADMIN_TOKEN;
 * without them, the pipeline `fieldhook start` runs on this data folder and the admin token it
 * generated there.
 */
export function adminOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--admin-url <url>', `dispatcher API base URL (default: the running fieldhook of this DATA_DIR, else ${STANDALONE_DISPATCHER_URL})`).env('FIELDHOOK_ADMIN_URL'))
    .addOption(new Option('--admin-token <token>', 'admin bearer token (default: the one fieldhook start generated for this DATA_DIR)').env('FIELDHOOK_ADMIN_TOKEN'));
}

export function clientOf(cmd: Command): AdminClient {
  const o = cmd.optsWithGlobals<{ adminUrl?: string; adminToken?: string }>();
  const dataDir = o.adminUrl && o.adminToken ? undefined : cliConfig().DATA_DIR;
  const baseUrl = o.adminUrl ?? (dataDir ? runningPipeline(dataDir)?.httpUrl : undefined) ?? STANDALONE_DISPATCHER_URL;
  const token = o.adminToken ?? (dataDir ? storedAdminToken(dataDir) : undefined);
  if (!token) throw Errors.cliInvalid('An admin token is required (--admin-token or FIELDHOOK_ADMIN_TOKEN; fieldhook start generates one when none is set)');
  return createAdminClient({ baseUrl, token });
}

export function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);

function rate(v: string | undefined): number | null | undefined {
  if (v === undefined) return undefined;
  if (v === 'none') return null;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw Errors.cliInvalid('--rate-limit is a positive number or "none"');
  return n;
}

interface SubscriptionOptions {
  url?: string;
  events?: string[];
  farms?: string[];
  fields?: string[];
  description?: string;
  rateLimit?: string;
  secret?: string;
  enable?: boolean;
  disable?: boolean;
  format?: string;
  locale?: string;
  timezone?: string;
  chatId?: string;
  threadId?: string;
}

/** A Telegram chat: a number (negative for groups) or a channel's @username, as the API takes it. */
function chatId(v: string): number | string {
  return /^-?[0-9]{1,15}$/.test(v) ? Number(v) : v;
}

/** The format's settings from its options; the API checks them against the format. */
function settings(o: SubscriptionOptions): Record<string, unknown> | undefined {
  const s: Record<string, unknown> = {
    ...(o.chatId !== undefined ? { chat_id: chatId(o.chatId) } : {}),
    ...(o.threadId !== undefined ? { message_thread_id: Number(o.threadId) } : {}),
  };
  return Object.keys(s).length > 0 ? s : undefined;
}

function body(o: SubscriptionOptions): Record<string, unknown> {
  const r = rate(o.rateLimit);
  if (o.enable && o.disable) throw Errors.cliInvalid('--enable and --disable exclude each other');
  return {
    ...(o.url !== undefined ? { url: o.url } : {}),
    ...(o.events ? { events: o.events } : {}),
    ...(o.farms ? { farms: o.farms } : {}),
    ...(o.fields ? { fields: o.fields } : {}),
    ...(o.description !== undefined ? { description: o.description } : {}),
    ...(r !== undefined ? { rate_limit_per_second: r } : {}),
    ...(o.enable ? { enabled: true } : {}),
    ...(o.disable ? { enabled: false } : {}),
    ...(o.format !== undefined ? { format: o.format } : {}),
    ...(o.locale !== undefined ? { locale: o.locale } : {}),
    ...(o.timezone !== undefined ? { timezone: o.timezone } : {}),
    ...(settings(o) ? { settings: settings(o) } : {}),
  };
}

const filterOptions = (cmd: Command) =>
  cmd
    .option('--events <types>', 'comma-separated event types; * = all, irrigation.* = a family', list)
    .option('--farms <farms>', 'comma-separated farms (empty = all)', list)
    .option('--fields <fields>', 'comma-separated fields (empty = all)', list)
    .option('--description <text>')
    .option('--rate-limit <per-second>', 'deliveries per second at most, or "none"')
    .addOption(new Option('--format <format>', 'how events are delivered').choices([...FORMAT_NAMES]))
    .option('--locale <locale>', `language of the messages for people: ${LOCALES.join(', ')}`)
    .option('--timezone <zone>', 'IANA time zone of the times in messages, e.g. Asia/Jerusalem')
    .option('--chat-id <id>', 'telegram: the chat id or @channel')
    .option('--thread-id <id>', 'telegram: a forum topic of the chat');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function registerSubscriptionCommands(program: Command): void {
  const subs = adminOptions(program.command('subscriptions').description('Webhook subscriptions (via the dispatcher API)'));

  filterOptions(
    subs
      .command('add <url>')
      .description('Create a subscription; prints it with its secret (shown once). <url> is the receiver, the platform webhook or bot URL, or mailto:a@x,b@y for email'),
  )
    .option('--secret <whsec>', 'use this secret instead of a generated one')
    .option('--disabled', 'create it disabled')
    .action(async (url: string, o: SubscriptionOptions & { disabled?: boolean }, cmd: Command) => {
      print(await clientOf(cmd).call('POST', '/v1/subscriptions', { ...body({ ...o, url }), ...(o.secret ? { secret: o.secret } : {}), ...(o.disabled ? { enabled: false } : {}) }));
    });

  subs.command('list').description('List subscriptions').action(async (_o, cmd: Command) => print(await clientOf(cmd).call('GET', '/v1/subscriptions')));

  subs
    .command('show <id>')
    .description('Show one subscription')
    .action(async (id: string, _o, cmd: Command) => print(await clientOf(cmd).call('GET', `/v1/subscriptions/${encodeURIComponent(id)}`)));

  filterOptions(subs.command('update <id>').description('Change a subscription; --enable delivers its backlog'))
    .option('--url <url>')
    .option('--enable')
    .option('--disable')
    .action(async (id: string, o: SubscriptionOptions, cmd: Command) => {
      const patch = body(o);
      if (Object.keys(patch).length === 0) throw Errors.cliInvalid('Nothing to update');
      const client = clientOf(cmd);
      const path = `/v1/subscriptions/${encodeURIComponent(id)}`;
      // The API wants the format named with its settings or a mailto: URL; the CLI keeps the current one.
      if (patch.format === undefined && (patch.settings !== undefined || String(patch.url ?? '').startsWith('mailto:'))) {
        patch.format = (await client.call<{ format: string }>('GET', path)).format;
      }
      print(await client.call('PATCH', path, patch));
    });

  subs
    .command('remove <id>')
    .description('Delete a subscription with its backlog and log')
    .action(async (id: string, _o, cmd: Command) => {
      await clientOf(cmd).call('DELETE', `/v1/subscriptions/${encodeURIComponent(id)}`);
      print({ removed: id });
    });

  subs
    .command('rotate <id>')
    .description('Rotate the secret; the old one keeps signing during the overlap')
    .option('--secret <whsec>', 'use this secret instead of a generated one')
    .action(async (id: string, o: { secret?: string }, cmd: Command) => {
      print(await clientOf(cmd).call('POST', `/v1/subscriptions/${encodeURIComponent(id)}/rotate-secret`, o.secret ? { secret: o.secret } : {}));
    });

  subs
    .command('test <id>')
    .description('Send a webhook.test event and wait for its outcome (exit 1 unless delivered)')
    .option('--wait <ms>', 'how long to wait for the outcome', '20000')
    .action(async (id: string, o: { wait: string }, cmd: Command) => {
      const client = clientOf(cmd);
      const sent = await client.call<{ delivery_id: string }>('POST', `/v1/subscriptions/${encodeURIComponent(id)}/test`);
      const deadline = Date.now() + Number(o.wait);
      let delivery: { status: string; attempts: number } = { status: 'pending', attempts: 0 };
      // The first attempt tells: do not wait through the retry schedule.
      while (Date.now() < deadline) {
        delivery = await client.call('GET', `/v1/deliveries/${sent.delivery_id}`);
        if (delivery.status !== 'pending' || delivery.attempts > 0) break;
        await sleep(200);
      }
      print(delivery);
      if (delivery.status !== 'succeeded') process.exitCode = 1;
    });

  subs
    .command('recover <id>')
    .description('Re-send every failed delivery of this subscription since a time')
    .requiredOption('--since <time>', 'ISO 8601 time')
    .action(async (id: string, o: { since: string }, cmd: Command) => {
      const since = new Date(o.since);
      if (Number.isNaN(since.getTime())) throw Errors.cliInvalid('--since must be an ISO 8601 time');
      print(await clientOf(cmd).call('POST', `/v1/subscriptions/${encodeURIComponent(id)}/recover?since=${encodeURIComponent(since.toISOString())}`));
    });
}
