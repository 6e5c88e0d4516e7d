import type { FastifyInstance } from 'fastify';
import { every, systemClock, type Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import { redactUrl } from '../shared/secrets.js';

export interface RequestLogOptions {
  /** How often the throughput summary is logged at info, ms. Default 60 000 (once a minute). */
  summaryIntervalMs: number;
}

export const DEFAULT_REQUEST_LOG_OPTIONS: Readonly<RequestLogOptions> = Object.freeze({ summaryIntervalMs: 60_000 });

interface Window {
  requests: number;
  byStatus: Record<string, number>;
  slowestMs: number;
}

const emptyWindow = (): Window => ({ requests: 0, byStatus: {}, slowestMs: 0 });

/**
 * Request logging for a busy ingest API: one line per request at debug (method, URL with its query
 * values masked, route pattern, status, time; the correlation id comes with the request's logger), and at info one throughput line per
 * interval instead, by status class (`2xx`, `4xx`, …), with the slowest request. A quiet interval
 * logs nothing. The interval runs on the injected clock, so tests move it by hand; it stops with
 * the app. Fastify's own per-request lines are turned off (`disableRequestLogging`).
 */
export function installRequestLog(app: FastifyInstance, logger: Logger, options: Partial<RequestLogOptions> & { clock?: Clock } = {}): void {
  const clock = options.clock ?? systemClock;
  const intervalMs = options.summaryIntervalMs ?? DEFAULT_REQUEST_LOG_OPTIONS.summaryIntervalMs;
  let window = emptyWindow();

  app.addHook('onResponse', async (request, reply) => {
    const ms = Math.round(reply.elapsedTime * 10) / 10;
    // The route's pattern, and the URL with its query values masked: `/write?u=…&p=…` carries a device's password.
    const route = request.routeOptions.url;
    request.log.debug({ method: request.method, url: redactUrl(request.url), ...(route ? { route } : {}), statusCode: reply.statusCode, responseTimeMs: ms }, 'request');
    const status = `${Math.floor(reply.statusCode / 100)}xx`;
    window.requests++;
    window.byStatus[status] = (window.byStatus[status] ?? 0) + 1;
    if (ms > window.slowestMs) window.slowestMs = ms;
  });

  const summarize = () => {
    const w = window;
    window = emptyWindow();
    if (w.requests === 0) return;
    const seconds = intervalMs / 1000;
    logger.info(
      { requests: w.requests, perSecond: Math.round((w.requests / seconds) * 10) / 10, byStatus: w.byStatus, slowestMs: w.slowestMs, intervalS: seconds },
      `HTTP: ${w.requests} requests in the last ${seconds} s`,
    );
  };
  let stop: (() => void) | undefined;
  app.addHook('onReady', async () => {
    stop = every(clock, intervalMs, summarize);
  });
  app.addHook('onClose', async () => {
    stop?.();
    summarize();
  });
}
