import { discordFormat } from './discord.js';
import { emailFormat } from './email.js';
import { DEFAULT_FORMAT, FORMAT_NAMES, type Format, type FormatName } from './format.js';
import { ntfyFormat } from './ntfy.js';
import { slackFormat } from './slack.js';
import { standardWebhooksFormat } from './standard-webhooks.js';
import { teamsFormat } from './teams.js';
import { telegramFormat } from './telegram.js';

export * from './format.js';

/** Every delivery format, by name: one module per platform. */
export const FORMATS: Readonly<Record<FormatName, Format>> = Object.freeze({
  'standard-webhooks': standardWebhooksFormat,
  slack: slackFormat,
  teams: teamsFormat,
  telegram: telegramFormat,
  discord: discordFormat,
  ntfy: ntfyFormat,
  email: emailFormat,
});

export function isFormatName(name: string): name is FormatName {
  return (FORMAT_NAMES as readonly string[]).includes(name);
}

/** The format of a stored subscription; a name this version does not know falls back to the default. */
export function formatOf(name: string): Format {
  return isFormatName(name) ? FORMATS[name] : FORMATS[DEFAULT_FORMAT];
}
