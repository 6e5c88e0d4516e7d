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

/** `err` as the catalog's {@link Errors.databaseUnavailable}, naming the database (password masked). */
export function databaseUnavailable(err: unknown, shownUrl: string, doing: string): Error {
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
 * `work`, a failure of which (the server down, the connection lost, a query refused) surfaces as
 * {@link databaseUnavailable}: a 503 a client may retry, never a bare 500. Catalog errors pass
 * through.
 */
export async function orUnavailable<T>(work: Promise<T>, shownUrl: string, doing: string): Promise<T> {
  try {
    return await work;
  } catch (err) {
    throw databaseUnavailable(err, shownUrl, doing);
  }
}
