/**
 * Is a chat request really from the platform? Slack signs every request (HMAC-SHA256 with the
 * app's signing secret over `v0:{timestamp}:{raw body}`, sent as `X-Slack-Signature: v0=<hex>`,
 * with `X-Slack-Request-Timestamp`); Telegram sends the secret token given to `setWebhook` back in
 * `X-Telegram-Bot-Api-Secret-Token`. Comparisons are constant-time (both sides hashed to one
 * length first), and anything that does not verify throws a 401 catalog error.
 *
 * Slack: https://api.slack.com/authentication/verifying-requests-from-slack
 * Telegram: https://core.telegram.org/bots/api#setwebhook
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { Errors } from '../shared/error-catalog.js';

/** How far `X-Slack-Request-Timestamp` may be from our clock (Slack's advice: five minutes), s. */
export const SLACK_TIMESTAMP_TOLERANCE_S = 300;

const digest = (s: string | Buffer) => createHash('sha256').update(s).digest();
/** Equal without revealing where two strings first differ, nor (through the time taken) their lengths. */
export const constantTimeEqual = (a: string | Buffer, b: string | Buffer) => timingSafeEqual(digest(a), digest(b));

/** The `X-Slack-Signature` Slack would send for this body and timestamp. */
export function slackSignature(signingSecret: string, timestamp: string, rawBody: Buffer | string): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:`).update(rawBody).digest('hex')}`;
}

export function verifySlackRequest(
  signingSecret: string | undefined,
  headers: { signature?: string | string[] | undefined; timestamp?: string | string[] | undefined },
  rawBody: Buffer,
  nowMs: number,
): void {
  if (!signingSecret) throw Errors.chatNotConfigured('Slack is not configured: set SLACK_SIGNING_SECRET');
  const { signature, timestamp } = headers;
  if (typeof signature !== 'string' || typeof timestamp !== 'string' || signature === '' || timestamp === '') {
    throw Errors.chatSignatureMissing('Send X-Slack-Signature and X-Slack-Request-Timestamp');
  }
  // A malformed timestamp is as good as a stale one: the request cannot be placed in time.
  if (!/^\d{1,12}$/.test(timestamp) || Math.abs(Math.floor(nowMs / 1000) - Number(timestamp)) > SLACK_TIMESTAMP_TOLERANCE_S) {
    throw Errors.chatSignatureStale();
  }
  if (!constantTimeEqual(signature, slackSignature(signingSecret, timestamp, rawBody))) throw Errors.chatSignatureInvalid();
}

export function verifyTelegramSecret(secretToken: string | undefined, header: string | string[] | undefined): void {
  if (!secretToken) throw Errors.chatNotConfigured('Telegram is not configured: set TELEGRAM_SECRET_TOKEN (and give it to setWebhook)');
  if (typeof header !== 'string' || header === '') throw Errors.chatSignatureMissing('Send X-Telegram-Bot-Api-Secret-Token');
  if (!constantTimeEqual(header, secretToken)) throw Errors.chatSignatureInvalid('X-Telegram-Bot-Api-Secret-Token is not the configured secret token');
}
