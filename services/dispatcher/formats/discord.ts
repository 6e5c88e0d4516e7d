import { z } from 'zod';
import type { MessageTone } from '../messages/render-message.js';
import type { Format } from './format.js';
import { clip, JSON_HEADERS, messageOf } from './message-of.js';

const COLOR: Record<MessageTone, number> = { action: 0x1e88e5, warning: 0xf9a825, ok: 0x43a047, info: 0x757575 };

/** Discord markdown in `content`: these characters are taken literally when escaped. */
const escape = (s: string) => s.replace(/([\\*_~`|>[\]])/g, '\\$1');

/**
 * Discord execute webhook: the message as `content` (what notifications show), an embed with the
 * title and the facts, and no mentions whatever the text says.
 * https://discord.com/developers/docs/resources/webhook#execute-webhook
 */
export const discordFormat: Format = {
  name: 'discord',
  destination: 'http',
  settings: z.strictObject({}),
  render({ event, subscription }) {
    const m = messageOf(event, subscription);
    const embed = {
      // Limits: title 256, 25 fields, field name 256 and value 1024 characters.
      title: clip(m.title, 256),
      color: COLOR[m.tone],
      ...(m.facts.length > 0 ? { fields: m.facts.slice(0, 25).map((f) => ({ name: clip(f.label, 256), value: clip(f.value, 1024), inline: true })) } : {}),
      timestamp: event.timestamp,
      footer: { text: 'fieldhook' },
    };
    const body = { content: clip(escape(m.text), 2000), embeds: [embed], allowed_mentions: { parse: [] } };
    return { kind: 'http', url: subscription.url, headers: { ...JSON_HEADERS }, body: JSON.stringify(body) };
  },
};
