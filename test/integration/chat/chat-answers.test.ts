/**
 * Answering advice in Slack and Telegram, end to end against the real InfluxDB and Mosquitto: a
 * verified "irrigated north 18" (slash command, Telegram message) or a click on the advice's button
 * (Slack block_actions, Telegram callback query) records the irrigation and the predictor clears
 * the advice; answers go back through each platform's documented shape (Slack's HTTP response and
 * `response_url`, the Bot API's `sendMessage` and `answerCallbackQuery` on a local server that
 * checks them); anything not verified, stale, or from a user without the farm is refused.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildChat, type Chat } from '../../../services/chat/build-chat.js';
import { CHAT_CONFIG } from '../../../services/chat/config.js';
import { predictorFieldDirectory } from '../../../services/chat/predictor-fields.js';
import { slackSignature } from '../../../services/chat/verify.js';
import { createSqliteChatUsers, type ChatUserRepository } from '../../../services/chat/users.js';
import type { PublishInput } from '../../../services/dispatcher/index.js';
import { buildHostApp } from '../../../services/host/http-app.js';
import { buildIrrigations, type Irrigations } from '../../../services/irrigations/build-irrigations.js';
import type { Predictor } from '../../../services/predictor/build-predictor.js';
import { createModelHolder } from '../../../services/predictor/model-holder.js';
import type { DeviceRepository } from '../../../services/registry/device.js';
import { createSqliteDeviceRepository } from '../../../services/registry/sqlite-devices.js';
import { loadConfig } from '../../../services/shared/config.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { advisedPredictor, advisedSeason } from '../../helpers/advice-fixture.js';
import { eventually } from '../../helpers/eventually.js';
import { testInflux } from '../../helpers/test-influx.js';

const influx = testInflux();

const FARM = 'f1';
const FIELDS = ['north', 'south', 'east', 'west'];
const SIGNING_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const SECRET_TOKEN = 'telegram-secret_token-0123';
const BOT_TOKEN = '123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11';

/** What the local stand-ins for Slack's response_url and the Bot API received. */
interface Received {
  path: string;
  body: Record<string, unknown>;
}

