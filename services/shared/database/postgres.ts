import pg from 'pg';
import { Errors } from '../error-catalog.js';
import { isFieldhookError } from '../errors.js';
import type { Logger } from '../logger.js';
import { redactUrl } from '../secrets.js';

/** How fieldhook talks to PostgreSQL (`FIELDHOOK_DATABASE_URL`). */
export interface PostgresOptions {
  /** Most connections this process opens in its pool (the change feeds' listeners come on top, one each). */
  maxConnections: number;
  /** Give up on opening a connection after this long, ms. */
  connectTimeoutMs: number;
  /** A statement running longer than this is cancelled by the server, ms (0: never). */
  statementTimeoutMs: number;
}

export const DEFAULT_POSTGRES_OPTIONS: PostgresOptions = {
  maxConnections: 10,
  connectTimeoutMs: 10_000,
  statementTimeoutMs: 30_000,
};

/** One process's way into PostgreSQL: a pool for queries, and single connections for LISTEN. */
export interface Postgres {
  readonly pool: pg.Pool;
  /** The URL with its password masked, for messages. */
  readonly shownUrl: string;
  /** A connection outside the pool (a LISTEN holds its connection for good), not yet connected. */
  client(): pg.Client;
  close(): Promise<void>;
}

/**
 * A pool on `url`. Connections are opened on first use; each says who it is in
 * `application_name` (`fieldhook/<instance>`), so `pg_stat_activity` shows which instance holds
 * what. An idle connection that dies (a server restart) is logged and replaced, never thrown.
 */
export function createPostgres(url: string, logger: Logger, options: Partial<PostgresOptions> & { instanceId?: string } = {}): Postgres {
  const opts = { ...DEFAULT_POSTGRES_OPTIONS, ...options };
  const config: pg.ClientConfig = {
    connectionString: url,
    application_name: `fieldhook/${options.instanceId ?? process.pid}`,
    connectionTimeoutMillis: opts.connectTimeoutMs,
    ...(opts.statementTimeoutMs > 0 ? { statement_timeout: opts.statementTimeoutMs } : {}),
  };
  const pool = new pg.Pool({ ...config, max: opts.maxConnections });
  const shownUrl = redactUrl(url);
  pool.on('error', (err) => logger.warn({ err: err.message, database: shownUrl }, 'idle PostgreSQL connection failed; it is replaced'));
  let closed: Promise<void> | undefined;
  return {
    pool,
    shownUrl,
    client: () => new pg.Client(config),
    close: () => (closed ??= pool.end()),
  };
}

/**
 * SQLSTATEs that say the database cannot serve now, not that the statement was wrong: connection
 * (08), login, database and privileges (28, 3D, 42501), resources (53), operator intervention and cancelled
 * statements, i.e. the statement timeout (57), system errors (58), a lock not granted (55P03),
 * serialization failures and deadlocks (40001, 40P01). A retry may succeed.
 */
const UNAVAILABLE_CLASSES = new Set(['08', '28', '3D', '53', '57', '58']);
const UNAVAILABLE_STATES = new Set(['55P03', '40001', '40P01', '42501']);

/** The server's SQLSTATE of `err`, when the server answered (the driver's own errors have none). */
function sqlState(err: unknown): string | undefined {
  return err instanceof pg.DatabaseError && typeof err.code === 'string' && /^[0-9A-Z]{5}$/.test(err.code) ? err.code : undefined;
}

/**
 * `err` as the catalog's error: what makes the database unavailable (no answer, a connection
 * lost, a timeout, the SQLSTATEs above) is {@link Errors.databaseUnavailable}, a 503 worth
 * retrying, naming the database (password masked); a value the server refused (data exceptions,
 * class 22, and constraints no store handled, class 23) is {@link Errors.databaseValueRefused},
 * a 400, since a retry of the same input fails again forever (a poison message). Any other
 * SQLSTATE (a statement the server cannot parse, a missing table) is a bug in fieldhook and is
 * returned as it is. Catalog errors pass through.
 */
export function databaseUnavailable(err: unknown, shownUrl: string, doing: string): Error {
  if (isFieldhookError(err)) return err;
  const state = sqlState(err);
  if (state === undefined || UNAVAILABLE_CLASSES.has(state.slice(0, 2)) || UNAVAILABLE_STATES.has(state)) return asUnavailable(err, shownUrl, doing);
  if (state.startsWith('22') || state.startsWith('23')) return Errors.databaseValueRefused(`Cannot ${doing} on ${shownUrl}: ${(err as Error).message}`, { sqlState: state });
  return err as Error;
}

/**
 * `err`, whatever its cause, as {@link Errors.databaseUnavailable}: for what stops a start (the
 * first connection, a migration step that fails), where the operator needs the database named
 * rather than a retry decision. Catalog errors pass through.
 */
export function asUnavailable(err: unknown, shownUrl: string, doing: string): Error {
  if (isFieldhookError(err)) return err;
  return Errors.databaseUnavailable(`Cannot ${doing} on ${shownUrl}: ${(err as Error).message}`, { database: shownUrl });
}

/** PostgreSQL's SQLSTATE for a unique or primary key violation. */
export const UNIQUE_VIOLATION = '23505';

/** Run `fn` in one transaction on one pooled connection: committed when it resolves, rolled back when it throws. */
export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

/**
 * `work`, a failure of which surfaces through {@link databaseUnavailable}: the server down, the
 * connection lost or a timeout as a 503 a client may retry, a value refused as a 400. Catalog
 * errors pass through.
 */
export async function orUnavailable<T>(work: Promise<T>, shownUrl: string, doing: string): Promise<T> {
  try {
    return await work;
  } catch (err) {
    throw databaseUnavailable(err, shownUrl, doing);
  }
}
