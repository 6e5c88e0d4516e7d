import { request, type Dispatcher } from 'undici';
import type { Clock } from '../shared/clock.js';
import { systemClock } from '../shared/clock.js';
import { Errors } from '../shared/error-catalog.js';

/** Bytes of a receiver's response kept in the delivery log. Default 1024. */
export const DEFAULT_SNIPPET_BYTES = 1024;

export interface TransportRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  /** Whole-request budget (connect, headers, snippet), ms. */
  timeoutMs: number;
  /** The SSRF-guarded agent of the subscription's policy. */
  dispatcher?: Dispatcher;
}

export interface TransportResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  snippet: string;
}

/** One HTTP POST; rejects on network errors and timeouts. Injectable so tests can fake receivers. */
export type Transport = (req: TransportRequest) => Promise<TransportResponse>;

/**
 * POST with undici. Redirects are never followed (undici's `request` has no redirect handling
 * unless an interceptor adds one, and we add none): a 3xx is just a failed attempt, so a
 * receiver cannot bounce us to an address the guard would refuse.
 */
export function createHttpTransport(clock: Clock = systemClock, snippetBytes = DEFAULT_SNIPPET_BYTES): Transport {
  return async (req) => {
    const controller = new AbortController();
    const timer = clock.setTimeout(() => controller.abort(Errors.webhookTimeout(`No complete response within ${req.timeoutMs} ms`)), req.timeoutMs);
    try {
      const res = await request(req.url, {
        method: 'POST',
        headers: req.headers,
        body: req.body,
        signal: controller.signal,
        ...(req.dispatcher ? { dispatcher: req.dispatcher } : {}),
      });
      let snippet = '';
      let size = 0;
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        if (size < snippetBytes) snippet += chunk.subarray(0, snippetBytes - size).toString('utf8');
        size += chunk.length;
        // Past the snippet the body is of no use; stop reading rather than buffer a huge reply.
        if (size >= snippetBytes) break;
      }
      return { statusCode: res.statusCode, headers: res.headers, snippet };
    } catch (err) {
      if (controller.signal.aborted) throw controller.signal.reason;
      throw err;
    } finally {
      clock.clearTimeout(timer);
    }
  };
}