describe(`answering advice in Slack and Telegram (InfluxDB ${influx.kind})`, () => {
  const mosquittoUrl = inject('mosquittoUrl');
  const database = `chat_answers_${process.pid}`;
  const target = influx.target(database);
  const dir = mkdtempSync(join(tmpdir(), 'fh-chat-'));
  const holder = createModelHolder({ modelPath: 'models/irrigation/model.onnx', cardPath: 'models/irrigation/model.json', pollMs: 60_000 }, silentLogger());
  const published: PublishInput[] = [];
  const received: Received[] = [];
  let platform: Server;
  let platformUrl = '';
  let devices: DeviceRepository;
  let users: ChatUserRepository;
  let irrigations: Irrigations;
  let predictor: Predictor;
  let chat: Chat;
  let app: FastifyInstance;
  let now = 0;
  /** The depth that refills each field: its depletion at the advice, rounded up. */
  const refill = new Map<string, number>();

  const cleared = (field: string) => published.find((e) => e.type === 'irrigation.cleared' && e.field === field);

  const slack = (body: string, headers: Record<string, string> = {}) => {
    const timestamp = String(Math.floor(now / 1000));
    return app.inject({
      method: 'POST',
      url: '/v1/chat/slack',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': timestamp,
        'x-slack-signature': slackSignature(SIGNING_SECRET, timestamp, body),
        ...headers,
      },
      payload: body,
    });
  };
  /** A slash command as Slack sends it (fields of https://api.slack.com/interactivity/slash-commands#app_command_handling). */
  const slashCommand = (user: string, text: string, trigger = `trigger-${user}-${text.length}-${Math.random()}`) =>
    new URLSearchParams({
      token: 'gIkuvaNzQIHg97ATvDxqgjtO', team_id: 'T0001', team_domain: 'example', channel_id: 'C2147483705', channel_name: 'farm', user_id: user,
      user_name: 'maria', command: '/fieldhook', text, api_app_id: 'A123456', response_url: `${platformUrl}/commands/T0001/1/abc`, trigger_id: trigger,
    }).toString();
  const telegram = (update: unknown, token: string | null = SECRET_TOKEN) =>
    app.inject({
      method: 'POST',
      url: '/v1/chat/telegram',
      headers: { 'content-type': 'application/json', ...(token === null ? {} : { 'x-telegram-bot-api-secret-token': token }) },
      payload: JSON.stringify(update),
    });
  /** A text message update (https://core.telegram.org/bots/api#update, #message). */
  const telegramText = (updateId: number, from: number, text: string) => ({
    update_id: updateId,
    message: { message_id: updateId, from: { id: from, is_bot: false, first_name: 'Maria' }, chat: { id: from, first_name: 'Maria', type: 'private' }, date: Math.floor(now / 1000), text },
  });

  beforeAll(async () => {
    // Slack's response_url and the Telegram Bot API, as far as the documented shapes go.
    platform = createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        const body = JSON.parse(text) as Record<string, unknown>;
        received.push({ path: req.url ?? '', body });
        const telegramMethod = /^\/bot([^/]+)\/(sendMessage|answerCallbackQuery|getMe)$/.exec(req.url ?? '');
        if (req.url?.startsWith('/bot')) {
          const method = telegramMethod?.[2];
          const ok = telegramMethod?.[1] === BOT_TOKEN && req.headers['content-type'] === 'application/json' &&
            (method === 'sendMessage' ? typeof body.text === 'string' && body.chat_id !== undefined : method === 'getMe' ? true : typeof body.callback_query_id === 'string');
          // getMe answers with the bot's User (https://core.telegram.org/bots/api#user).
          const result = method === 'getMe' ? { id: 7_000_001, is_bot: true, first_name: 'fieldhook', username: 'fieldhook_bot' } : true;
          res.writeHead(ok ? 200 : 400, { 'content-type': 'application/json' }).end(JSON.stringify(ok ? { ok: true, result } : { ok: false, error_code: 400, description: 'Bad Request' }));
          return;
        }
        const ok = typeof body.text === 'string' && body.replace_original === false;
        res.writeHead(ok ? 200 : 400).end(ok ? 'ok' : 'invalid_payload');
      });
    });
    await new Promise<void>((resolve) => platform.listen(0, '127.0.0.1', resolve));
    platformUrl = `http://127.0.0.1:${(platform.address() as AddressInfo).port}`;

    await influx.createDatabase(database);
    await holder.start();
    const season = await advisedSeason('irrigation-advice', holder);
    await season.write(target, FIELDS.map((field) => ({ farm: FARM, field })));
    now = season.adviceAt;
    const clock = { now: () => now, setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms), clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout) };
    const bus = () => ({ url: mosquittoUrl, protocolVersion: 5 as const, sharedSubscriptions: true });
    devices = createSqliteDeviceRepository(join(dir, 'registry.db'));
    irrigations = buildIrrigations({ config: { DATA_DIR: dir }, logger: silentLogger(), devices, influx: target, bus, clock });
    predictor = await advisedPredictor({
      settings: FIELDS.map((field) => season.settings(FARM, field)), target, bus, clock, holder, published, dataDir: dir, clientId: `chat-answers-${process.pid}`,
    });
    users = createSqliteChatUsers(join(dir, 'chat.db'));
    await users.add('slack', 'U2147483697', FARM);
    await users.add('telegram', '1111', FARM);
    await users.add('slack', 'U0COLLEAGUE', FARM);
    await users.add('telegram', '3333', FARM);
    await users.add('slack', 'U0OTHERFARM', 'f2');
    const config = loadConfig(CHAT_CONFIG, {
      FIELDHOOK_SLACK_SIGNING_SECRET: SIGNING_SECRET,
      FIELDHOOK_SLACK_RESPONSE_URL_PREFIX: `${platformUrl}/`,
      FIELDHOOK_TELEGRAM_SECRET_TOKEN: SECRET_TOKEN,
      FIELDHOOK_TELEGRAM_BOT_TOKEN: BOT_TOKEN,
      FIELDHOOK_TELEGRAM_API_BASE_URL: platformUrl,
    });
    chat = buildChat({ config: { ...config, DATA_DIR: dir }, logger: silentLogger(), irrigations: irrigations.service, fields: predictorFieldDirectory(predictor), clock, users });
    app = buildHostApp([chat], { logger: silentLogger() });
    await irrigations.start();
    await predictor.start();
    for (const field of FIELDS) {
      const e = (await predictor.assess(FARM, field))!;
      expect(e.decision.state.advice, `${field} is advised water`).not.toBeNull();
      refill.set(field, Math.ceil(e.prediction!.depletionNowMm));
    }
    now += 10 * 60_000;
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await chat?.stop();
    await predictor?.stop();
    await irrigations?.stop();
    devices?.close();
    await holder.stop();
    await new Promise((resolve) => platform?.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('Slack: "irrigated north <mm>" records the irrigation, answers in the channel, and the advice is cleared', async () => {
    const res = await slack(slashCommand('U2147483697', `irrigated north ${refill.get('north')}`));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ response_type: 'in_channel', text: expect.stringMatching(/^Recorded: North field irrigated .* \(f1\/north, irr_[0-9a-f]{24}\)$/) });
    const [record] = await irrigations.service.list({ farm: FARM, field: 'north' });
    expect(record).toMatchObject({ depth_mm: refill.get('north'), source: 'slack', who: 'slack:U2147483697' });
    await eventually(() => cleared('north'), { what: 'north cleared', timeoutMs: 20_000 });
  });

  it('Slack: fields and status answer from the predictor, only to the sender', async () => {
    const fields = (await slack(slashCommand('U2147483697', 'fields'))).json();
    expect(fields.response_type).toBe('ephemeral');
    expect(fields.text).toMatch(/f1\/north: no advice/);
    expect(fields.text).toMatch(/f1\/south: South field: irrigate/);
    const status = (await slack(slashCommand('U2147483697', 'status south'))).json();
    expect(status.text).toMatch(/f1\/south: [\d.]+ mm of [\d.]+ mm readily available water used/);
    expect((await slack(slashCommand('U2147483697', ''))).json().text).toMatch(/irrigated <field> <mm>/);
  });

  it('Slack: the advice\'s button records the advised depth and answers through response_url', async () => {
    // A block_actions payload (https://api.slack.com/reference/interaction-payloads/block-actions),
    // with the button the Slack format puts on an advice message.
    const payload = {
      type: 'block_actions',
      user: { id: 'U2147483697', username: 'maria', team_id: 'T0001' },
      api_app_id: 'A123456',
      token: 'gIkuvaNzQIHg97ATvDxqgjtO',
      container: { type: 'message', message_ts: '1548261231.000200', channel_id: 'C2147483705', is_ephemeral: false },
      trigger_id: '12321423423.333649436676.d8c1bb837935619ccad0f624c448ffb3',
      team: { id: 'T0001', domain: 'example' },
      channel: { id: 'C2147483705', name: 'farm' },
      response_url: `${platformUrl}/actions/T0001/2/xyz`,
      actions: [
        {
          action_id: 'fieldhook.irrigated', block_id: 'advice', type: 'button', action_ts: '1548426417.840180',
          text: { type: 'plain_text', text: `Irrigated ${refill.get('east')} mm`, emoji: true },
          value: JSON.stringify({ farm: FARM, field: 'east', depth_mm: refill.get('east') }),
        },
      ],
    };
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    const res = await slack(body);
    expect(res.statusCode).toBe(200);
    const answer = received.find((r) => r.path === '/actions/T0001/2/xyz');
    expect(answer?.body).toEqual({ response_type: 'in_channel', replace_original: false, text: expect.stringMatching(/^Recorded: East field irrigated/) });
    // Slack retries an interaction it saw no answer to: the same trigger records nothing twice.
    expect((await slack(body)).statusCode).toBe(200);
    // A colleague clicks the same advice's button (a click of their own): one advice, one irrigation.
    const colleague = { ...payload, user: { id: 'U0COLLEAGUE' }, trigger_id: '12321423423.333649436676.ffffffffffffffffffffffffffffffff', response_url: `${platformUrl}/actions/T0001/2/colleague` };
    expect((await slack(new URLSearchParams({ payload: JSON.stringify(colleague) }).toString())).statusCode).toBe(200);
    expect(received.find((r) => r.path === '/actions/T0001/2/colleague')?.body).toEqual(
      { response_type: 'ephemeral', replace_original: false, text: expect.stringMatching(/already recorded by slack:U2147483697$/) },
    );
    expect(await irrigations.service.list({ farm: FARM, field: 'east' })).toEqual([expect.objectContaining({ depth_mm: refill.get('east'), source: 'slack', who: 'slack:U2147483697' })]);
    await eventually(() => cleared('east'), { what: 'east cleared', timeoutMs: 20_000 });
  });

  it('Telegram: "/irrigated south <mm>" records, answers with sendMessage, and the advice is cleared', async () => {
    const res = await telegram(telegramText(9001, 1111, `/irrigated@fieldhook_bot south ${refill.get('south')}`));
    expect(res.statusCode).toBe(200);
    const sent = received.find((r) => r.path === `/bot${BOT_TOKEN}/sendMessage` && String(r.body.text).includes('South field'));
    expect(sent?.body).toEqual({ chat_id: 1111, text: expect.stringMatching(/^Recorded: South field irrigated .*\(f1\/south, irr_/) });
    // Telegram delivers an update again when it saw no 200: the same update_id records once.
    await telegram(telegramText(9001, 1111, `/irrigated@fieldhook_bot south ${refill.get('south')}`));
    expect(await irrigations.service.list({ farm: FARM, field: 'south' })).toEqual([expect.objectContaining({ source: 'telegram', who: 'telegram:1111' })]);
    await eventually(() => cleared('south'), { what: 'south cleared', timeoutMs: 20_000 });
  });

  it('Telegram: a command addressed to another bot of the group records nothing and gets no answer', async () => {
    const before = received.length;
    const recorded = (await irrigations.service.list({ farm: FARM })).length;
    const res = await telegram(telegramText(9050, 1111, '/irrigated@weather_station_bot north 9'));
    expect(res.statusCode).toBe(200);
    expect(await irrigations.service.list({ farm: FARM })).toHaveLength(recorded);
    expect(received.slice(before).filter((r) => r.path.endsWith('/sendMessage'))).toEqual([]);
    // Addressed to this bot in another case, it is this bot's.
    await telegram(telegramText(9051, 1111, '/fields@FieldHook_Bot'));
    expect(received.slice(before).some((r) => r.path.endsWith('/sendMessage') && r.body.chat_id === 1111)).toBe(true);
  });

  it('Telegram: the advice\'s button (callback query) records the advised depth and answers the query', async () => {
    // An Update with a CallbackQuery (https://core.telegram.org/bots/api#callbackquery), data as the Telegram format sets it.
    const update = {
      update_id: 9002,
      callback_query: {
        id: '4382bfdwdsb323b2d9',
        from: { id: 1111, is_bot: false, first_name: 'Maria' },
        message: { message_id: 77, chat: { id: -100123, type: 'group', title: 'Farm' }, date: Math.floor(now / 1000), text: 'Irrigate West field' },
        chat_instance: '-8123456789',
        data: `irr|${FARM}|west|${refill.get('west')}`,
      },
    };
    expect((await telegram(update)).statusCode).toBe(200);
    const answered = received.find((r) => r.path === `/bot${BOT_TOKEN}/answerCallbackQuery`);
    expect(answered?.body).toEqual({ callback_query_id: '4382bfdwdsb323b2d9', text: expect.stringMatching(/^Recorded: West field/) });
    expect(received.some((r) => r.path.endsWith('/sendMessage') && r.body.chat_id === -100123)).toBe(true);
    // Another member of the group presses the same button, and Telegram redelivers the first
    // update: the water is recorded once, and the repeats are told to the presser only (the
    // callback's notice), not to the group.
    const sentToGroup = () => received.filter((r) => r.path.endsWith('/sendMessage') && r.body.chat_id === -100123).length;
    const groupBefore = sentToGroup();
    const again = { update_id: 9003, callback_query: { ...update.callback_query, id: '4382bfdwdsb323b2e0', from: { id: 3333, is_bot: false, first_name: 'Ana' } } };
    for (const repeat of [again, update]) {
      expect((await telegram(repeat)).statusCode).toBe(200);
      const notice = received.filter((r) => r.path === `/bot${BOT_TOKEN}/answerCallbackQuery` && r.body.callback_query_id === repeat.callback_query.id).at(-1);
      expect(notice?.body.text).toMatch(/already recorded by telegram:1111/);
    }
    expect(sentToGroup()).toBe(groupBefore);
    expect(await irrigations.service.list({ farm: FARM, field: 'west' })).toEqual([expect.objectContaining({ who: 'telegram:1111' })]);
    await eventually(() => cleared('west'), { what: 'west cleared', timeoutMs: 20_000 });
  });

  it('answers Slack\'s signed SSL check (ssl_check=1) with 200 and nothing else', async () => {
    const before = received.length;
    const check = await slack('ssl_check=1&token=legacy-verification-token');
    expect(check.statusCode).toBe(200);
    expect(check.body).toBe('');
    expect(received.length).toBe(before);
  });

  it('refuses what is not verified: forged, stale or missing Slack signatures, a wrong or missing Telegram token', async () => {
    const body = slashCommand('U2147483697', 'irrigated north 5');
    const before = (await irrigations.service.list({})).length;
    const forged = await slack(body, { 'x-slack-signature': slackSignature('not-the-secret', String(Math.floor(now / 1000)), body) });
    expect([forged.statusCode, forged.json().code]).toEqual([401, 'FH_ERR_CHAT_SIGNATURE_INVALID']);
    const tampered = await slack(body.replace('north+5', 'north+50'), { 'x-slack-signature': slackSignature(SIGNING_SECRET, String(Math.floor(now / 1000)), body) });
    expect(tampered.json().code).toBe('FH_ERR_CHAT_SIGNATURE_INVALID');
    const old = String(Math.floor(now / 1000) - 301);
    const stale = await slack(body, { 'x-slack-request-timestamp': old, 'x-slack-signature': slackSignature(SIGNING_SECRET, old, body) });
    expect([stale.statusCode, stale.json().code]).toEqual([401, 'FH_ERR_CHAT_SIGNATURE_STALE']);
    const unsigned = await app.inject({ method: 'POST', url: '/v1/chat/slack', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: body });
    expect([unsigned.statusCode, unsigned.json().code]).toEqual([401, 'FH_ERR_CHAT_SIGNATURE_MISSING']);
    // Unsigned is said first, whatever the media type.
    const unsignedJson = await app.inject({ method: 'POST', url: '/v1/chat/slack', headers: { 'content-type': 'application/json' }, payload: '{}' });
    expect([unsignedJson.statusCode, unsignedJson.json().code]).toEqual([401, 'FH_ERR_CHAT_SIGNATURE_MISSING']);
    const wrongToken = await telegram(telegramText(9100, 1111, 'irrigated north 5'), 'not-the-token');
    expect([wrongToken.statusCode, wrongToken.json().code]).toEqual([401, 'FH_ERR_CHAT_SIGNATURE_INVALID']);
    const noToken = await telegram(telegramText(9101, 1111, 'irrigated north 5'), null);
    expect([noToken.statusCode, noToken.json().code]).toEqual([401, 'FH_ERR_CHAT_SIGNATURE_MISSING']);
    // Verified but not the documented shape: a 400, never a 5xx.
    const garbage = await slack('payload=%7Bnot-json');
    expect([garbage.statusCode, garbage.json().code]).toEqual([400, 'FH_ERR_CHAT_PAYLOAD_INVALID']);
    // Signed right but sent as JSON: told what Slack sends, not that the signature is wrong.
    const json = JSON.stringify({ user_id: 'U1', text: 'fields' });
    const asJson = await slack(json, { 'content-type': 'application/json', 'x-slack-signature': slackSignature(SIGNING_SECRET, String(Math.floor(now / 1000)), json) });
    expect([asJson.statusCode, asJson.json()]).toEqual([400, expect.objectContaining({ code: 'FH_ERR_CHAT_PAYLOAD_INVALID', title: expect.stringContaining('x-www-form-urlencoded') })]);
    expect((await irrigations.service.list({})).length).toBe(before);
  });

  it('refuses users who may not see or record for the farm, in the chat, recording nothing', async () => {
    const before = (await irrigations.service.list({})).length;
    const stranger = (await slack(slashCommand('U0NOBODY', 'irrigated north 5'))).json();
    expect(stranger).toEqual({ response_type: 'ephemeral', text: expect.stringContaining('FH_ERR_CHAT_FARM_FORBIDDEN') });
    const otherFarm = (await slack(slashCommand('U0OTHERFARM', 'irrigated f1/north 5'))).json();
    expect(otherFarm.text).toContain('FH_ERR_CHAT_FARM_FORBIDDEN');
    // Their own farm f2 has no field north: nothing of f1 leaks through the reply.
    expect((await slack(slashCommand('U0OTHERFARM', 'fields'))).json().text).not.toContain('f1/');
    const clickPayload = { type: 'block_actions', user: { id: 'U0OTHERFARM' }, trigger_id: 't-other', response_url: `${platformUrl}/actions/other`, actions: [{ action_id: 'fieldhook.irrigated', value: JSON.stringify({ farm: FARM, field: 'north', depth_mm: 9 }) }] };
    expect((await slack(new URLSearchParams({ payload: JSON.stringify(clickPayload) }).toString())).statusCode).toBe(200);
    expect(received.find((r) => r.path === '/actions/other')?.body.text).toContain('FH_ERR_CHAT_FARM_FORBIDDEN');
    await telegram(telegramText(9200, 2222, 'irrigated north 5'));
    expect(received.find((r) => r.body.chat_id === 2222)?.body.text).toContain('FH_ERR_CHAT_FARM_FORBIDDEN');
    expect((await irrigations.service.list({})).length).toBe(before);
  });

  it('answers a verified request of an unexpected shape with 400 FH_ERR_CHAT_PAYLOAD_INVALID, never a 500', async () => {
    const interaction = (payload: string) => new URLSearchParams({ payload }).toString();
    const slackBodies = [
      interaction('null'),
      interaction('42'),
      interaction(JSON.stringify({ type: 'block_actions', user: { id: 'U2147483697' }, actions: { action_id: 'fieldhook.irrigated' } })),
      interaction(JSON.stringify({ type: 'block_actions', user: { id: 'U2147483697' }, actions: [{ action_id: 'fieldhook.irrigated', value: 7 }] })),
      interaction(JSON.stringify({ type: 'block_actions', user: { id: 'U2147483697' }, actions: [{ action_id: 'fieldhook.irrigated', value: 'null' }] })),
    ];
    for (const body of slackBodies) {
      const res = await slack(body);
      // A non-array `actions` holds no button of ours: acknowledged and left alone, like another app's.
      expect([200, 400]).toContain(res.statusCode);
      if (res.statusCode === 400) expect(res.json().code).toBe('FH_ERR_CHAT_PAYLOAD_INVALID');
    }
    for (const update of [
      { update_id: 900, message: { from: { id: 1111 }, chat: { id: 1111 }, text: 42 } },
      { update_id: 901, message: 'hello' },
      { update_id: 902, callback_query: { id: 'q', from: { id: 1111 }, data: 5 } },
    ]) {
      const res = await telegram(update);
      expect([res.statusCode, res.json().code]).toEqual([400, 'FH_ERR_CHAT_PAYLOAD_INVALID']);
    }
    // A button of ours whose data does not parse is answered, not refused: a 4xx would be
    // delivered again and again, and the button would keep spinning.
    for (const [i, data] of ['irr|bad', 'irr|a|b|c', `irr|${FARM}|west|`].entries()) {
      const id = `bad-button-${i}`;
      const res = await telegram({ update_id: 903 + i, callback_query: { id, from: { id: 1111 }, data } });
      expect(res.statusCode, data).toBe(200);
      expect(received.find((r) => r.path === `/bot${BOT_TOKEN}/answerCallbackQuery` && r.body.callback_query_id === id)?.body.text).toBe('This button is not one fieldhook can read.');
    }
  });

  it('refuses every request to a platform that is not configured', async () => {
    const bare = buildChat({ config: { ...loadConfig(CHAT_CONFIG, {}), DATA_DIR: dir }, logger: silentLogger(), irrigations: irrigations.service, users });
    const bareApp = buildHostApp([bare], { logger: silentLogger() });
    try {
      const s = await bareApp.inject({ method: 'POST', url: '/v1/chat/slack', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-signature': 'v0=00', 'x-slack-request-timestamp': '1' }, payload: 'text=fields' });
      expect([s.statusCode, s.json().code]).toEqual([401, 'FH_ERR_CHAT_NOT_CONFIGURED']);
      const t = await bareApp.inject({ method: 'POST', url: '/v1/chat/telegram', headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': 'anything' }, payload: '{}' });
      expect([t.statusCode, t.json().code]).toEqual([401, 'FH_ERR_CHAT_NOT_CONFIGURED']);
    } finally {
      await bareApp.close();
    }
  });
});
