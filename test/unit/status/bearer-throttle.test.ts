/**
 * The admin bearer token on `GET /ui/api/status` is a guess at the admin token like the login
 * form's: wrong ones count in the same per-address throttle, which then holds both ways in.
 */
import { describe, expect, it } from 'vitest';
import { buildHostApp } from '../../../services/host/http-app.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { buildStatusPage } from '../../../services/status/build-status-page.js';

const ADMIN_TOKEN = 'status-bearer-admin-token-0123';
const noSources = {
  devices: { list: async () => [] },
  ingestor: { status: async () => ({ spool: { pendingBytes: 0, consumers: {}, deadLetters: 0 }, writer: { healthy: true, lastSuccessAt: null } }) },
  dispatcher: { store: { subscriptions: { list: async () => [] }, outbox: { backlog: async () => [], lastAttempted: async () => [] } } },
};

describe('status data with a bearer token, throttled', () => {
  it('counts wrong bearer tokens, then refuses even the right one (429, Retry-After), and the login form too', async () => {
    const app = buildHostApp(
      [buildStatusPage({ adminToken: ADMIN_TOKEN, tls: false, influx: { url: 'http://127.0.0.1:9', token: '', bucket: 'none', timeoutMs: 500 }, sources: noSources, loginThrottle: { maxFailures: 2 } })],
      { logger: silentLogger() },
    );
    try {
      const status = (token?: string) => app.inject({ url: '/ui/api/status', headers: token ? { authorization: `Bearer ${token}` } : {} });
      expect((await status(ADMIN_TOKEN)).statusCode).toBe(200);
      // No credential at all is not a guess.
      for (let i = 0; i < 3; i++) expect((await status()).json().code).toBe('FH_ERR_STATUS_LOGIN_REQUIRED');
      expect((await status('wrong-one-wrong-one')).json().code).toBe('FH_ERR_STATUS_LOGIN_REQUIRED');
      expect((await status('wrong-two-wrong-two')).statusCode).toBe(401);
      const held = await status(ADMIN_TOKEN);
      expect([held.statusCode, held.json().code]).toEqual([429, 'FH_ERR_STATUS_LOGIN_THROTTLED']);
      expect(Number(held.headers['retry-after'])).toBeGreaterThan(0);
      const form = await app.inject({
        method: 'POST', url: '/ui/login', payload: `token=${ADMIN_TOKEN}`,
        headers: { host: 'farm.example', origin: 'http://farm.example', 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(form.statusCode).toBe(429);
    } finally {
      await app.close();
    }
  });
});
