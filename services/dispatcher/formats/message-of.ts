import type { EventEnvelope } from '../events.js';
import { renderMessage, type RenderedMessage } from '../messages/render-message.js';
import type { SubscriptionRecord } from '../store/types.js';

/** The event as a message for the subscription's readers, in their locale and time zone. */
export function messageOf(event: EventEnvelope, subscription: SubscriptionRecord): RenderedMessage {
  const data = event.data && typeof event.data === 'object' ? (event.data as Record<string, unknown>) : {};
  return renderMessage(event.type, data, { locale: subscription.locale, timeZone: subscription.timeZone });
}

/**
 * `text` cut to `max` UTF-16 code units with an ellipsis; never splits a surrogate pair.
 * Platforms count characters in their own ways; the limits used are the strictest of theirs.
 */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = max - 1;
  if (/[\uD800-\uDBFF]/.test(text.charAt(cut - 1))) cut--;
  return `${text.slice(0, cut)}…`;
}

export const JSON_HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'content-type': 'application/json; charset=utf-8' });
