/**
 * docs/operations.md's backup of the control plane, as written there: `pg_dump --format=custom`
 * of a running registry and `pg_restore --no-owner` into an empty database give a registry that
 * opens without applying a migration and authenticates the same devices.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createDeviceRepository } from '../../../services/registry/open-devices.js';
import { closeControlPlane, createControlPlane } from '../../../services/shared/database/control-plane.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { ensurePostgres } from '../../../infra/harness/postgres.js';
import { eventually } from '../../helpers/eventually.js';
import { createTestDatabase } from '../../helpers/postgres-database.js';

const exec = promisify(execFile);
/** The tools of the PostgreSQL the harness runs (the same major version as the server). */
const tool = (name: string) => join(ensurePostgres(), name);

async function openRegistry(url: string) {
  const plane = createControlPlane({ DATA_DIR: '/nonexistent', DATABASE_URL: url }, silentLogger());
  const devices = createDeviceRepository(plane);
  await devices.open();
  return { devices, close: async () => (await devices.close(), await closeControlPlane(plane)) };
}

describe('control-plane backup (docs/operations.md)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fh-backup-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('restores a pg_dump of a running registry into an empty database that opens as it was', async () => {
    const source = await createTestDatabase('backup_source');
    const live = await openRegistry(source);
    const dump = join(dir, 'fieldhook.dump');
    let secret: string;
    try {
      ({ secret } = await live.devices.add({ id: 'n-1', farm: 'f', field: 'north', kind: 'device', location: { latitude: 50.8, longitude: 4.35, elevation: 3 } }));
      await live.devices.setFarmNetworks('f', ['10.0.0.0/8']);
      await exec(tool('pg_dump'), ['--format=custom', `--file=${dump}`, source]);
    } finally {
      await live.close();
    }

    const target = await createTestDatabase('backup_target');
    await exec(tool('pg_restore'), ['--no-owner', `--dbname=${target}`, dump]);
    const client = new pg.Client({ connectionString: target });
    await client.connect();
    const before = (await client.query('SELECT store, version, applied_at FROM fieldhook_migrations')).rows;
    await client.end();

    const restored = await openRegistry(target);
    try {
      expect((await restored.devices.findBySecret(secret))).toMatchObject({ id: 'n-1', location: { latitude: 50.8, longitude: 4.35, elevation: 3 } });
      expect(await restored.devices.getFarmNetworks('f')).toEqual(['10.0.0.0/8']);
      // Nothing applied again; and the restored triggers still announce changes.
      const after = new pg.Client({ connectionString: target });
      await after.connect();
      expect((await after.query('SELECT store, version, applied_at FROM fieldhook_migrations')).rows).toEqual(before);
      await after.end();
      const version = restored.devices.changeVersion!();
      const other = await openRegistry(target);
      await other.devices.setEnabled('n-1', false);
      await other.close();
      await eventually(() => restored.devices.changeVersion!() > version, { what: 'the change announced' });
    } finally {
      await restored.close();
    }
  });
});
