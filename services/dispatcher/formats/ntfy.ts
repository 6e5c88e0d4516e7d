import { z } from 'zod';
import type { MessageTone } from '../messages/render-message.js';
import type { Format } from './format.js';
import { clip, messageOf } from './message-of.js';

/** ntfy priorities: 1 min … 3 default … 5 max. An advice and a silent sensor ask for attention. */
const PRIORITY: Record<MessageTone, number> = { action: 4, warning: 4, ok: 2, info: 3 };
/** Tags that ntfy shows as emoji. */
const TAGS: Record<MessageTone, string> = { action: 'droplet', warning: 'warning', ok: 'white_check_mark', info: 'information_source' };

/** ntfy keeps a message up to 4096 bytes as text; a longer one would become an attachment. */
const MAX_MESSAGE_BYTES = 4096;

/**
 * A header value in RFC 2047 encoded words when it is not plain ASCII: HTTP headers carry no
 * UTF-8, and ntfy decodes encoded words in `Title` and `Tags`.
 */
export function encodedWord(value: string): string {
  if (/^[\x20-\x7e]*$/.test(value)) return value;
  return `=?UTF-8?B?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}

function clipBytes(text: string, max: number): string {
  let out = text;
  while (Buffer.byteLength(out, 'utf8') > max) out = clip(out, Math.floor(out.length * 0.9));
  return out;
}

/**
 * ntfy publish: a POST of the message text to the topic's URL (`https://ntfy.sh/<topic>`, a
 * protected topic with `?auth=…`), its title, priority and tags in headers.
 * https://docs.ntfy.sh/publish/
 */
export const ntfyFormat: Format = {
  name: 'ntfy',
  destination: 'http',
  settings: z.strictObject({}),
  render({ event, subscription }) {
    const m = messageOf(event, subscription);
    return {
      kind: 'http',
      url: subscription.url,
      headers: {
        'content-type': 'text/plain; charset=utf-8',
        title: encodedWord(clip(m.title, 200)),
        priority: String(PRIORITY[m.tone]),
        tags: TAGS[m.tone],
      },
      body: clipBytes(m.text, MAX_MESSAGE_BYTES),
    };
  },
};
