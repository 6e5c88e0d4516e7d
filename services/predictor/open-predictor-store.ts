import type { ControlPlane } from '../shared/database/control-plane.js';
import { importingFromSqlite } from '../shared/database/sqlite-import.js';
import type { SqliteDatabase } from '../shared/sqlite.js';
import { createPostgresPredictorStore } from './postgres-predictor-store.js';
import type { DecisionStateRepository, FieldLearningRepository, PartitionFence, StateWriteOptions } from './predictor-store.js';
import { createSqliteDecisionStates, createSqliteFieldLearning } from './sqlite-predictor-store.js';
import { predictorStateImports } from './sqlite-state-import.js';

/** The predictor's file in the data folder on the SQLite backend (field profiles, decision state, learning). */
export const PREDICTOR_FILE = 'predictor.db';

/** Decision state and field learning, usable once `open()` resolved (PostgreSQL migrates there). */
export interface PredictorStateStore {
  states: DecisionStateRepository;
  learning: FieldLearningRepository;
  open(): Promise<void>;
}

/**
 * The predictor's per-field state on the control plane's backend: the instance's own SQLite
 * file (`db`, shared with its field profiles), or PostgreSQL shared with every predictor, where
 * `instance` signs the writes and `fence` (automatic partitions) refuses those of a partition
 * this instance no longer holds. With `onlyProfiled`, a field's state is written only while it
 * has a profile on the same backend (see {@link StateWriteOptions}).
 */
export function createPredictorStateStore(plane: ControlPlane, options: { instance: string; fence?: PartitionFence; db: () => SqliteDatabase } & StateWriteOptions): PredictorStateStore {
  const writes: StateWriteOptions = { onlyProfiled: options.onlyProfiled === true };
  if (plane.kind === 'postgres') return createPostgresPredictorStore(importingFromSqlite(plane, predictorStateImports(PREDICTOR_FILE, options.instance)), options.instance, options.fence, writes);
  const db = options.db();
  return { states: createSqliteDecisionStates(db, false, writes), learning: createSqliteFieldLearning(db, writes), open: async () => {} };
}
