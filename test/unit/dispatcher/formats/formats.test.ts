import { describe, expect, it } from 'vitest';
import { FORMATS } from '../../../../services/dispatcher/formats/index.js';
import type { Delivery, FormatName, HttpDelivery, MailDelivery } from '../../../../services/dispatcher/formats/format.js';
import { checkDeliverySettings } from '../../../../services/dispatcher/formats/subscription-settings.js';
import { irrigatedCallbackData } from '../../../../services/dispatcher/formats/telegram.js';
import type { EventEnvelope } from '../../../../services/dispatcher/events.js';
import type { SubscriptionRecord } from '../../../../services/dispatcher/store/types.js';
import { isFieldhookError } from '../../../../services/shared/errors.js';
import { ADVICE, EVENTS, STALE, subscription, URLS } from './fixtures.js';
import {
  DISCORD_DOC_EXAMPLE,
  discordProblems,
  decodeEncodedWords,
  NTFY_DOC_EXAMPLE,
  ntfyProblems,
  SLACK_DOC_BUTTON_EXAMPLE,
  SLACK_DOC_EXAMPLE,
  slackProblems,
  TEAMS_DOC_EXAMPLE,
  teamsProblems,
  TELEGRAM_DOC_429,
  TELEGRAM_DOC_EXAMPLE,
  telegramProblems,
} from './platform-shapes.js';

const RLM = '\u200f';
const FSI = '\u2068';

function render(format: FormatName, event: EventEnvelope, sub: Partial<SubscriptionRecord> = {}): Delivery {
  const body = JSON.stringify(event);
  return FORMATS[format].render({ body, event, subscription: subscription(format, sub), signatureHeaders: () => ({ 'webhook-id': event.id }) });
}
const http = (d: Delivery) => d as HttpDelivery;
const json = (d: Delivery) => JSON.parse(http(d).body) as Record<string, any>;

/** Each chat format's documented shape, checked on what it would send. */
const SHAPES: Partial<Record<FormatName, (d: HttpDelivery) => string[]>> = {
  slack: (d) => slackProblems(JSON.parse(d.body)),
  teams: (d) => teamsProblems(JSON.parse(d.body), { minVersion: 1.4 }),
  telegram: (d) => telegramProblems(JSON.parse(d.body)),
  discord: (d) => discordProblems(JSON.parse(d.body)),
  ntfy: (d) => ntfyProblems(d),
};

describe('the platform shape checks', () => {
  it("accept each platform's documented examples", () => {
    expect(slackProblems(SLACK_DOC_EXAMPLE)).toEqual([]);
    expect(slackProblems(SLACK_DOC_BUTTON_EXAMPLE)).toEqual([]);
    expect(teamsProblems(TEAMS_DOC_EXAMPLE)).toEqual([]);
    expect(telegramProblems(TELEGRAM_DOC_EXAMPLE)).toEqual([]);
    expect(discordProblems(DISCORD_DOC_EXAMPLE)).toEqual([]);
    expect(ntfyProblems(NTFY_DOC_EXAMPLE)).toEqual([]);
  });

  it('refuse what the platforms refuse', () => {
    expect(slackProblems({ blocks: [{ type: 'header', text: { type: 'mrkdwn', text: 'x' } }] })).not.toEqual([]);
    expect(teamsProblems({ ...TEAMS_DOC_EXAMPLE, type: 'card' })).not.toEqual([]);
    expect(teamsProblems(TEAMS_DOC_EXAMPLE, { minVersion: 1.4 })).not.toEqual([]);
    expect(telegramProblems({ ...TELEGRAM_DOC_EXAMPLE, text: 'a < b' })).not.toEqual([]);
    expect(telegramProblems({ ...TELEGRAM_DOC_EXAMPLE, reply_markup: { inline_keyboard: [[{ text: 'x', callback_data: 'x'.repeat(65) }]] } })).not.toEqual([]);
    expect(discordProblems({ embeds: [{ title: 'x'.repeat(257) }] })).not.toEqual([]);
    expect(ntfyProblems({ ...NTFY_DOC_EXAMPLE, headers: { ...NTFY_DOC_EXAMPLE.headers, priority: '6' } })).not.toEqual([]);
    expect(ntfyProblems({ ...NTFY_DOC_EXAMPLE, headers: { title: 'שדה' } })).not.toEqual([]);
  });
});

