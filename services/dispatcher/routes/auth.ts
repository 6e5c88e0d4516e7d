import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Errors } from '../../shared/error-catalog.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * Require `Authorization: Bearer <admin token>` on every route of the plugin scope. Digests
 * are compared so that the comparison takes the same time whatever the token's length.
 */
export function requireAdminToken(app: FastifyInstance, token: string | undefined): void {
  // Without a configured token nothing matches: an unset token locks the API, never opens it.
  const expected = token ? digest(token) : null;
  app.addHook('onRequest', async (request) => {
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!expected || !match || !timingSafeEqual(digest(match[1]!.trim()), expected)) throw Errors.authUnauthorized();
  });
}
