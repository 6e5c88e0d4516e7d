import type pg from 'pg';
import type { Logger } from '../logger.js';

/** How a change feed keeps its LISTEN connection. */
export interface ChangeFeedOptions {
  /** Wait before opening a lost LISTEN connection again, ms. */
  reconnectMs: number;
}

export const DEFAULT_CHANGE_FEED_OPTIONS: ChangeFeedOptions = { reconnectMs: 1_000 };

/**
 * A number that moves whenever a PostgreSQL store changes, by any instance or any SQL session:
 * the store's tables `NOTIFY` a channel from a trigger (after commit, so a change is seen only
 * once it is visible), and one connection per process `LISTEN`s to it. This is what keeps
 * in-memory caches (the ingestor's credentials) current without a query per message.
 *
 * Notifications sent while the connection is down are lost, so the version also moves when the
 * connection comes back, and, while it is down, on every look: a cache then reads through to the
 * database instead of trusting what it holds.
 */
export interface ChangeFeed {
  /** Connect and LISTEN; rejects when the first connection fails. */
  start(): Promise<void>;
  /** Synchronous and cheap: look once per turn. */
  version(): number;
  /** Count a change this process committed itself (seen at once, before its notification arrives). */
  bump(): void;
  stop(): Promise<void>;
}

export function createChangeFeed(
  connect: () => pg.Client,
  channel: string,
  logger: Logger,
  options: Partial<ChangeFeedOptions> = {},
): ChangeFeed {
  const opts = { ...DEFAULT_CHANGE_FEED_OPTIONS, ...options };
  if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`not a plain channel name: ${channel}`);
  let version = 0;
  let listening = false;
  let stopped = false;
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;

  async function open(): Promise<void> {
    const next = connect();
    next.on('notification', (message) => {
      if (message.channel === channel) version++;
    });
    next.on('error', (err) => lost(next, err));
    next.on('end', () => lost(next));
    client = next;
    await next.connect();
    await next.query(`LISTEN ${channel}`);
    if (stopped) return void (await next.end().catch(() => {}));
    listening = true;
    // Whatever happened while nobody listened is unknown: count it as a change.
    version++;
  }

  function lost(which: pg.Client, err?: Error): void {
    if (which !== client || stopped) return;
    if (listening) logger.warn({ err: err?.message, channel }, 'lost the PostgreSQL change feed; caches read through until it is back');
    listening = false;
    client = undefined;
    which.end().catch(() => {});
    schedule();
  }

  function schedule(): void {
    if (stopped || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      open().catch((err: Error) => {
        logger.debug({ err: err.message, channel }, 'PostgreSQL change feed: reconnect failed');
        if (client) lost(client, err);
        else schedule();
      });
    }, opts.reconnectMs);
    retry.unref();
  }

  return {
    async start() {
      stopped = false;
      try {
        await open();
      } catch (err) {
        const failed = client;
        client = undefined;
        await failed?.end().catch(() => {});
        throw err;
      }
    },
    version: () => (listening ? version : ++version),
    bump: () => void version++,
    async stop() {
      stopped = true;
      listening = false;
      if (retry) clearTimeout(retry);
      retry = undefined;
      const current = client;
      client = undefined;
      await current?.end().catch(() => {});
    },
  };
}

/**
 * A store's migration SQL that makes `tables` announce every committed change on `channel` (once
 * per statement, delivered at commit, whoever wrote: an instance, the CLI or plain SQL), for a
 * {@link ChangeFeed} on that channel. Creates the trigger function `<channel>_changed()`.
 */
export function notifyChangesSql(channel: string, tables: readonly string[]): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`not a plain channel name: ${channel}`);
  const triggers = tables.map(
    (table) => `CREATE TRIGGER ${table}_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ${table}
        FOR EACH STATEMENT EXECUTE FUNCTION ${channel}_changed();`,
  );
  return `
      CREATE FUNCTION ${channel}_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('${channel}', TG_TABLE_NAME);
        RETURN NULL;
      END $$;
      ${triggers.join('\n      ')}`;
}
