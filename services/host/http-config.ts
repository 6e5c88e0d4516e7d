import { z } from 'zod';
import type { ConfigShape } from '../shared/config.js';

/**
 * Limits of the one HTTP server of a process, so that slow or greedy clients cannot hold it:
 * every connection is bounded in time (headers, whole request, idle, keep-alive) and in number
 * (globally and per source address). Both `fieldhook start` and the standalone dispatcher apply
 * them (`runHost`).
 */
export interface HttpServerOptions {
  /** The request line and headers must arrive within this (408 after; Node `headersTimeout`). */
  headersTimeoutMs: number;
  /** The whole request, body included, must arrive within this (408 after; Node `requestTimeout`). */
  requestTimeoutMs: number;
  /** A socket with no traffic at all for this long is closed (Node `server.setTimeout`). */
  connectionTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** Requests served on one connection before it is closed; 0 = no limit. */
  maxRequestsPerSocket: number;
  /** Request line plus headers, bytes (431 above). */
  maxHeaderSizeBytes: number;
  /** Request target (path and query), bytes (414 above). */
  maxUrlLengthBytes: number;
  /** Open connections across all clients (503 above). */
  maxConnections: number;
  /** Open connections from one source address (503 above). */
  maxConnectionsPerAddress: number;
  /** `Retry-After` of the 503 sent when a connection cap is reached, seconds. */
  connectionRetryAfterS: number;
}

export const DEFAULT_HTTP_SERVER_OPTIONS: Readonly<HttpServerOptions> = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  connectionTimeoutMs: 120_000,
  // Longer than the 60 s idle timeout of common load balancers, so they close first (Fastify's default).
  keepAliveTimeoutMs: 72_000,
  maxRequestsPerSocket: 1_000,
  maxHeaderSizeBytes: 16_384,
  maxUrlLengthBytes: 4_096,
  maxConnections: 1_024,
  maxConnectionsPerAddress: 64,
  connectionRetryAfterS: 5,
};

const d = DEFAULT_HTTP_SERVER_OPTIONS;
const int = (min: number) => z.coerce.number().int().min(min);

/**
 * Settings of the HTTP server, read by every process that serves HTTP (`fieldhook start` and the
 * standalone dispatcher). Units are in the names; the defaults are {@link DEFAULT_HTTP_SERVER_OPTIONS}.
 */
export const HTTP_SERVER_CONFIG = {
  HTTP_HEADERS_TIMEOUT_MS: int(1).default(d.headersTimeoutMs).describe('Request line and headers must arrive within this (408 after); at most HTTP_REQUEST_TIMEOUT_MS'),
  HTTP_REQUEST_TIMEOUT_MS: int(1).default(d.requestTimeoutMs).describe('The whole request, body included, must arrive within this (408 after)'),
  HTTP_CONNECTION_TIMEOUT_MS: int(1).default(d.connectionTimeoutMs).describe('A connection with no traffic for this long is closed'),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: int(1).default(d.keepAliveTimeoutMs).describe('An idle keep-alive connection is closed after this'),
  HTTP_MAX_REQUESTS_PER_SOCKET: int(0).default(d.maxRequestsPerSocket).describe('Requests served on one connection before it is closed; 0 = no limit'),
  HTTP_MAX_HEADER_SIZE_BYTES: int(1_024).default(d.maxHeaderSizeBytes).describe('Largest request line plus headers (431 above)'),
  HTTP_MAX_URL_LENGTH_BYTES: int(64).default(d.maxUrlLengthBytes).describe('Longest request target, path and query (414 above)'),
  HTTP_MAX_CONNECTIONS: int(1).default(d.maxConnections).describe('Open connections at most (503 with Retry-After above)'),
  HTTP_MAX_CONNECTIONS_PER_ADDRESS: int(1).default(d.maxConnectionsPerAddress).describe('Open connections from one source address at most (503 with Retry-After above)'),
  HTTP_CONNECTION_RETRY_AFTER_S: int(1).default(d.connectionRetryAfterS).describe('Retry-After of the 503 sent when a connection limit is reached'),
} satisfies ConfigShape;

export type HttpServerConfig = z.infer<z.ZodObject<typeof HTTP_SERVER_CONFIG>>;

/** The server options of a validated configuration. */
export function httpServerOptions(config: HttpServerConfig): HttpServerOptions {
  return {
    headersTimeoutMs: Math.min(config.HTTP_HEADERS_TIMEOUT_MS, config.HTTP_REQUEST_TIMEOUT_MS),
    requestTimeoutMs: config.HTTP_REQUEST_TIMEOUT_MS,
    connectionTimeoutMs: config.HTTP_CONNECTION_TIMEOUT_MS,
    keepAliveTimeoutMs: config.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    maxRequestsPerSocket: config.HTTP_MAX_REQUESTS_PER_SOCKET,
    maxHeaderSizeBytes: config.HTTP_MAX_HEADER_SIZE_BYTES,
    maxUrlLengthBytes: config.HTTP_MAX_URL_LENGTH_BYTES,
    maxConnections: config.HTTP_MAX_CONNECTIONS,
    maxConnectionsPerAddress: config.HTTP_MAX_CONNECTIONS_PER_ADDRESS,
    connectionRetryAfterS: config.HTTP_CONNECTION_RETRY_AFTER_S,
  };
}
