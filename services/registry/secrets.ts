import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Device secrets use the Standard Webhooks form `whsec_<base64 of 24 random bytes>`, so the same
 * string is a Bearer token, an MQTT password and (base64-decoded) the HMAC key.
 */
export function generateSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

/** Lookup key for Bearer authentication: the plain secret is never used as an index. */
export function secretDigest(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Compare two secrets in constant time (over their digests, so lengths may differ). */
export function secretsEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db);
}
