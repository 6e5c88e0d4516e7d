import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

/**
 * A fresh, empty database in the run's PostgreSQL (test/setup/real-services.ts), named after
 * `prefix`: each test file (or test) isolates itself by creating its own. Returns its URL.
 */
export async function createTestDatabase(prefix: string): Promise<string> {
  const server = new URL(inject('postgresUrl'));
  const name = `${prefix.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: server.toString() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  server.pathname = `/${name}`;
  return server.toString();
}
