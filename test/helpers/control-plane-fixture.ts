import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeControlPlane, createControlPlane, type ControlPlane } from '../../services/shared/database/control-plane.js';
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
  plane(instanceId?: string): ControlPlane;
  onClose(fn: () => unknown): void;
  close(): Promise<void>;
}

export async function planeFixture(backend: Backend, name: string): Promise<PlaneFixture> {
  const dataDir = mkdtempSync(join(tmpdir(), `fh-${name}-`));
  const databaseUrl = backend === 'postgres' ? await createTestDatabase(name) : undefined;
  const planes: ControlPlane[] = [];
  const closers: (() => unknown)[] = [];
  return {
    dataDir,
    databaseUrl,
    plane(instanceId) {
      const plane = createControlPlane({ DATA_DIR: dataDir, ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}), ...(instanceId ? { INSTANCE_ID: instanceId } : {}) }, silentLogger());
      planes.push(plane);
      return plane;
    },
    onClose: (fn) => void closers.push(fn),
    async close() {
      for (const fn of closers.reverse()) await fn();
      for (const plane of planes) await closeControlPlane(plane);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
