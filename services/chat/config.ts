import { z } from 'zod';
import { isKnownLocale, LOCALES } from '../dispatcher/messages/catalog.js';
import { secret } from '../shared/secrets.js';
import { DEFAULT_CONVERSATION_OPTIONS } from './conversation.js';

/**
 * Settings of the chat answers (Slack, Telegram): env `FIELDHOOK_<KEY>` or `<KEY>` in the config
 * file. A platform without its secret refuses every request to its endpoint (401).
 */
export const CHAT_CONFIG = {
  SLACK_SIGNING_SECRET: secret(
    z.string().min(1).optional().describe('Signing secret of the Slack app (Basic Information → App Credentials); unset = `/v1/chat/slack` refuses every request'),
  ),
  SLACK_RESPONSE_URL_PREFIX: z
    .string()
    .url()
    .default('https://hooks.slack.com/')
    .describe('Answers to button clicks are posted only to `response_url`s that start with this'),
  TELEGRAM_SECRET_TOKEN: secret(
    z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,256}$/)
      .optional()
      .describe('The `secret_token` given to the bot\'s `setWebhook` (1–256 of A–Z, a–z, 0–9, _ and -); unset = `/v1/chat/telegram` refuses every request'),
  ),
  TELEGRAM_BOT_TOKEN: secret(z.string().min(1).optional().describe('Bot token from BotFather: answers go through the Bot API with it')),
  TELEGRAM_API_BASE_URL: z.string().url().default('https://api.telegram.org').describe('Base URL of the Telegram Bot API (a local Bot API server, or a test double)'),
  CHAT_LOCALE: z
    .string()
    .refine(isKnownLocale, { message: `must be a locale of the message catalog: ${LOCALES.join(', ')}` })
    .default(DEFAULT_CONVERSATION_OPTIONS.locale)
    .describe('Locale of chat answers (a locale of the message catalog: `en`, `he`)'),
  CHAT_TIME_ZONE: z
    .string()
    .refine(isTimeZone, { message: 'must be an IANA time zone such as Asia/Jerusalem or UTC' })
    .default(DEFAULT_CONVERSATION_OPTIONS.timeZone)
    .describe('IANA time zone of the times in chat answers'),
};

/**
 * Whether this runtime can format times in `zone`. Checked at start: every chat answer formats
 * times in it, so a typo (Europe/Jerusalem) would otherwise fail each request.
 */
function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export type ChatConfig = z.infer<z.ZodObject<typeof CHAT_CONFIG>>;
