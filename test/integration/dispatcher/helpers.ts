import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Webhook } from 'standardwebhooks';
import { silentLogger } from '../../../services/shared/logger.js';
import { buildDispatcher, type BuildDispatcherOptions, type FieldhookDispatcher } from '../../../services/dispatcher/build-dispatcher.js';
import { createDispatchConfig, type DispatchConfig } from '../../../services/dispatcher/config.js';
import { buildHostApp } from '../../../services/host/http-app.js';

/** A dispatcher with the host app that serves its routes. */
export type DispatcherUnderTest = FieldhookDispatcher & { app: FastifyInstance };

export const ADMIN_TOKEN = 'test-admin-token-0123456789';
export const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  /** Hold the response this long, ms. */
  delayMs?: number;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Decide the reply to the n-th request (0-based). */
  reply: (n: number, req: Received) => Reply;
  close(): Promise<void>;
}

/**
 * A real HTTP receiver on 127.0.0.1 that records every request, stamped by `now` (pass the
 * dispatcher's clock to compare arrival times with the times it schedules).
 */
export async function startReceiver(reply: Receiver['reply'] = () => ({ status: 204 }), options: { now?: () => number } = {}): Promise<Receiver> {
  const now = options.now ?? Date.now;
  const received: Received[] = [];
  const receiver: Receiver = { url: '', received, reply, close: async () => {} };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = { headers: req.headers, body: Buffer.concat(chunks).toString(), at: now() };
      const n = received.length;
      received.push(r);
      const out = receiver.reply(n, r);
      const send = () => {
        if (res.destroyed) return;
        res.writeHead(out.status ?? 204, out.headers ?? {});
        res.end(out.body ?? '');
      };
      if (out.delayMs) setTimeout(send, out.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  receiver.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return receiver;
}

/** Verify a received request with the reference `standardwebhooks` package; throws if invalid. */
export function verify(secret: string, r: Received): { type: string; id: string; data: Record<string, unknown> } {
  return new Webhook(secret).verify(r.body, {
    'webhook-id': String(r.headers['webhook-id']),
    'webhook-timestamp': String(r.headers['webhook-timestamp']),
    'webhook-signature': String(r.headers['webhook-signature']),
  }) as { type: string; id: string; data: Record<string, unknown> };
}

export interface TestDispatcher {
  dispatcher: DispatcherUnderTest;
  config: DispatchConfig;
  dir: string;
  cleanup(): Promise<void>;
}

/** A dispatcher on a throw-away SQLite file, admitting 127.0.0.1 through the allow-list. */
export function makeDispatcher(
  overrides: Partial<DispatchConfig> = {},
  extra: Omit<BuildDispatcherOptions, 'config' | 'logger'> = {},
): TestDispatcher {
  const dir = mkdtempSync(join(tmpdir(), 'fh-dispatch-'));
  const config = createDispatchConfig({
    ADMIN_TOKEN,
    DISPATCH_DB_PATH: join(dir, 'dispatch.sqlite'),
    WEBHOOK_ALLOW_CIDRS: { '*': ['127.0.0.1/32'] },
    WEBHOOK_RETRY_SCHEDULE_MS: [0, 100, 200, 300],
    WEBHOOK_RETRY_JITTER: 0,
    WEBHOOK_RETRY_MIN_HORIZON_MS: 0,
    WEBHOOK_TIMEOUT_MS: 2_000,
    DISPATCH_POLL_INTERVAL_MS: 50,
    ...overrides,
  });
  const logger = silentLogger();
  const built = buildDispatcher({ config, logger, ...extra });
  // The dispatcher alone in a host app, as the standalone dispatcher serves it (not listening).
  const dispatcher: DispatcherUnderTest = Object.assign(built, { app: buildHostApp([built], { logger }) });
  return {
    dispatcher,
    config,
    dir,
    async cleanup() {
      await dispatcher.app.close();
      await dispatcher.stop().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function createSubscription(d: DispatcherUnderTest, body: Record<string, unknown>): Promise<{ id: string; secret: string }> {
  const res = await d.app.inject({ method: 'POST', url: '/v1/subscriptions', headers: auth, payload: body });
  if (res.statusCode !== 201) throw new Error(`create failed: ${res.statusCode} ${res.body}`);
  return res.json();
}
