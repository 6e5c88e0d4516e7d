/**
 * What each chat platform documents that it accepts, as checks that list every problem of a body
 * (empty = acceptable). The unit tests run them on our rendered bodies and on examples taken from
 * each platform's documentation (so a check that refuses the platform's own example is wrong);
 * the integration test's stand-in platforms answer 400 with these problems, as the real ones do.
 */

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown, max = Infinity, min = 1): v is string => typeof v === 'string' && [...v].length >= min && [...v].length <= max;

function unknownKeys(o: Json, allowed: readonly string[], where: string, problems: string[]): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) problems.push(`${where}: unknown field ${k}`);
}

// ---- Slack: incoming webhooks and Block Kit -------------------------------------------------
// https://docs.slack.dev/messaging/sending-messages-using-incoming-webhooks
// https://docs.slack.dev/reference/block-kit/blocks

function slackTextObject(t: unknown, where: string, problems: string[], opts: { plainOnly?: boolean; max: number }): void {
  if (!isObj(t)) return void problems.push(`${where}: text object expected`);
  if (t.type !== 'plain_text' && (opts.plainOnly || t.type !== 'mrkdwn')) problems.push(`${where}: type ${String(t.type)}`);
  if (!isStr(t.text, opts.max)) problems.push(`${where}: text missing or longer than ${opts.max}`);
}

function slackElement(e: unknown, where: string, problems: string[]): void {
  if (!isObj(e)) return void problems.push(`${where}: element expected`);
  if (e.type === 'button') {
    slackTextObject(e.text, `${where}.text`, problems, { plainOnly: true, max: 75 });
    if (e.action_id !== undefined && !isStr(e.action_id, 255)) problems.push(`${where}: action_id`);
    if (e.value !== undefined && !isStr(e.value, 2000)) problems.push(`${where}: value`);
    if (e.style !== undefined && e.style !== 'primary' && e.style !== 'danger') problems.push(`${where}: style`);
  } else if (e.type === 'image') {
    if (!isStr(e.image_url) || !isStr(e.alt_text)) problems.push(`${where}: image needs image_url and alt_text`);
  } else if (e.type === 'mrkdwn' || e.type === 'plain_text') {
    slackTextObject(e, where, problems, { max: 3000 });
  } else problems.push(`${where}: element type ${String(e.type)}`);
}

export function slackProblems(body: unknown): string[] {
  const problems: string[] = [];
  if (!isObj(body)) return ['body is not an object'];
  unknownKeys(body, ['text', 'blocks', 'attachments', 'thread_ts', 'mrkdwn', 'unfurl_links', 'unfurl_media', 'username', 'icon_emoji', 'icon_url', 'channel'], 'message', problems);
  if (!isStr(body.text, 40_000) && !Array.isArray(body.blocks)) problems.push('text or blocks required');
  if (body.blocks !== undefined) {
    if (!Array.isArray(body.blocks) || body.blocks.length > 50) return [...problems, 'blocks: array of at most 50'];
    body.blocks.forEach((b, i) => {
      const where = `blocks[${i}]`;
      if (!isObj(b)) return void problems.push(`${where}: object expected`);
      if (b.block_id !== undefined && !isStr(b.block_id, 255)) problems.push(`${where}: block_id`);
      switch (b.type) {
        case 'header':
          slackTextObject(b.text, `${where}.text`, problems, { plainOnly: true, max: 150 });
          break;
        case 'section':
          if (b.text === undefined && b.fields === undefined) problems.push(`${where}: text or fields required`);
          if (b.text !== undefined) slackTextObject(b.text, `${where}.text`, problems, { max: 3000 });
          if (b.fields !== undefined) {
            if (!Array.isArray(b.fields) || b.fields.length > 10) problems.push(`${where}: at most 10 fields`);
            else b.fields.forEach((f, j) => slackTextObject(f, `${where}.fields[${j}]`, problems, { max: 2000 }));
          }
          if (b.accessory !== undefined) slackElement(b.accessory, `${where}.accessory`, problems);
          break;
        case 'context':
          if (!Array.isArray(b.elements) || b.elements.length === 0 || b.elements.length > 10) problems.push(`${where}: 1 to 10 elements`);
          else b.elements.forEach((e, j) => slackElement(e, `${where}.elements[${j}]`, problems));
          break;
        case 'actions':
          if (!Array.isArray(b.elements) || b.elements.length === 0 || b.elements.length > 25) problems.push(`${where}: 1 to 25 elements`);
          else b.elements.forEach((e, j) => slackElement(e, `${where}.elements[${j}]`, problems));
          break;
        case 'divider':
          break;
        default:
          problems.push(`${where}: block type ${String(b.type)}`);
      }
    });
  }
  return problems;
}

