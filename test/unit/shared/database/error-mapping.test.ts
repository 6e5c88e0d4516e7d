import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { databaseUnavailable } from '../../../../services/shared/database/postgres.js';

const serverError = (code: string) => Object.assign(new pg.DatabaseError(`server said ${code}`, 0, 'error'), { code });
const mapped = (sqlState: string) => {
  const err = databaseUnavailable(serverError(sqlState), 'postgres://fieldhook@db/fieldhook', 'save');
  const code = (err as unknown as { code?: string }).code;
  return code?.startsWith('FH_ERR_') ? code : 'a bug (FH_ERR_INTERNAL)';
};

describe('PostgreSQL errors, as the catalog says them', () => {
  it.each([
    // The database is not there for fieldhook: retry later (503).
    ['08006', 'FH_ERR_DATABASE_UNAVAILABLE'],
    ['57014', 'FH_ERR_DATABASE_UNAVAILABLE'],
    ['40001', 'FH_ERR_DATABASE_UNAVAILABLE'],
    ['42501', 'FH_ERR_DATABASE_UNAVAILABLE'],
    ['42P01', 'FH_ERR_DATABASE_UNAVAILABLE'],
    ['25006', 'FH_ERR_DATABASE_UNAVAILABLE'],
    ['XX000', 'FH_ERR_DATABASE_UNAVAILABLE'],
    // The same input fails again, whenever it is retried (400).
    ['22001', 'FH_ERR_DATABASE_VALUE_REFUSED'],
    ['23505', 'FH_ERR_DATABASE_VALUE_REFUSED'],
    ['21000', 'FH_ERR_DATABASE_VALUE_REFUSED'],
    ['54000', 'FH_ERR_DATABASE_VALUE_REFUSED'],
    // No database could run the statement as written: fieldhook's bug, never "unavailable".
    ['42601', 'a bug (FH_ERR_INTERNAL)'],
    ['42703', 'a bug (FH_ERR_INTERNAL)'],
    ['42883', 'a bug (FH_ERR_INTERNAL)'],
    ['42804', 'a bug (FH_ERR_INTERNAL)'],
  ])('%s → %s', (code, expected) => {
    expect(mapped(code)).toBe(expected);
  });
});