describe('every chat format', () => {
  for (const [format, problems] of Object.entries(SHAPES) as [FormatName, (d: HttpDelivery) => string[]][]) {
    for (const locale of ['en', 'he']) {
      it(`${format} (${locale}) renders every event type in the platform's documented shape`, () => {
        for (const event of EVENTS) {
          const d = render(format, event, { locale });
          expect(d.kind).toBe('http');
          expect(problems(http(d)), `${format} ${event.type}`).toEqual([]);
          // Chat platforms take unsigned posts: no Standard Webhooks headers leak to them.
          expect(http(d).headers).not.toHaveProperty('webhook-id');
        }
      });
    }
  }
});

describe('standard-webhooks', () => {
  it('sends the stored envelope byte for byte, signed, to the subscription URL', () => {
    const d = http(render('standard-webhooks', ADVICE));
    expect(d).toEqual({ kind: 'http', url: URLS['standard-webhooks'], headers: { 'webhook-id': ADVICE.id, 'content-type': 'application/json' }, body: JSON.stringify(ADVICE) });
  });
});

describe('slack', () => {
  it('says the advice in text and blocks, with the Irrigated button carrying farm, field and net depth', () => {
    const body = json(render('slack', ADVICE));
    expect(body.text).toContain('North field: irrigate 18 mm net (21 mm gross) by Tue 06:00');
    expect(body.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: 'Irrigate North field', emoji: true } });
    const actions = body.blocks.find((b: { type: string }) => b.type === 'actions');
    expect(actions.elements[0]).toMatchObject({ type: 'button', action_id: 'fieldhook.irrigated', text: { type: 'plain_text', text: 'Irrigated 18 mm' } });
    expect(JSON.parse(actions.elements[0].value)).toEqual({ farm: 'f1', field: 'north', depth_mm: 18 });
  });

  it('offers no button on messages that are not advice', () => {
    expect(json(render('slack', STALE)).blocks.some((b: { type: string }) => b.type === 'actions')).toBe(false);
  });

  it("escapes mrkdwn's control characters, so a value cannot become a link or a mention", () => {
    const event = { type: 'endpoint.disabled', id: 'e', timestamp: ADVICE.timestamp, data: { subscription_id: 'sub_1', endpoint: 'https://x', reason: '<!channel> & <https://evil|click>' } };
    const body = json(render('slack', event));
    expect(body.blocks[1].text.text).toContain('&lt;!channel&gt; &amp; &lt;https://evil|click&gt;');
    expect(body.text).not.toContain('<!channel>');
  });
});

describe('teams', () => {
  it('posts a message with one Adaptive Card: title, text and the facts', () => {
    const body = json(render('teams', ADVICE));
    const card = body.attachments[0].content;
    expect(card).toMatchObject({ type: 'AdaptiveCard', version: '1.5' });
    expect(card).not.toHaveProperty('rtl');
    expect(card.body[1].text).toContain('irrigate 18 mm net');
    expect(card.body[2].facts).toContainEqual({ title: 'Start by', value: 'Tue 06:00' });
  });

  it('lays Hebrew cards out right to left', () => {
    expect(json(render('teams', ADVICE, { locale: 'he' })).attachments[0].content.rtl).toBe(true);
  });
});

