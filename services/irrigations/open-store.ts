import type { ControlPlane } from '../shared/database/control-plane.js';
import { importingFromSqlite, type SqliteImport } from '../shared/database/sqlite-import.js';
import { createPostgresIrrigations } from './postgres-store.js';
import { createSqliteIrrigations, type IrrigationRepository } from './store.js';

/** The irrigation records' file in the data folder on the SQLite backend. */
export const IRRIGATIONS_FILE = 'irrigations.db';

/**
 * An older version's records in the data folder, copied into PostgreSQL once: ids, idempotency
 * keys and forwarding cursors as they were (a record not yet forwarded is forwarded from
 * PostgreSQL), in the order they were recorded.
 */
const IRRIGATIONS_IMPORT: SqliteImport = {
  file: IRRIGATIONS_FILE,
  table: 'irrigation',
  into: 'irrigation',
  columns: ['id', 'farm', 'field', 'depth_mm', 'start_ts', 'end_ts', 'source', 'who', 'recorded_at', 'idempotency_scope', 'idempotency_key', 'digest', 'influx_at', 'bus_at'],
  orderBy: 'seq',
};

/** The irrigation records on the control plane's backend; `open()` readies them (their calls wait for it). */
export function createIrrigationRepository(plane: ControlPlane): IrrigationRepository {
  return plane.kind === 'postgres'
    ? createPostgresIrrigations(importingFromSqlite(plane, [IRRIGATIONS_IMPORT]))
    : createSqliteIrrigations(plane.path(IRRIGATIONS_FILE));
}
