/**
 * What an older version's predictor kept in its SQLite file (field profiles, decision state,
 * field learning), copied into PostgreSQL once when the predictor's stores open there (see
 * services/shared/database/sqlite-import.ts): the fields keep being advised, and advice already in
 * force is not sent again. SQLite kept JSON as text and times as epoch ms.
 */
import type { SqliteImport } from '../shared/database/sqlite-import.js';

const fromEpochMs = 'to_timestamp($::float8 / 1000)';

/** The field profiles of `file` (PostgreSQL keeps `updated_at` in epoch ms too). */
export const fieldProfilesImport = (file: string): SqliteImport[] => [
  { file, table: 'field_profile', into: 'field_profile', columns: ['farm', 'field', 'settings', 'updated_at'], convert: { settings: '$::jsonb' } },
];

/** The decision state and field learning of `file`, signed as written by `instance`. */
export const predictorStateImports = (file: string, instance: string): SqliteImport[] =>
  (
    [
      ['decision_state', 'predictor_decision_state'],
      ['field_learning', 'predictor_field_learning'],
    ] as const
  ).map(([table, into]) => ({
    file,
    table,
    into,
    columns: ['farm', 'field', 'state', 'updated_at'],
    convert: { state: '$::jsonb', updated_at: fromEpochMs },
    fixed: { updated_by: instance },
  }));
