import { z } from 'zod';
import type { Format } from './format.js';
import { clip, JSON_HEADERS, messageOf } from './message-of.js';

/** Telegram's limit on `callback_data`, bytes. */
export const CALLBACK_DATA_MAX_BYTES = 64;

/**
 * The advice's "irrigated" button, as its `callback_data` carries it: `irr|<farm>|<field>|<depth
 * mm, 0.1>`. Built here and read back by the chat's Telegram webhook (services/chat), one contract
 * in one place, as Slack's `SLACK_IRRIGATED_ACTION`.
 */
export interface IrrigatedButton {
  farm: string;
  field: string;
  depthMm: number;
}

/** Every `callback_data` of the irrigated button starts with this; other buttons are not ours. */
export const TELEGRAM_IRRIGATED_PREFIX = 'irr|';
const SEPARATOR = '|';

/** What the advice's button sends back, or null when it cannot carry it (a `|` in a name, over 64 bytes). */
export function irrigatedCallbackData(farm: string, field: string, depthMm: number): string | null {
  if (farm.includes(SEPARATOR) || field.includes(SEPARATOR)) return null;
  const data = `${TELEGRAM_IRRIGATED_PREFIX}${farm}${SEPARATOR}${field}${SEPARATOR}${Math.round(depthMm * 10) / 10}`;
  // Too long to carry: the advice goes out without its button rather than be refused.
  return Buffer.byteLength(data, 'utf8') <= CALLBACK_DATA_MAX_BYTES ? data : null;
}

/** The button of `callback_data` that starts with {@link TELEGRAM_IRRIGATED_PREFIX}; null when it is not one {@link irrigatedCallbackData} makes. */
export function parseIrrigatedCallbackData(data: string): IrrigatedButton | null {
  if (!data.startsWith(TELEGRAM_IRRIGATED_PREFIX)) return null;
  const parts = data.slice(TELEGRAM_IRRIGATED_PREFIX.length).split(SEPARATOR);
  if (parts.length !== 3) return null;
  const [farm, field, depth] = parts as [string, string, string];
  const depthMm = depth.trim() === '' ? Number.NaN : Number(depth);
  if (farm === '' || field === '' || !Number.isFinite(depthMm)) return null;
  return { farm, field, depthMm };
}

/** parse_mode HTML needs only `&`, `<` and `>` escaped in text. */
const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The `sendMessage` method URL of a subscription URL that names the bot or the method. */
export function sendMessageUrl(url: string): string {
  const u = new URL(url);
  if (!/\/sendMessage$/i.test(u.pathname)) u.pathname = `${u.pathname.replace(/\/+$/, '')}/sendMessage`;
  return u.toString();
}

/**
 * Telegram Bot API `sendMessage`: `chat_id`, `text` with `parse_mode: HTML`, and on an advice an
 * inline keyboard with the "Irrigated N mm" button. The subscription URL is the bot's
 * (`https://api.telegram.org/bot<token>` or its `/sendMessage`); `settings.chat_id` the chat.
 * https://core.telegram.org/bots/api#sendmessage
 */
export const telegramFormat: Format = {
  name: 'telegram',
  destination: 'http',
  settings: z.strictObject({
    /** A chat id (negative for groups) or a public channel's `@username`. */
    chat_id: z.union([z.number().int().safe(), z.string().regex(/^(-?[0-9]{1,19}|@[A-Za-z][A-Za-z0-9_]{3,31})$/)]),
    /** A forum topic of the chat. */
    message_thread_id: z.number().int().positive().safe().optional(),
  }),
  render({ event, subscription }) {
    const m = messageOf(event, subscription);
    const settings = subscription.settings as { chat_id: number | string; message_thread_id?: number };
    const callback = m.action ? irrigatedCallbackData(m.action.farm, m.action.field, m.action.depthMm) : null;
    const body = {
      chat_id: settings.chat_id,
      ...(settings.message_thread_id !== undefined ? { message_thread_id: settings.message_thread_id } : {}),
      // At most 4096 characters after entity parsing; the text is clipped before escaping.
      text: `<b>${escape(clip(m.title, 256))}</b>\n${escape(clip(m.text, 3800))}`,
      parse_mode: 'HTML',
      link_preview_options: { is_disabled: true },
      ...(m.action && callback ? { reply_markup: { inline_keyboard: [[{ text: m.action.label, callback_data: callback }]] } } : {}),
    };
    return { kind: 'http', url: sendMessageUrl(subscription.url), headers: { ...JSON_HEADERS }, body: JSON.stringify(body) };
  },
  retryAfterMs(response) {
    // A flood-control 429 says how long to wait in its body: `parameters.retry_after`, seconds.
    try {
      const parsed = JSON.parse(response.snippet) as { parameters?: { retry_after?: unknown } };
      const s = parsed.parameters?.retry_after;
      return typeof s === 'number' && Number.isFinite(s) && s >= 0 ? s * 1000 : null;
    } catch {
      return null;
    }
  },
};
