/**
 * What every predictor sharing one PostgreSQL saved, read for those who only look (the status
 * page, the chat): each field's decision state and what it learnt, with when and by whom the
 * state was saved last, and who holds each partition now: the lease holders with automatic
 * partitions, the claiming sessions with partitions set by hand. One statement per read whatever
 * the number of fields: the status page polls it. Read-only: the predictor's store
 * (postgres-predictor-store.ts), leases (postgres-partition-leases.ts) and claims
 * (host/partition-claim.ts) write what it reads.
 */
import type { PostgresPlane } from '../shared/database/control-plane.js';
import { databaseUnavailable } from '../shared/database/postgres.js';
import { CLAIM_KEY } from './partition-modes.js';
import type { DecisionState } from './decision.js';
import type { FieldLearningState } from './field-learning.js';

/** One field's saved state, as its evaluating predictor left it. */
export interface SavedField {
  state: DecisionState | null;
  learning: FieldLearningState | null;
  /** When its decision state was saved last, epoch ms, and by which instance; null when never. */
  savedAt: number | null;
  savedBy: string | null;
}

export interface SharedFieldState {
  /** By field key `farm/field`. */
  fields: Map<string, SavedField>;
  /** The instance holding each partition held by someone at `now`: its live lease, or its claim. */
  holders: Map<number, string>;
}

export interface SharedFieldStateReader {
  /** Everything saved, and the leases live at `now` (epoch ms, the leases' clock). */
  read(now: number): Promise<SharedFieldState>;
}

/** A claiming session's `application_name` is `fieldhook/<instance>` (shared/database/postgres.ts). */
const APP_PREFIX = 'fieldhook/';

export interface FieldStateReaderOptions {
  /** False (PREDICT_LEARN_FIELD=false): what fields learnt is not read. */
  learning: boolean;
  /** Who holds a partition: `leases` (automatic partitions) or `claims` (partitions set by hand). */
  holders: 'leases' | 'claims';
}

/** Each part of the statement: a JSON array. */
const STATES = `SELECT COALESCE(json_agg(json_build_object('farm', farm, 'field', field, 'state', state,
    'at', (extract(epoch FROM updated_at) * 1000)::bigint, 'by', updated_by)), '[]') FROM predictor_decision_state`;
const LEARNING = `SELECT COALESCE(json_agg(json_build_object('farm', farm, 'field', field, 'state', state)), '[]') FROM predictor_field_learning`;
const HOLDERS = {
  /** Leases live at $1. */
  leases: `SELECT COALESCE(json_agg(json_build_object('partition', partition, 'holder', holder)), '[]')
    FROM predictor_partitions WHERE holder IS NOT NULL AND expires_at > $1`,
  /** The claims' advisory locks in this database, as partition-modes.ts finds them. */
  claims: `SELECT COALESCE(json_agg(json_build_object('partition', l.objid::int, 'holder', a.application_name)), '[]')
    FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
    WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 AND l.classid = ${CLAIM_KEY}::int::oid
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
};

export function createPostgresFieldStateReader(plane: PostgresPlane, options: FieldStateReaderOptions): SharedFieldStateReader {
  const { pool, shownUrl } = plane.postgres;
  // One row of three JSON arrays: a single round trip, and no row per field for the driver to build.
  const sql = `SELECT (${STATES}) AS states, (${options.learning ? LEARNING : `SELECT '[]'::json`}) AS learning, (${HOLDERS[options.holders]}) AS holders`;
  return {
    async read(now) {
      let row: {
        states: { farm: string; field: string; state: DecisionState; at: number; by: string }[];
        learning: { farm: string; field: string; state: FieldLearningState }[];
        holders: { partition: number; holder: string }[];
      };
      try {
        row = (await pool.query<typeof row>(sql, options.holders === 'leases' ? [now] : [])).rows[0]!;
      } catch (err) {
        throw databaseUnavailable(err, shownUrl, 'read the predictors\' saved field state');
      }
      const fields = new Map<string, SavedField>();
      const entry = (farm: string, field: string) => {
        const key = `${farm}/${field}`;
        let e = fields.get(key);
        if (!e) fields.set(key, (e = { state: null, learning: null, savedAt: null, savedBy: null }));
        return e;
      };
      for (const s of row.states) Object.assign(entry(s.farm, s.field), { state: s.state, savedAt: Number(s.at), savedBy: s.by });
      for (const l of row.learning) entry(l.farm, l.field).learning = l.state;
      const instanceOf = (name: string) => (name.startsWith(APP_PREFIX) ? name.slice(APP_PREFIX.length) : name);
      return { fields, holders: new Map(row.holders.map((h) => [h.partition, instanceOf(h.holder)])) };
    },
  };
}
