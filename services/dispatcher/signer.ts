import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { Errors } from '../shared/error-catalog.js';

export const SECRET_PREFIX = 'whsec_';

/** Random bytes in a generated secret. Default 32 (256-bit HMAC key). */
export const DEFAULT_SECRET_BYTES = 32;

/** A new `whsec_…` secret. */
export function generateSecret(bytes: number = DEFAULT_SECRET_BYTES): string {
  return SECRET_PREFIX + randomBytes(bytes).toString('base64');
}

/** Throws `FH_ERR_SUBSCRIPTION_INVALID_SECRET` unless `secret` is `whsec_` + 24..64 base64 bytes. */
export function assertValidSecret(secret: string): void {
  if (!secret.startsWith(SECRET_PREFIX)) throw Errors.subscriptionInvalidSecret();
  const b64 = secret.slice(SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw Errors.subscriptionInvalidSecret();
  const len = Buffer.from(b64, 'base64').length;
  if (len < 24 || len > 64) throw Errors.subscriptionInvalidSecret();
}

export interface SignedHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/**
 * Standard Webhooks signer. Signatures come from the reference `standardwebhooks` package, so a
 * receiver using it verifies by construction; during a rotation every live secret signs and the
 * header carries the space-separated list the spec allows (`v1,<new> v1,<old>`).
 */
export interface Signer {
  sign(msgId: string, timestampMs: number, body: string, secrets: readonly string[]): SignedHeaders;
}

export function createSigner(): Signer {
  // Decoding a secret is cheap but not free; endpoints reuse theirs on every attempt.
  const cache = new Map<string, Webhook>();
  const webhookFor = (secret: string): Webhook => {
    let wh = cache.get(secret);
    if (!wh) {
      if (cache.size > 10_000) cache.clear();
      wh = new Webhook(secret);
      cache.set(secret, wh);
    }
    return wh;
  };
  return {
    sign(msgId, timestampMs, body, secrets) {
      const ts = new Date(Math.floor(timestampMs / 1000) * 1000);
      const signature = secrets.map((s) => webhookFor(s).sign(msgId, ts, body)).join(' ');
      return {
        'webhook-id': msgId,
        'webhook-timestamp': String(Math.floor(timestampMs / 1000)),
        'webhook-signature': signature,
      };
    },
  };
}
