import { request } from 'undici';
import { Errors } from '../shared/error-catalog.js';
import { CORRELATION_HEADER } from '../shared/correlation.js';
import { FieldhookError } from '../shared/errors.js';

/** Where the CLI finds the running dispatcher API. */
export interface AdminClientOptions {
  /** Base URL, e.g. `http://127.0.0.1:8383`. */
  baseUrl: string;
  /** The admin bearer token. */
  token: string;
  /** Per-request timeout, ms. Default 15000. */
  timeoutMs?: number;
}

export interface AdminClient {
  /** `headers` are sent besides the bearer token and the content type (e.g. `idempotency-key`). */
  call<T = unknown>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown, headers?: Record<string, string>): Promise<T>;
}

/**
 * A small HTTP client of the dispatcher API for the CLI. Problem responses become
 * FieldhookErrors with the server's code, so the CLI reports the same code the API does.
 */
export function createAdminClient(options: AdminClientOptions): AdminClient {
  const base = options.baseUrl.replace(/\/+$/, '');
  return {
    async call<T>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
      let res;
      try {
        res = await request(`${base}${path}`, {
          method,
          headers: {
            ...headers,
            authorization: `Bearer ${options.token}`,
            ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
          headersTimeout: options.timeoutMs ?? 15_000,
          bodyTimeout: options.timeoutMs ?? 15_000,
        });
      } catch (err) {
        throw Errors.cliUnreachable(`Cannot reach the dispatcher at ${base}: ${(err as Error).message}`);
      }
      const text = await res.body.text();
      // Something else on that port (a wrong --admin-url) answers without fieldhook's header, or
      // not in JSON: said so, never taken for an answer.
      const foreign = () => Errors.cliUnreachable(`${base} does not answer as fieldhook's API (HTTP ${res.statusCode}): is --admin-url fieldhook's HTTP address?`);
      if (res.headers[CORRELATION_HEADER] === undefined) throw foreign();
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        throw foreign();
      }
      if (res.statusCode >= 400) {
        const p = (parsed ?? {}) as { code?: string; title?: string };
        // The server's code and status pass through unchanged, so the CLI reports what the API said.
        throw new FieldhookError(p.code ?? Errors.cliRequest.code, res.statusCode, p.title ?? `HTTP ${res.statusCode}`);
      }
      return parsed as T;
    },
  };
}
