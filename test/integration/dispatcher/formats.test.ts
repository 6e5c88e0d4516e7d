/**
 * Chat platforms and e-mail through the real dispatcher: its outbox, delivery loop, SSRF guard and
 * delivery log. Local stand-ins play the platforms: each checks the body against the shape the
 * platform documents (test/unit/dispatcher/formats/platform-shapes.ts) and answers as the platform
 * does, 400 with the problems when it does not fit; e-mail goes to a local SMTP server and is
 * parsed as a mail client would.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { Command } from 'commander';
import { SMTPServer } from 'smtp-server';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { registerSubscriptionCommands } from '../../../services/cli/commands/subscriptions.js';
import { eventually } from '../../helpers/eventually.js';
import { createManualClock } from '../../helpers/manual-clock.js';
import { ADVICE, STALE } from '../../unit/dispatcher/formats/fixtures.js';
import { decodeEncodedWords, discordProblems, ntfyProblems, slackProblems, teamsProblems, TELEGRAM_DOC_429, telegramProblems } from '../../unit/dispatcher/formats/platform-shapes.js';
import { ADMIN_TOKEN, auth, createSubscription, makeDispatcher, type TestDispatcher } from './helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

type Platform = 'slack' | 'teams' | 'telegram' | 'discord' | 'ntfy';

interface Posted {
  platform: Platform;
  path: string;
  body: Record<string, any>;
  problems: string[];
}

/** What the platform answers when a body fits: status and body as each documents it. */
const ACCEPTED: Record<Platform, Answer> = {
  slack: { status: 200, body: 'ok' },
  teams: { status: 202, body: '' },
  telegram: { status: 200, body: JSON.stringify({ ok: true, result: { message_id: 1 } }) },
  discord: { status: 204, body: '' },
  ntfy: { status: 200, body: JSON.stringify({ id: 'x', event: 'message' }) },
};

/** Each platform's documented shape; ntfy takes a text body with headers, the others JSON. */
const CHECK: Record<Platform, (body: Record<string, any>, headers: Record<string, string | undefined>, text: string) => string[]> = {
  slack: (b) => slackProblems(b),
  teams: (b) => teamsProblems(b, { minVersion: 1.4 }),
  telegram: (b) => telegramProblems(b),
  discord: (b) => discordProblems(b),
  ntfy: (_b, headers, text) => ntfyProblems({ headers, body: text }),
};

function platformOf(path: string): Platform | null {
  if (path.startsWith('/services/')) return 'slack';
  if (path.startsWith('/workflows/')) return 'teams';
  if (/^\/bot[^/]+\/sendMessage$/.test(path)) return 'telegram';
  if (path.startsWith('/api/webhooks/')) return 'discord';
  if (path.startsWith('/ntfy/')) return 'ntfy';
  return null;
}

/**
 * One local server standing in for all five platforms, told apart by their URL paths. `override`
 * answers a request instead (a 429, say); otherwise a body that fits is accepted.
 */
interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

