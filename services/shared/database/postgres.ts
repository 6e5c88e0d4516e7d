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

/** The server's SQLSTATE of `err`, when the server answered (the driver's own errors have none). */
function sqlState(err: unknown): string | undefined {
  return err instanceof pg.DatabaseError && typeof err.code === 'string' && /^[0-9A-Z]{5}$/.test(err.code) ? err.code : undefined;
}

/**
 * Whether a SQLSTATE says the statement could never run as written: class 42 (a syntax error, an
 * unknown column or function, a parameter or a type the statement gets wrong) is a bug in
 * fieldhook, not a state of the database, except what an operator does under fieldhook: a privilege
 * revoked (42501), a table dropped or renamed (42P01).
 */
const statementBug = (state: string) => state.startsWith('42') && state !== '42501' && state !== '42P01';

/**
 * SQLSTATEs of a value the server refuses, besides data exceptions (22) and constraints (23): a
 * row touched twice by one statement (21000) and a value past a limit (54000, an index row too
 * large): the same input fails again, whenever it is retried.
 */
const VALUE_REFUSED = new Set(['21000', '54000']);

/**
 * `err` as the catalog's error. A value the server refused (data exceptions, class 22, and
 * constraints no store handled, class 23, and {@link VALUE_REFUSED}) is {@link Errors.databaseValueRefused}, a 400: a retry
 * of the same input fails again forever (a poison message). A statement no database could run
 * ({@link statementBug}) is a bug in fieldhook and is returned as it is (the HTTP error handler
 * answers it as FH_ERR_INTERNAL). Anything else is {@link Errors.databaseUnavailable}, a 503
 * naming the database (password masked) and, when the server answered, its SQLSTATE: no answer,
 * a connection lost, a timeout (57014), a lock or a serialization failure (55P03, 40001, 40P01),
 * and what an operator did to the database under fieldhook (a privilege revoked, 42501; a table
 * dropped or renamed, 42P01; a read-only standby after a failover, 25006; the server's own
 * faults, XX). None of these is the client's to fix: the service cannot answer until the
 * database can. Catalog errors pass through.
 */
export function databaseUnavailable(err: unknown, shownUrl: string, doing: string): Error {
  if (isFieldhookError(err)) return err;
  const state = sqlState(err);
  if (state !== undefined && (state.startsWith('22') || state.startsWith('23') || VALUE_REFUSED.has(state))) {
    return Errors.databaseValueRefused(`Cannot ${doing} on ${shownUrl}: ${(err as Error).message}`, { sqlState: state });
  }
  if (state !== undefined && statementBug(state)) return err as Error;
  return asUnavailable(err, shownUrl, doing);
}

/**
 * `err`, whatever its cause, as {@link Errors.databaseUnavailable}: for what stops a start (the
 * first connection, a migration step that fails), where the operator needs the database named
 * rather than a retry decision. Catalog errors pass through.
 */
export function asUnavailable(err: unknown, shownUrl: string, doing: string): Error {
  if (isFieldhookError(err)) return err;
  const state = sqlState(err);
  return Errors.databaseUnavailable(`Cannot ${doing} on ${shownUrl}: ${(err as Error).message}`, { database: shownUrl, ...(state ? { sqlState: state } : {}) });
}

/**
 * `store` with every promise its methods return, nested repositories' too, failing through
 * {@link databaseUnavailable}: for stores whose SQL runs bare, so that what reaches a route, a
 * bus handler or a loop is a catalog error, never the driver's. What the store handles itself
 * (a unique violation turned into a conflict) is handled before; catalog errors pass through.
 * `what` says what the store holds ("the device registry"); the message names the method.
 */
export function withDatabaseErrors<T extends object>(store: T, shownUrl: string, what: string): T {
  const guarded = new WeakMap<object, unknown>();
  const guard = <O extends object>(target: O, path: string): O =>
    new Proxy(target, {
      get(t, key, receiver) {
        const value: unknown = Reflect.get(t, key, receiver);
        if (typeof key !== 'string' || value === null || (typeof value !== 'function' && typeof value !== 'object')) return value;
        if (typeof value === 'object' && Object.getPrototypeOf(value) !== Object.prototype) return value;
        if (!guarded.has(value)) {
          const name = path ? `${path}.${key}` : key;
          guarded.set(
            value,
            typeof value === 'function'
              ? (...args: unknown[]) => {
                  const result: unknown = (value as (...a: unknown[]) => unknown).apply(t, args);
                  return result instanceof Promise
                    ? result.catch((err: unknown) => {
                        throw databaseUnavailable(err, shownUrl, `read or write ${what} (${name})`);
                      })
                    : result;
                }
              : guard(value, name),
          );
        }
        return guarded.get(value);
      },
    });
  return guard(store, '');
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
