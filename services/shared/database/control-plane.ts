import { join } from 'node:path';
import type { Component } from '../component.js';
import type { Logger } from '../logger.js';
import { createChangeFeed, type ChangeFeed } from './change-feed.js';
import { migratePostgres, type PostgresMigration } from './migrations.js';
import { asUnavailable, createPostgres, type Postgres, type PostgresOptions } from './postgres.js';

/**
 * Where the control-plane state lives (devices, subscriptions, the outbox and delivery log, field
 * profiles, decision state, irrigation records, forecasts and chat users): the embedded SQLite
 * files in the data folder, or one PostgreSQL database that several instances share
 * (`FIELDHOOK_DATABASE_URL`). The ingestor's spool and de-duplication keys stay on each
 * instance's disk: its acknowledgement.
 *
 * A store follows one pattern on either backend (see "Control-plane backends" in
 * docs/ARCHITECTURE.md): one repository interface, `sqlite-X.ts` and `postgres-X.ts`
 * implementing it, and `createXRepository(plane)` choosing between them. The result is usable
 * once its `open()` resolved, which is where PostgreSQL migrations run; the store's component (or
 * the CLI) calls it.
 */
export type ControlPlane = SqlitePlane | PostgresPlane;

export interface SqlitePlane {
  readonly kind: 'sqlite';
  readonly dataDir: string;
  /** Where a store's SQLite file lives: in the data folder. */
  path(file: string): string;
}

export interface PostgresPlane {
  readonly kind: 'postgres';
  /** This instance's data folder: the SQLite files of an older version are read from it once (sqlite-import.ts). */
  readonly dataDir: string;
  readonly postgres: Postgres;
  readonly logger: Logger;
  /** Apply a store's migrations (under the advisory lock; see migratePostgres). */
  migrate(store: string, migrations: readonly PostgresMigration[]): Promise<void>;
  /** A change feed on `channel`, on a connection of its own. */
  changeFeed(channel: string): ChangeFeed;
}

/** The settings that choose the backend (COMMON_CONFIG). */
export interface ControlPlaneSettings {
  DATA_DIR: string;
  DATABASE_URL?: string | undefined;
  INSTANCE_ID?: string | undefined;
}

/** SQLite in `DATA_DIR` unless `DATABASE_URL` names a PostgreSQL database. Opens nothing yet. */
export function createControlPlane(settings: ControlPlaneSettings, logger: Logger, options: Partial<PostgresOptions> = {}): ControlPlane {
  if (!settings.DATABASE_URL) return { kind: 'sqlite', dataDir: settings.DATA_DIR, path: (file) => join(settings.DATA_DIR, file) };
  const postgres = createPostgres(settings.DATABASE_URL, logger, {
    ...options,
    ...(settings.INSTANCE_ID ? { instanceId: settings.INSTANCE_ID } : {}),
  });
  return {
    kind: 'postgres',
    dataDir: settings.DATA_DIR,
    postgres,
    logger,
    async migrate(store, migrations) {
      let applied: string[];
      try {
        applied = await migratePostgres(postgres.pool, store, migrations, () =>
          logger.info({ store }, 'another instance is applying database migrations; waiting for it'),
        );
      } catch (err) {
        throw asUnavailable(err, postgres.shownUrl, `apply the ${store} migrations`);
      }
      if (applied.length > 0) logger.info({ store, applied }, 'applied database migrations');
    },
    changeFeed: (channel) => createChangeFeed(() => postgres.client(), channel, logger),
  };
}

/**
 * The control plane as a part of the process: first to start (PostgreSQL answers, or the start
 * fails with FH_ERR_DATABASE_UNAVAILABLE), last to stop (the pool closes after every store).
 */
export function controlPlaneComponent(plane: ControlPlane): Component {
  return {
    name: 'database',
    readiness:
      plane.kind === 'postgres'
        ? [
            {
              name: 'database',
              check: async () => {
                try {
                  await plane.postgres.pool.query('SELECT 1');
                  return { ok: true, detail: { backend: 'postgres' } };
                } catch (err) {
                  return { ok: false, detail: { backend: 'postgres', error: (err as Error).message } };
                }
              },
            },
          ]
        : [],
    async start() {
      if (plane.kind !== 'postgres') return;
      try {
        await plane.postgres.pool.query('SELECT 1');
      } catch (err) {
        throw asUnavailable(err, plane.postgres.shownUrl, 'connect');
      }
    },
    stop: () => closeControlPlane(plane),
  };
}

export async function closeControlPlane(plane: ControlPlane): Promise<void> {
  if (plane.kind === 'postgres') await plane.postgres.close();
}
