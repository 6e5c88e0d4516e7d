import type { ControlPlane } from '../shared/database/control-plane.js';
import { createPostgresIrrigations } from './postgres-store.js';
import { createSqliteIrrigations, type IrrigationRepository } from './store.js';

/** The irrigation records' file in the data folder on the SQLite backend. */
export const IRRIGATIONS_FILE = 'irrigations.db';

/** The irrigation records on the control plane's backend; `open()` readies them (their calls wait for it). */
export function createIrrigationRepository(plane: ControlPlane): IrrigationRepository {
  return plane.kind === 'postgres' ? createPostgresIrrigations(plane) : createSqliteIrrigations(plane.path(IRRIGATIONS_FILE));
}
