import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { createSqliteDeviceRepository } from '../../../services/registry/sqlite-devices.js';

describe('a device\'s device profile in the registry', () => {
  it('is stored and read back, and absent when not given', async () => {
    const repo = createSqliteDeviceRepository(join(mkdtempSync(join(tmpdir(), 'fh-reg-')), 'registry.db'));
    try {
      expect((await repo.add({ id: 'a', farm: 'f', field: 'x', kind: 'device', deviceProfile: 'dragino-lse01' })).deviceProfile).toBe('dragino-lse01');
      expect((await repo.get('a'))!.deviceProfile).toBe('dragino-lse01');
      expect((await repo.add({ id: 'b', farm: 'f', field: 'x', kind: 'device' })).deviceProfile).toBeUndefined();
      expect((await repo.list()).map((d) => d.deviceProfile)).toEqual(['dragino-lse01', undefined]);
    } finally {
      repo.close();
    }
  });

  it('a registry made before the column gets it by migration, its devices without a profile', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'fh-reg-')), 'registry.db');
    const first = createSqliteDeviceRepository(path);
    await first.add({ id: 'old', farm: 'f', field: 'x', kind: 'device' });
    first.close();
    // Back to the first schema version, as a registry written before device profiles.
    const db = new Database(path);
    db.exec('ALTER TABLE devices DROP COLUMN device_profile');
    db.pragma('user_version = 1');
    db.close();
    const repo = createSqliteDeviceRepository(path);
    try {
      expect((await repo.get('old'))!.deviceProfile).toBeUndefined();
      await repo.add({ id: 'new', farm: 'f', field: 'x', kind: 'device', deviceProfile: 'sensecap-s2105' });
      expect((await repo.get('new'))!.deviceProfile).toBe('sensecap-s2105');
    } finally {
      repo.close();
    }
  });
});
