import type { Clock } from '../shared/clock.js';
import type { ControlPlane } from '../shared/database/control-plane.js';
import { importingFromSqlite } from '../shared/database/sqlite-import.js';
import type { SqliteDatabase } from '../shared/sqlite.js';
import type { OpenableFieldProfileRepository } from './field-profiles.js';
import { PREDICTOR_FILE } from './open-predictor-store.js';
import { createPostgresFieldProfiles } from './postgres-field-profiles.js';
import { createSqliteFieldProfiles } from './sqlite-predictor-store.js';
import { fieldProfilesImport } from './sqlite-state-import.js';

/**
 * The field profiles on the control plane's backend: on SQLite in the predictor's file (`db`,
 * opened only when needed, where removing a field also forgets its state), or in PostgreSQL
 * shared by every instance. Call `open()` before using them.
 */
export function createFieldProfileRepository(plane: ControlPlane, options: { clock: Clock; db: () => SqliteDatabase }): OpenableFieldProfileRepository {
  if (plane.kind === 'postgres') return createPostgresFieldProfiles(importingFromSqlite(plane, fieldProfilesImport(PREDICTOR_FILE)), options.clock);
  return { ...createSqliteFieldProfiles(options.db()), open: async () => {} };
}
