import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { closeControlPlane, createControlPlane, type ControlPlane } from '../../services/shared/database/control-plane.js';
import type { PostgresOptions } from '../../services/shared/database/postgres.js';
import { silentLogger } from '../../services/shared/logger.js';
import { createTestDatabase } from './postgres-database.js';

export type Backend = 'sqlite' | 'postgres';
export const BACKENDS: readonly Backend[] = ['sqlite', 'postgres'];

/**
 * One control plane's storage for a test: a throw-away data folder, and on PostgreSQL a fresh
 * database. `plane()` is a new process's view of it (its own pool), as another instance opens it;
 * `close()` closes them all, after `onClose` callbacks (a store's own close).
 */
export interface PlaneFixture {
  readonly dataDir: string;
  readonly databaseUrl: string | undefined;
  plane(instanceId?: string, options?: Partial<PostgresOptions>): ControlPlane;
  /** Hold `table` locked (ACCESS EXCLUSIVE) on a connection of its own until the returned function is called: every query on it waits. */
  lock(table: string): Promise<() => Promise<void>>;
  onClose(fn: () => unknown): void;
  /** A store made by `create` on a new plane of `instanceId`, opened, and closed with the fixture. */
  open<T extends { open(): Promise<void>; close(): unknown }>(create: (plane: ControlPlane) => T, instanceId?: string): Promise<T>;
  close(): Promise<void>;
}

export async function planeFixture(backend: Backend, name: string): Promise<PlaneFixture> {
  const dataDir = mkdtempSync(join(tmpdir(), `fh-${name}-`));
  const databaseUrl = backend === 'postgres' ? await createTestDatabase(name) : undefined;
  const planes: ControlPlane[] = [];
  const closers: (() => unknown)[] = [];
  const plane = (instanceId?: string, options?: Partial<PostgresOptions>): ControlPlane => {
    const settings = { DATA_DIR: dataDir, ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}), ...(instanceId ? { INSTANCE_ID: instanceId } : {}) };
    const created = createControlPlane(settings, silentLogger(), options);
    planes.push(created);
    return created;
  };
  return {
    dataDir,
    databaseUrl,
    plane,
    async lock(table) {
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      await client.query('BEGIN');
      await client.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
      return async () => {
        await client.query('ROLLBACK');
        await client.end();
      };
    },
    onClose: (fn) => void closers.push(fn),
    async open(create, instanceId) {
      const store = create(plane(instanceId));
      closers.push(() => store.close());
      await store.open();
      return store;
    },
    async close() {
      for (const fn of closers.reverse()) await fn();
      for (const plane of planes) await closeControlPlane(plane);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
