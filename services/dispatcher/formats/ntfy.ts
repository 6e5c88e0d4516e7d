import { z } from 'zod';
import type { MessageTone } from '../messages/render-message.js';
import type { Format } from './format.js';
import { clip, JSON_HEADERS, messageOf } from './message-of.js';

/** ntfy priorities: 1 min … 3 default … 5 max. An advice and a silent sensor ask for attention. */
const PRIORITY: Record<MessageTone, number> = { action: 4, warning: 4, ok: 2, info: 3 };
/** Tags that ntfy shows as emoji. */
const TAGS: Record<MessageTone, string> = { action: 'droplet', warning: 'warning', ok: 'white_check_mark', info: 'information_source' };

/** A topic name as ntfy accepts it. */
export const NTFY_TOPIC = /^[-_A-Za-z0-9]{1,64}$/;

/** The server URL (with any `?auth=` query) and the topic of a topic URL such as `https://ntfy.sh/north-field`. */
export function ntfyTarget(url: string): { server: string; topic: string } | null {
  const u = new URL(url);
  const segments = u.pathname.split('/');
  const topic = segments.pop() ?? '';
  if (!NTFY_TOPIC.test(topic)) return null;
  u.pathname = `${segments.join('/')}/`;
  return { server: u.toString(), topic };
}

/**
 * ntfy publish as JSON: POSTed to the server's root with the topic in the body, so a title in
 * Hebrew needs no header encoding. The subscription URL is the topic's URL.
 * https://docs.ntfy.sh/publish/#publish-as-json
 */
export const ntfyFormat: Format = {
  name: 'ntfy',
  destination: 'http',
  settings: z.strictObject({}),
  checkDestination: (url) => (ntfyTarget(url) === null ? 'An ntfy subscription URL ends with its topic: https://ntfy.sh/<topic>' : null),
  render({ event, subscription }) {
    const m = messageOf(event, subscription);
    const target = ntfyTarget(subscription.url);
    // Checked when the subscription was saved; a URL without a topic cannot reach this point.
    if (!target) throw new Error('ntfy subscription URL names no topic');
    const body = { topic: target.topic, title: clip(m.title, 250), message: clip(m.text, 4000), priority: PRIORITY[m.tone], tags: [TAGS[m.tone]] };
    return { kind: 'http', url: target.server, headers: { ...JSON_HEADERS }, body: JSON.stringify(body) };
  },
};
