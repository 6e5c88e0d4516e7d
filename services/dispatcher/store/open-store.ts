import type { ControlPlane } from '../../shared/database/control-plane.js';
import { createPostgresStore } from './postgres-store.js';
import { createSqliteStore } from './sqlite-store.js';
import type { DispatchStore } from './types.js';

/** A dispatcher store that is usable once `open()` resolved (PostgreSQL migrates there). */
export interface OpenableDispatchStore extends DispatchStore {
  open(): Promise<void>;
}

/**
 * The dispatcher's store on the control plane's backend: the SQLite file at `sqlitePath`
 * (DISPATCH_DB_PATH, or dispatch.sqlite in the data folder), or PostgreSQL shared with the other
 * instances, where `instanceId` names this instance's leases. Call `open()` before using it.
 */
export function createDispatchStore(plane: ControlPlane, sqlitePath: string, instanceId: string): OpenableDispatchStore {
  if (plane.kind === 'postgres') return createPostgresStore(plane, instanceId);
  return { ...createSqliteStore(sqlitePath), open: async () => {} };
}