/** Slack's incoming webhook example: text plus sections with mrkdwn, an image accessory and fields. */
// Source: https://docs.slack.dev/messaging/sending-messages-using-incoming-webhooks (advanced message formatting)
export const SLACK_DOC_EXAMPLE = {
  text: 'Danny Torrence left a 1 star review for your property.',
  blocks: [
    { type: 'section', text: { type: 'mrkdwn', text: 'Danny Torrence left the following review for your property:' } },
    {
      type: 'section',
      block_id: 'section567',
      text: { type: 'mrkdwn', text: '<https://example.com|Overlook Hotel> \n :star: \n Doors had too many axe holes, guest in room 237 was far too rowdy, whole place felt stuck in the 1920s.' },
      accessory: { type: 'image', image_url: 'https://is5-ssl.mzstatic.com/image/thumb/Purple3/v4/d3/72/5c/d3725c8f-c642-5d69-1904-aa36e4297885/source/256x256bb.jpg', alt_text: 'Haunted hotel image' },
    },
    { type: 'section', block_id: 'section789', fields: [{ type: 'mrkdwn', text: '*Average Rating*\n1.0' }] },
  ],
};

/** Block Kit's button in an actions block. */
// Source: https://docs.slack.dev/reference/block-kit/block-elements/button-element (example)
export const SLACK_DOC_BUTTON_EXAMPLE = {
  blocks: [{ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Click Me' }, value: 'click_me_123', action_id: 'button' }] }],
};

// ---- Microsoft Teams: Workflows webhook with an Adaptive Card --------------------------------
// https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/add-incoming-webhook
// https://adaptivecards.io/explorer/AdaptiveCard.html

const CARD_ELEMENTS = ['TextBlock', 'FactSet', 'Container', 'ColumnSet', 'Image', 'RichTextBlock'];

export function teamsProblems(body: unknown, options: { minVersion?: number } = {}): string[] {
  const problems: string[] = [];
  if (!isObj(body)) return ['body is not an object'];
  if (body.type !== 'message') problems.push('type must be "message"');
  if (!Array.isArray(body.attachments) || body.attachments.length === 0) return [...problems, 'attachments: at least one'];
  body.attachments.forEach((a, i) => {
    const where = `attachments[${i}]`;
    if (!isObj(a)) return void problems.push(`${where}: object expected`);
    if (a.contentType !== 'application/vnd.microsoft.card.adaptive') problems.push(`${where}: contentType`);
    if (a.contentUrl !== undefined && a.contentUrl !== null && typeof a.contentUrl !== 'string') problems.push(`${where}: contentUrl`);
    const card = a.content;
    if (!isObj(card)) return void problems.push(`${where}.content: card expected`);
    if (card.type !== 'AdaptiveCard') problems.push(`${where}.content: type must be AdaptiveCard`);
    const version = typeof card.version === 'string' && /^1\.[0-6]$/.test(card.version) ? Number(card.version) : Number.NaN;
    if (Number.isNaN(version)) problems.push(`${where}.content: version 1.0 to 1.6`);
    else if (options.minVersion !== undefined && version < options.minVersion) problems.push(`${where}.content: version below ${options.minVersion}`);
    if (card.rtl !== undefined && (typeof card.rtl !== 'boolean' || version < 1.5)) problems.push(`${where}.content: rtl is a boolean of version 1.5`);
    if (!Array.isArray(card.body)) return void problems.push(`${where}.content: body array`);
    card.body.forEach((e, j) => {
      const w = `${where}.content.body[${j}]`;
      if (!isObj(e) || !CARD_ELEMENTS.includes(String(e.type))) return void problems.push(`${w}: element type`);
      if (e.type === 'TextBlock' && !isStr(e.text)) problems.push(`${w}: TextBlock text`);
      if (e.type === 'FactSet') {
        if (!Array.isArray(e.facts)) problems.push(`${w}: facts`);
        else for (const f of e.facts) if (!isObj(f) || typeof f.title !== 'string' || typeof f.value !== 'string') problems.push(`${w}: fact {title, value}`);
      }
    });
  });
  return problems;
}

/** The Adaptive Card a Teams webhook takes, as Microsoft's documentation sends it. */
// Source: https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using#send-adaptive-cards-using-an-incoming-webhook
export const TEAMS_DOC_EXAMPLE = {
  type: 'message',
  attachments: [
    {
      contentType: 'application/vnd.microsoft.card.adaptive',
      contentUrl: null,
      content: {
        $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
        type: 'AdaptiveCard',
        version: '1.2',
        body: [{ type: 'TextBlock', text: 'For Samples and Templates, see [https://adaptivecards.io/samples](https://adaptivecards.io/samples)' }],
      },
    },
  ],
};

// ---- Telegram Bot API: sendMessage -----------------------------------------------------------
// https://core.telegram.org/bots/api#sendmessage, #formatting-options, #inlinekeyboardbutton

const TELEGRAM_TAGS = /^<\/?(b|strong|i|em|u|ins|s|strike|del|tg-spoiler|code|pre|blockquote)>|^<span class="tg-spoiler">|^<\/span>|^<a href="[^"<>]*">|^<\/a>/;

/** Problems of a `parse_mode: HTML` text: only Telegram's tags, every `&` an entity. */
export function telegramHtmlProblems(text: string): string[] {
  const problems: string[] = [];
  for (let i = 0; i < text.length; i++) {
    const rest = text.slice(i);
    if (text[i] === '<' && !TELEGRAM_TAGS.test(rest)) problems.push(`unsupported tag or unescaped < at ${i}`);
    if (text[i] === '&' && !/^&(lt|gt|amp|quot|#[0-9]+);/.test(rest)) problems.push(`unescaped & at ${i}`);
  }
  return problems;
}

export function telegramProblems(body: unknown): string[] {
  const problems: string[] = [];
  if (!isObj(body)) return ['body is not an object'];
  unknownKeys(
    body,
    ['chat_id', 'message_thread_id', 'text', 'parse_mode', 'entities', 'link_preview_options', 'disable_notification', 'protect_content', 'reply_parameters', 'reply_markup', 'business_connection_id'],
    'sendMessage',
    problems,
  );
  if (!(Number.isSafeInteger(body.chat_id) || (typeof body.chat_id === 'string' && /^(-?[0-9]+|@[A-Za-z][A-Za-z0-9_]{3,31})$/.test(body.chat_id)))) problems.push('chat_id');
  if (!isStr(body.text, 4096)) problems.push('text: 1 to 4096 characters');
  if (body.parse_mode !== undefined && !['HTML', 'MarkdownV2', 'Markdown'].includes(String(body.parse_mode))) problems.push('parse_mode');
  if (body.parse_mode === 'HTML' && typeof body.text === 'string') problems.push(...telegramHtmlProblems(body.text));
  if (body.reply_markup !== undefined) {
    const rm = body.reply_markup;
    if (!isObj(rm) || !Array.isArray(rm.inline_keyboard)) problems.push('reply_markup.inline_keyboard');
    else
      for (const row of rm.inline_keyboard) {
        if (!Array.isArray(row)) problems.push('inline_keyboard rows are arrays');
        else
          for (const b of row) {
            if (!isObj(b) || !isStr(b.text)) problems.push('button text');
            else if (b.callback_data !== undefined && !(typeof b.callback_data === 'string' && Buffer.byteLength(b.callback_data) >= 1 && Buffer.byteLength(b.callback_data) <= 64)) {
              problems.push('callback_data: 1 to 64 bytes');
            } else if (b.callback_data === undefined && b.url === undefined) problems.push('button needs callback_data or url');
          }
      }
  }
  return problems;
}

/** The HTML style of Telegram's formatting options, with an inline keyboard of callback buttons. */
// Source: https://core.telegram.org/bots/api#html-style and https://core.telegram.org/bots/api#inlinekeyboardmarkup
export const TELEGRAM_DOC_EXAMPLE = {
  chat_id: -1001234567890,
  text: '<b>bold</b>, <strong>bold</strong>\n<i>italic</i>, <em>italic</em>\n<u>underline</u>, <ins>underline</ins>\n<s>strikethrough</s>, <strike>strikethrough</strike>, <del>strikethrough</del>\n<span class="tg-spoiler">spoiler</span>, <tg-spoiler>spoiler</tg-spoiler>\n<a href="http://www.example.com/">inline URL</a>\n<code>inline fixed-width code</code>\n<pre>pre-formatted fixed-width code block</pre>\n&lt; &gt; &amp; &quot;',
  parse_mode: 'HTML',
  reply_markup: { inline_keyboard: [[{ text: 'Yes', callback_data: 'answer|yes' }]] },
};

/** A flood-control refusal: 429 with `parameters.retry_after`, seconds. */
// Source: https://core.telegram.org/bots/api#responseparameters (retry_after), https://core.telegram.org/bots/api#making-requests
export const TELEGRAM_DOC_429 = { ok: false, error_code: 429, description: 'Too Many Requests: retry after 15', parameters: { retry_after: 15 } };

// ---- Discord: execute webhook ----------------------------------------------------------------
// https://discord.com/developers/docs/resources/webhook#execute-webhook
// https://discord.com/developers/docs/resources/message#embed-object-embed-limits

export function discordProblems(body: unknown): string[] {
  const problems: string[] = [];
  if (!isObj(body)) return ['body is not an object'];
  unknownKeys(body, ['content', 'username', 'avatar_url', 'tts', 'embeds', 'allowed_mentions', 'components', 'flags', 'thread_name', 'applied_tags', 'poll'], 'execute webhook', problems);
  if (body.content === undefined && body.embeds === undefined) problems.push('content or embeds required');
  if (body.content !== undefined && !isStr(body.content, 2000, 0)) problems.push('content: at most 2000 characters');
  if (body.embeds !== undefined) {
    if (!Array.isArray(body.embeds) || body.embeds.length > 10) return [...problems, 'embeds: at most 10'];
    let total = 0;
    body.embeds.forEach((e, i) => {
      const where = `embeds[${i}]`;
      if (!isObj(e)) return void problems.push(`${where}: object`);
      if (e.title !== undefined && !isStr(e.title, 256)) problems.push(`${where}.title: at most 256`);
      if (e.description !== undefined && !isStr(e.description, 4096)) problems.push(`${where}.description: at most 4096`);
      if (e.color !== undefined && !(Number.isInteger(e.color) && (e.color as number) >= 0 && (e.color as number) <= 0xffffff)) problems.push(`${where}.color`);
      if (e.timestamp !== undefined && (typeof e.timestamp !== 'string' || Number.isNaN(Date.parse(e.timestamp)))) problems.push(`${where}.timestamp: ISO 8601`);
      if (e.footer !== undefined && (!isObj(e.footer) || !isStr(e.footer.text, 2048))) problems.push(`${where}.footer.text`);
      if (e.fields !== undefined) {
        if (!Array.isArray(e.fields) || e.fields.length > 25) problems.push(`${where}.fields: at most 25`);
        else
          for (const f of e.fields) {
            if (!isObj(f) || !isStr(f.name, 256) || !isStr(f.value, 1024)) problems.push(`${where}.fields: name ≤ 256, value ≤ 1024`);
            else total += [...f.name].length + [...f.value].length;
          }
      }
      total += [...String(e.title ?? '')].length + [...String(e.description ?? '')].length + [...String(isObj(e.footer) ? e.footer.text : '')].length;
    });
    if (total > 6000) problems.push('embeds: at most 6000 characters in all');
  }
  if (body.allowed_mentions !== undefined) {
    const am = body.allowed_mentions;
    if (!isObj(am) || (am.parse !== undefined && (!Array.isArray(am.parse) || am.parse.some((p) => !['roles', 'users', 'everyone'].includes(String(p)))))) problems.push('allowed_mentions.parse');
  }
  return problems;
}

/** The JSON params of a message with an embed, as Discord's documentation shows them. */
// Source: https://discord.com/developers/docs/resources/message#create-message (example request; execute webhook takes the same content/embeds)
export const DISCORD_DOC_EXAMPLE = {
  content: 'Hello, World!',
  tts: false,
  embeds: [{ title: 'Hello, Embed!', description: 'This is an embedded message.' }],
};

// ---- ntfy: publish with headers -------------------------------------------------------------
// https://docs.ntfy.sh/publish/ (message title, priority, tags; RFC 2047 encoded words for UTF-8)

const NTFY_PRIORITIES = ['1', '2', '3', '4', '5', 'min', 'low', 'default', 'high', 'max', 'urgent'];

/** A header value decoded from RFC 2047 encoded words (`=?UTF-8?B?…?=`), as ntfy does. */
export function decodeEncodedWords(value: string): string {
  return value.replace(/=\?UTF-8\?([BQ])\?([^?]*)\?=/gi, (_m, enc: string, text: string) =>
    enc.toUpperCase() === 'B' ? Buffer.from(text, 'base64').toString('utf8') : decodeURIComponent(text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, '%$1')),
  );
}

/** A publish: headers (lower-case names) and the message text. */
export function ntfyProblems(publish: { headers: Record<string, string | undefined>; body: string }): string[] {
  const problems: string[] = [];
  const { headers, body } = publish;
  for (const name of Object.keys(headers)) if (/[^\x20-\x7e]/.test(headers[name] ?? '')) problems.push(`${name}: not ASCII (use RFC 2047)`);
  const title = headers.title ?? headers['x-title'] ?? headers.t;
  if (title !== undefined && decodeEncodedWords(title).trim() === '') problems.push('title: empty');
  const priority = headers.priority ?? headers['x-priority'] ?? headers.p;
  if (priority !== undefined && !NTFY_PRIORITIES.includes(priority)) problems.push('priority: 1 to 5 or a name');
  const tags = headers.tags ?? headers['x-tags'] ?? headers.ta;
  if (tags !== undefined && !/^[^,]+(,[^,]+)*$/.test(decodeEncodedWords(tags))) problems.push('tags: a comma-separated list');
  if (body.length === 0) problems.push('message: empty');
  if (Buffer.byteLength(body, 'utf8') > 4096) problems.push('message: over 4096 bytes (ntfy would make it an attachment)');
  return problems;
}

/** ntfy's example of a message with a title, a priority and tags. */
// Source: https://docs.ntfy.sh/publish/ (curl -H "Title: …" -H "Priority: urgent" -H "Tags: warning,skull" -d "…" ntfy.sh/phil_alerts)
export const NTFY_DOC_EXAMPLE = {
  headers: { title: 'Unauthorized access detected', priority: 'urgent', tags: 'warning,skull' },
  body: 'Remote access to phils-laptop detected. Act right away.',
};
