import type { z } from 'zod';
import type { TransportResponse } from '../http-transport.js';
import type { EventEnvelope } from '../events.js';
import type { SubscriptionRecord } from '../store/types.js';
import type { FormatName } from './format-names.js';

/**
 * The contract of a delivery format: how one event becomes what one platform accepts. Each
 * platform is a module implementing it (`standard-webhooks.ts`, `slack.ts`, …) and `index.ts`
 * lists them; the delivery loop only asks the subscription's format to render, then sends what
 * came back through the same outbox, retries, SSRF guard and delivery log as every other.
 */

export { DEFAULT_FORMAT, FORMAT_NAMES, type FormatName } from './format-names.js';

/** One attempt at delivering one event to one subscription. */
export interface RenderInput {
  /** The envelope exactly as stored in the outbox (the bytes Standard Webhooks signs). */
  body: string;
  event: EventEnvelope;
  subscription: SubscriptionRecord;
  /** Standard Webhooks headers for `body` (only the signed format uses them). */
  signatureHeaders(): Record<string, string>;
}

/** An HTTP POST to the platform; `url` goes through the subscription's SSRF guard. */
export interface HttpDelivery {
  kind: 'http';
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** A message for the SMTP relay of the configuration. */
export interface MailDelivery {
  kind: 'mail';
  to: string[];
  subject: string;
  text: string;
  html: string;
  /** The same on every attempt, so a mail client shows a retried message once. */
  messageId: string;
  language: string;
  headers: Record<string, string>;
}

export type Delivery = HttpDelivery | MailDelivery;

export interface Format {
  name: FormatName;
  /** What the subscription's `url` is: a platform URL (`http`), or `mailto:` recipients. */
  destination: 'http' | 'mailto';
  /**
   * The format's own `settings` (strict: a setting of another format is an unknown field). The
   * dispatcher checks them when a subscription is created or changed.
   */
  settings: z.ZodType<Record<string, unknown>>;
  /** What is wrong with a subscription URL beyond the URL rules of its destination, or null. */
  checkDestination?(url: string): string | null;
  render(input: RenderInput): Delivery;
  /**
   * A wait the platform asked for in the body of a 429, ms (Telegram's `parameters.retry_after`);
   * null when it did not. A `Retry-After` header is read by the delivery loop for every format.
   */
  retryAfterMs?(response: TransportResponse): number | null;
}