async function startPlatforms(override: (p: Posted, n: number) => Answer | null = () => null) {
  const posted: Posted[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const platform = platformOf(path);
      const text = Buffer.concat(chunks).toString('utf8');
      const headers = req.headers as Record<string, string | undefined>;
      let body: Record<string, any> = {};
      let problems: string[];
      if (platform === 'ntfy') {
        body = { message: text, title: decodeEncodedWords(headers.title ?? ''), priority: headers.priority, tags: headers.tags };
        problems = CHECK.ntfy(body, headers, text);
      } else {
        try {
          body = JSON.parse(text);
          problems = platform ? CHECK[platform](body, headers, text) : ['no platform at this path'];
          if (!String(headers['content-type']).startsWith('application/json')) problems.push('content-type');
        } catch {
          problems = ['body is not JSON'];
        }
      }
      const p: Posted = { platform: platform ?? 'slack', path, body, problems };
      const n = posted.filter((x) => x.platform === p.platform).length;
      posted.push(p);
      const answer: Answer = override(p, n) ?? (problems.length > 0 ? { status: 400, body: problems.join('; ') } : ACCEPTED[p.platform]);
      res.writeHead(answer.status, answer.headers ?? {});
      res.end(answer.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  cleanups.push(
    () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const urls: Record<Platform, string> = {
    slack: `${base}/services/T000/B000/XXXX`,
    teams: `${base}/workflows/abc/triggers/manual/paths/invoke?sig=XXXX`,
    telegram: `${base}/bot123456:ABC-DEF`,
    discord: `${base}/api/webhooks/123/XXXX`,
    ntfy: `${base}/ntfy/north-field`,
  };
  return { posted, urls, of: (platform: Platform) => posted.filter((p) => p.platform === platform) };
}

/** A local SMTP server without TLS or auth; every message is parsed as a mail client would. */
async function startSmtp() {
  const mails: ParsedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      simpleParser(stream).then(
        (mail) => {
          mails.push(mail);
          callback();
        },
        (err: Error) => callback(err),
      );
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
  return { mails, url: `smtp://127.0.0.1:${port}` };
}

async function deliveryOf(t: TestDispatcher, eventId: string, subscriptionId: string) {
  const list = await t.dispatcher.app.inject({ method: 'GET', url: `/v1/deliveries?event_id=${eventId}&subscription_id=${subscriptionId}`, headers: auth });
  const id = (list.json() as { data: { id: string }[] }).data[0]!.id;
  const res = await t.dispatcher.app.inject({ method: 'GET', url: `/v1/deliveries/${id}`, headers: auth });
  return res.json() as { id: string; status: string; attempts: number; next_attempt_at: string | null; last_attempt_at: string | null; attempt_log: { status_code: number | null }[] };
}

/** The advice of the fixtures, valid for a day from `now` (the dispatcher never sends stale advice). */
function publishAdvice(t: TestDispatcher, now = Date.now()) {
  return t.dispatcher.publish({ type: ADVICE.type, id: ADVICE.id, data: ADVICE.data, valid_until: new Date(now + 86_400_000).toISOString() });
}

describe('chat and e-mail subscriptions through the dispatcher', () => {
  it('a Slack, a Teams, a Telegram, a Discord, an ntfy and an e-mail subscription each receive a readable advice', async () => {
    const platforms = await startPlatforms();
    const smtp = await startSmtp();
    const t = makeDispatcher({ SMTP_URL: smtp.url, SMTP_FROM: 'fieldhook <fieldhook@farm.example>' });
    cleanups.push(() => t.cleanup());
    await t.dispatcher.start();
    const subs: Record<string, string> = {};
    for (const platform of ['slack', 'teams', 'discord', 'ntfy'] as const) {
      subs[platform] = (await createSubscription(t.dispatcher, { url: platforms.urls[platform], format: platform, timezone: 'Asia/Jerusalem' })).id;
    }
    subs.telegram = (await createSubscription(t.dispatcher, { url: platforms.urls.telegram, format: 'telegram', settings: { chat_id: -100123 }, timezone: 'Asia/Jerusalem' })).id;
    subs.email = (await createSubscription(t.dispatcher, { url: 'mailto:agronomist@farm.example', format: 'email', timezone: 'Asia/Jerusalem' })).id;

    await publishAdvice(t);
    for (const [name, id] of Object.entries(subs)) {
      await eventually(async () => (await deliveryOf(t, ADVICE.id, id)).status === 'succeeded', { what: `${name} delivered` });
    }
    for (const p of platforms.posted) expect(p.problems, p.platform).toEqual([]);
    const sentence = 'North field: irrigate 18 mm net (21 mm gross) by Tue 06:00';
    expect(platforms.of('slack')[0]!.body.text).toContain(sentence);
    expect(platforms.of('teams')[0]!.body.attachments[0].content.body[1].text).toContain(sentence);
    expect(platforms.of('telegram')[0]!.body).toMatchObject({ chat_id: -100123, reply_markup: { inline_keyboard: [[{ callback_data: 'irr|f1|north|18' }]] } });
    expect(platforms.of('discord')[0]!.body.content).toContain(sentence);
    expect(platforms.of('ntfy')[0]!.body).toMatchObject({ title: 'Irrigate North field', priority: '4', tags: 'droplet' });
    expect(platforms.of('ntfy')[0]!.body.message).toContain(sentence);
    expect(smtp.mails).toHaveLength(1);
    expect(smtp.mails[0]!.text).toContain(sentence);
    // The delivery log keeps each platform's answer; the relay's reply code stands for e-mail.
    expect((await deliveryOf(t, ADVICE.id, subs.teams!)).attempt_log[0]!.status_code).toBe(202);
    expect((await deliveryOf(t, ADVICE.id, subs.email!)).attempt_log[0]!.status_code).toBe(250);
  });

  it("honours a platform's 429: Slack's Retry-After header and Telegram's parameters.retry_after", async () => {
    const clock = createManualClock();
    const platforms = await startPlatforms((p, n): Answer | null => {
      if (n > 0) return null;
      if (p.platform === 'slack') return { status: 429, headers: { 'retry-after': '30' }, body: 'rate_limited' };
      if (p.platform === 'telegram') return { status: 429, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...TELEGRAM_DOC_429, parameters: { retry_after: 20 } }) };
      return null;
    });
    // The schedule alone would retry after 100 ms.
    const t = makeDispatcher({ WEBHOOK_RETRY_SCHEDULE_MS: [0, 100, 200, 300] }, { clock });
    cleanups.push(() => t.cleanup());
    await t.dispatcher.start();
    const slack = (await createSubscription(t.dispatcher, { url: platforms.urls.slack, format: 'slack' })).id;
    const telegram = (await createSubscription(t.dispatcher, { url: platforms.urls.telegram, format: 'telegram', settings: { chat_id: 42 } })).id;
    await publishAdvice(t, clock.now());

    const waits: Record<string, number> = {};
    for (const [name, id] of [['slack', slack], ['telegram', telegram]] as const) {
      const d = await eventually(async () => {
        const x = await deliveryOf(t, ADVICE.id, id);
        return x.attempts === 1 ? x : null;
      });
      expect(d.status).toBe('pending');
      waits[name] = Date.parse(d.next_attempt_at!) - Date.parse(d.last_attempt_at!);
    }
    expect(waits).toEqual({ slack: 30_000, telegram: 20_000 });

    await clock.advance(20_000);
    await eventually(async () => (await deliveryOf(t, ADVICE.id, telegram)).status === 'succeeded');
    expect(platforms.of('slack')).toHaveLength(1);
    await clock.advance(10_000);
    await eventually(async () => (await deliveryOf(t, ADVICE.id, slack)).status === 'succeeded');
    expect(platforms.of('slack')).toHaveLength(2);
    expect(platforms.of('telegram')).toHaveLength(2);
  });

  it('replays a delivery on demand: the same message again, to the platform and by e-mail (same Message-ID)', async () => {
    const platforms = await startPlatforms();
    const smtp = await startSmtp();
    const t = makeDispatcher({ SMTP_URL: smtp.url, SMTP_FROM: 'fieldhook@farm.example' });
    cleanups.push(() => t.cleanup());
    await t.dispatcher.start();
    const slack = (await createSubscription(t.dispatcher, { url: platforms.urls.slack, format: 'slack' })).id;
    const email = (await createSubscription(t.dispatcher, { url: 'mailto:agronomist@farm.example', format: 'email' })).id;
    await t.dispatcher.publish({ type: STALE.type, id: STALE.id, data: STALE.data });
    for (const id of [slack, email]) await eventually(async () => (await deliveryOf(t, STALE.id, id)).status === 'succeeded');

    for (const id of [slack, email]) {
      const d = await deliveryOf(t, STALE.id, id);
      const retry = await t.dispatcher.app.inject({ method: 'POST', url: `/v1/deliveries/${d.id}/retry`, headers: auth });
      expect(retry.statusCode).toBe(202);
    }
    await eventually(() => platforms.of('slack').length === 2 && smtp.mails.length === 2);
    expect(platforms.of('slack')[1]!.body).toEqual(platforms.of('slack')[0]!.body);
    expect(smtp.mails[1]!.messageId).toBe(smtp.mails[0]!.messageId);
    expect(smtp.mails[0]!.messageId).toBe(`<${STALE.id}.${email}@farm.example>`);
  });

  it('sends Hebrew e-mail a client shows right to left: UTF-8, a text and an HTML part, its language', async () => {
    const smtp = await startSmtp();
    const t = makeDispatcher({ SMTP_URL: smtp.url, SMTP_FROM: 'fieldhook <fieldhook@farm.example>' });
    cleanups.push(() => t.cleanup());
    await t.dispatcher.start();
    await createSubscription(t.dispatcher, { url: 'mailto:agronomist@farm.example,manager@farm.example', format: 'email', locale: 'he', timezone: 'Asia/Jerusalem' });
    await publishAdvice(t);
    const mail = await eventually(() => smtp.mails[0]);

    expect(mail.from?.value).toEqual([{ address: 'fieldhook@farm.example', name: 'fieldhook' }]);
    expect((Array.isArray(mail.to) ? mail.to : [mail.to]).flatMap((a) => a!.value.map((v) => v.address))).toEqual(['agronomist@farm.example', 'manager@farm.example']);
    expect(mail.subject).toBe('\u200fלהשקות את \u2068שדה \u2068North\u2069\u2069');
    expect(mail.headers.get('content-language')).toBe('he');
    expect(mail.headers.get('auto-submitted')).toBe('auto-generated');
    expect(mail.headers.get('x-fieldhook-event-type')).toBe('irrigation.recommended');
    expect(String(mail.headers.get('content-type') && (mail.headers.get('content-type') as { value: string }).value)).toBe('multipart/alternative');
    expect(mail.text).toContain('להשקות \u206818 מ״מ\u2069 נטו');
    expect(mail.html).toContain('<html lang="he" dir="rtl">');
    expect(mail.html).toContain('בתוקף עד');
  });

  it('refuses what a subscription cannot be, naming the field', async () => {
    const t = makeDispatcher();
    cleanups.push(() => t.cleanup());
    const post = async (payload: Record<string, unknown>) => {
      const res = await t.dispatcher.app.inject({ method: 'POST', url: '/v1/subscriptions', headers: auth, payload });
      return { status: res.statusCode, ...(res.json() as { code: string; field?: string }) };
    };
    const url = 'https://hooks.example.com/services/T/B/X';
    expect(await post({ url, fromat: 'slack' })).toMatchObject({ status: 400, code: 'FH_ERR_SUBSCRIPTION_UNKNOWN_FIELD', field: 'fromat' });
    expect(await post({ url, format: 'slack', settings: { chat_id: 1 } })).toMatchObject({ status: 400, code: 'FH_ERR_SUBSCRIPTION_UNKNOWN_FIELD', field: 'settings.chat_id' });
    expect(await post({ url, format: 'telegram' })).toMatchObject({ status: 400, code: 'FH_ERR_SUBSCRIPTION_INVALID_SETTINGS', field: 'settings.chat_id' });
    expect(await post({ url, format: 'slack', locale: 'fr' })).toMatchObject({ status: 400, code: 'FH_ERR_SUBSCRIPTION_UNKNOWN_LOCALE', field: 'locale' });
    expect(await post({ url, timezone: 'Europe/Atlantis' })).toMatchObject({ status: 400, code: 'FH_ERR_SUBSCRIPTION_INVALID_TIMEZONE', field: 'timezone' });
    expect(await post({ url: 'mailto:a@farm.example', format: 'email' })).toMatchObject({ status: 400, code: 'FH_ERR_SUBSCRIPTION_FORMAT_UNAVAILABLE' });
    const many = `mailto:${Array.from({ length: 21 }, (_, i) => `a${i}@farm.example`).join(',')}`;
    expect(await post({ url: many, format: 'email' })).toMatchObject({ status: 400, code: 'FH_ERR_SUBSCRIPTION_INVALID_URL', title: expect.stringContaining('1 to 20 addresses separated by commas (21 given') });
    expect((await post({ url, format: 'slak' })).code).toBe('FH_ERR_HTTP_INVALID_REQUEST');

    const created = await t.dispatcher.app.inject({ method: 'POST', url: '/v1/subscriptions', headers: auth, payload: { url, format: 'slack', locale: 'he', timezone: 'Asia/Jerusalem' } });
    expect(created.json()).toMatchObject({ format: 'slack', locale: 'he', timezone: 'Asia/Jerusalem', settings: {} });
    const id = (created.json() as { id: string }).id;
    const patched = await t.dispatcher.app.inject({ method: 'PATCH', url: `/v1/subscriptions/${id}`, headers: auth, payload: { locale: 'en', timezone: 'UTC' } });
    expect(patched.json()).toMatchObject({ format: 'slack', locale: 'en', timezone: 'UTC' });
    // Settings say which format they are for: whether a change fits never depends on the past.
    const bare = await t.dispatcher.app.inject({ method: 'PATCH', url: `/v1/subscriptions/${id}`, headers: auth, payload: { settings: { chat_id: 5 } } });
    expect(bare.json()).toMatchObject({ code: 'FH_ERR_SUBSCRIPTION_INVALID_SETTINGS', field: 'format' });
    const moved = await t.dispatcher.app.inject({ method: 'PATCH', url: `/v1/subscriptions/${id}`, headers: auth, payload: { format: 'telegram', settings: { chat_id: 5 } } });
    expect(moved.json()).toMatchObject({ format: 'telegram', settings: { chat_id: 5 } });
    const typo = await t.dispatcher.app.inject({ method: 'PATCH', url: `/v1/subscriptions/${id}`, headers: auth, payload: { timezon: 'UTC' } });
    expect(typo.json()).toMatchObject({ code: 'FH_ERR_SUBSCRIPTION_UNKNOWN_FIELD', field: 'timezon' });
  });

  it('fieldhook subscriptions add --format telegram --chat-id --locale --timezone, then test: the chat gets the test message in Hebrew', async () => {
    const platforms = await startPlatforms();
    const t = makeDispatcher();
    cleanups.push(() => t.cleanup());
    await t.dispatcher.start();
    const base = await t.dispatcher.app.listen({ host: '127.0.0.1', port: 0 });
    const cli = async (...args: string[]) => {
      const program = new Command('fieldhook').exitOverride();
      registerSubscriptionCommands(program);
      let printed = '';
      const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((printed += String(chunk)), true));
      const before = process.exitCode;
      try {
        await program.parseAsync(['node', 'fieldhook', ...args, '--admin-url', base, '--admin-token', ADMIN_TOKEN]);
      } finally {
        spy.mockRestore();
      }
      const exitCode = process.exitCode;
      process.exitCode = before;
      return { out: JSON.parse(printed) as Record<string, any>, exitCode };
    };

    const added = (await cli('subscriptions', 'add', platforms.urls.telegram, '--format', 'telegram', '--chat-id', '-100123', '--locale', 'he', '--timezone', 'Asia/Jerusalem')).out;
    expect(added).toMatchObject({ format: 'telegram', locale: 'he', timezone: 'Asia/Jerusalem', settings: { chat_id: -100123 } });
    const tested = await cli('subscriptions', 'test', added.id);
    expect(tested.out.status).toBe('succeeded');
    expect(tested.exitCode).toBeUndefined();
    const sent = platforms.of('telegram')[0]!;
    expect(sent.problems).toEqual([]);
    expect(sent.body.text).toContain('הודעת בדיקה מ־fieldhook');
    expect((await cli('subscriptions', 'update', added.id, '--locale', 'en')).out.locale).toBe('en');
    // A new chat without --format: the CLI names the subscription's own, as the API wants.
    expect((await cli('subscriptions', 'update', added.id, '--chat-id', '@farm_channel')).out).toMatchObject({ format: 'telegram', settings: { chat_id: '@farm_channel' } });
  });
});