describe('telegram', () => {
  it("posts sendMessage to the bot's method URL with chat_id, HTML text and the Irrigated button", () => {
    const d = http(render('telegram', ADVICE));
    expect(d.url).toBe('https://api.telegram.org/bot123456:ABC-DEF/sendMessage');
    const body = JSON.parse(d.body);
    expect(body).toMatchObject({ chat_id: -1001234567890, parse_mode: 'HTML', link_preview_options: { is_disabled: true } });
    expect(body.text).toMatch(/^<b>Irrigate North field<\/b>\nNorth field: irrigate 18 mm net/);
    expect(body.reply_markup).toEqual({ inline_keyboard: [[{ text: 'Irrigated 18 mm', callback_data: 'irr|f1|north|18' }]] });
  });

  it('keeps a URL that already names sendMessage, and the forum topic of the settings', () => {
    const d = http(render('telegram', ADVICE, { url: `${URLS.telegram}/sendMessage`, settings: { chat_id: '@farm_channel', message_thread_id: 7 } }));
    expect(d.url).toBe(`${URLS.telegram}/sendMessage`);
    expect(JSON.parse(d.body)).toMatchObject({ chat_id: '@farm_channel', message_thread_id: 7 });
  });

  it('rounds the depth to 0.1 mm and leaves the button out when callback_data would pass 64 bytes', () => {
    expect(irrigatedCallbackData('f1', 'north', 18.26)).toBe('irr|f1|north|18.3');
    const long = { ...ADVICE, data: { ...ADVICE.data, farm: 'f'.repeat(40), field: 'g'.repeat(30) } };
    const body = json(render('telegram', long));
    expect(body).not.toHaveProperty('reply_markup');
    expect(telegramProblems(body)).toEqual([]);
  });

  it("reads the wait of a 429 from the body's parameters.retry_after", () => {
    const wait = FORMATS.telegram.retryAfterMs!({ statusCode: 429, headers: {}, snippet: JSON.stringify(TELEGRAM_DOC_429) });
    expect(wait).toBe(15_000);
    expect(FORMATS.telegram.retryAfterMs!({ statusCode: 429, headers: {}, snippet: 'not json' })).toBeNull();
  });

  it('escapes HTML in values', () => {
    const event = { type: 'endpoint.disabled', id: 'e', timestamp: ADVICE.timestamp, data: { subscription_id: 'sub_1', endpoint: 'https://x', reason: '<b>x</b> & y' } };
    const body = json(render('telegram', event));
    expect(body.text).toContain('&lt;b&gt;x&lt;/b&gt; &amp; y');
    expect(telegramProblems(body)).toEqual([]);
  });
});

describe('discord', () => {
  it('says the message as content and the facts in an embed, mentioning nobody', () => {
    const body = json(render('discord', ADVICE));
    expect(body.content).toContain('irrigate 18 mm net');
    expect(body.embeds[0]).toMatchObject({ title: 'Irrigate North field', timestamp: ADVICE.timestamp, footer: { text: 'fieldhook' } });
    expect(body.embeds[0].fields).toContainEqual({ name: 'Net depth', value: '18 mm', inline: true });
    expect(body.allowed_mentions).toEqual({ parse: [] });
  });
});

describe('ntfy', () => {
  it("posts the message to the topic's URL with title, priority and tags in headers", () => {
    const d = http(render('ntfy', ADVICE, { url: 'https://ntfy.example.com/north-field?auth=tk' }));
    expect(d.url).toBe('https://ntfy.example.com/north-field?auth=tk');
    expect(d.headers).toEqual({ 'content-type': 'text/plain; charset=utf-8', title: 'Irrigate North field', priority: '4', tags: 'droplet' });
    expect(d.body).toContain('North field: irrigate 18 mm net');
  });

  it('encodes a Hebrew title in RFC 2047 words, which ntfy decodes', () => {
    const d = http(render('ntfy', ADVICE, { locale: 'he' }));
    expect(d.headers.title).toMatch(/^=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=$/);
    expect(decodeEncodedWords(d.headers.title!)).toBe('\u200fלהשקות את \u2068שדה \u2068North\u2069\u2069');
  });
});

describe('email', () => {
  it('is a mail to the mailto: recipients with a text and an HTML part, a stable Message-ID and its language', () => {
    const d = render('email', ADVICE) as MailDelivery;
    expect(d.kind).toBe('mail');
    expect(d.to).toEqual(['agronomist@farm.example', 'manager@farm.example']);
    expect(d.subject).toBe('Irrigate North field');
    expect(d.text).toContain('North field: irrigate 18 mm net (21 mm gross) by Tue 06:00');
    expect(d.html).toContain('<html lang="en" dir="ltr">');
    expect(d.messageId).toBe(`${ADVICE.id}.sub_1`);
    expect(d.headers).toMatchObject({ 'Auto-Submitted': 'auto-generated', 'X-Fieldhook-Event-Type': 'irrigation.recommended' });
  });

  it('writes Hebrew mail right to left, values isolated', () => {
    const d = render('email', ADVICE, { locale: 'he' }) as MailDelivery;
    expect(d.html).toContain('<html lang="he" dir="rtl">');
    expect(d.html).toContain('<body dir="rtl"');
    expect(d.text.startsWith(RLM)).toBe(true);
    expect(d.text).toContain(`${FSI}18 מ״מ`);
    expect(d.language).toBe('he');
  });
});

describe('right-to-left messages in chat bodies', () => {
  it('start with a right-to-left mark and isolate Latin names and numbers (Slack, Telegram)', () => {
    const slack = json(render('slack', ADVICE, { locale: 'he' }));
    expect(slack.blocks[1].text.text.startsWith(RLM)).toBe(true);
    expect(slack.blocks[1].text.text).toContain(`${FSI}North\u2069`);
    const telegram = json(render('telegram', ADVICE, { locale: 'he' }));
    expect(telegram.text).toContain(`\n${RLM}`);
    expect(telegram.reply_markup.inline_keyboard[0][0].text).toBe(`${RLM}השקיתי ${FSI}18 מ״מ\u2069`);
  });
});

describe('subscription settings', () => {
  const check = (over: Partial<{ format: string; locale: string; timeZone: string; settings: unknown; url: string }>) => {
    try {
      checkDeliverySettings({ format: 'slack', locale: 'en', timeZone: 'UTC', settings: {}, url: URLS.slack, ...over });
      return null;
    } catch (err) {
      if (!isFieldhookError(err)) throw err;
      return { code: err.code, field: err.details?.field };
    }
  };

  it('accepts each format with what it needs, the time zone made canonical', () => {
    for (const format of Object.keys(FORMATS) as FormatName[]) {
      expect(check({ format, url: URLS[format], settings: subscription(format).settings }), format).toBeNull();
    }
    expect(checkDeliverySettings({ format: 'slack', locale: 'he', timeZone: 'Asia/Jerusalem', settings: {}, url: URLS.slack }).timeZone).toBe('Asia/Jerusalem');
  });

  it('refuses with a code naming the field', () => {
    expect(check({ locale: 'fr' })).toEqual({ code: 'FH_ERR_SUBSCRIPTION_UNKNOWN_LOCALE', field: 'locale' });
    expect(check({ timeZone: 'Mars/Olympus' })).toEqual({ code: 'FH_ERR_SUBSCRIPTION_INVALID_TIMEZONE', field: 'timezone' });
    // IANA's spelling only, as the API document lists it.
    expect(check({ timeZone: 'asia/jerusalem' })).toEqual({ code: 'FH_ERR_SUBSCRIPTION_INVALID_TIMEZONE', field: 'timezone' });
    expect(check({ settings: { chat_id: 1 } })).toEqual({ code: 'FH_ERR_SUBSCRIPTION_UNKNOWN_FIELD', field: 'settings.chat_id' });
    expect(check({ format: 'telegram', url: URLS.telegram })).toEqual({ code: 'FH_ERR_SUBSCRIPTION_INVALID_SETTINGS', field: 'settings.chat_id' });
    expect(check({ format: 'telegram', url: URLS.telegram, settings: { chat_id: 'not a chat' } })).toEqual({ code: 'FH_ERR_SUBSCRIPTION_INVALID_SETTINGS', field: 'settings.chat_id' });
    expect(check({ format: 'email', url: 'https://x.example.com/' })).toEqual({ code: 'FH_ERR_SUBSCRIPTION_INVALID_URL', field: 'url' });
    expect(check({ format: 'email', url: 'mailto:not-an-address' })).toEqual({ code: 'FH_ERR_SUBSCRIPTION_INVALID_SETTINGS', field: 'url' });
    expect(check({ url: 'mailto:a@b.example' })).toEqual({ code: 'FH_ERR_SUBSCRIPTION_INVALID_URL', field: 'url' });
  });
});
