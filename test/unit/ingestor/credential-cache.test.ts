import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCredentialCache } from '../../../services/ingestor/credential-cache.js';
import type { DeviceRepository } from '../../../services/registry/device.js';
import { Errors } from '../../../services/shared/error-catalog.js';
import { createSqliteDeviceRepository } from '../../../services/registry/sqlite-devices.js';

/** The next event-loop turn: the cache looks at the registry's change version once per turn. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('credential cache', () => {
  let dir: string;
  /** The ingestor's connection, behind the cache. */
  let served: DeviceRepository;
  /** Another process's connection to the same registry (`fieldhook devices …` next to `fieldhook start`). */
  let cli: DeviceRepository;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fieldhook-cache-'));
    served = createSqliteDeviceRepository(join(dir, 'registry.db'));
    cli = createSqliteDeviceRepository(join(dir, 'registry.db'));
  });
  afterEach(() => {
    served.close();
    cli.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A repository that counts the reads reaching SQLite. */
  function counted(repository: DeviceRepository) {
    const reads = { count: 0 };
    const wrapped: DeviceRepository = {
      ...repository,
      get: (id) => (reads.count++, repository.get(id)),
      findBySecret: (secret) => (reads.count++, repository.findBySecret(secret)),
      getFarmNetworks: (farm) => (reads.count++, repository.getFarmNetworks(farm)),
      changeVersion: () => repository.changeVersion!(),
    };
    return { wrapped, reads };
  }

  it('answers repeated lookups from memory, without a registry read per message', async () => {
    const { secret } = await cli.add({ id: 'n-1', farm: 'f', field: 'a', kind: 'device' });
    const { wrapped, reads } = counted(served);
    const cache = createCredentialCache(wrapped);
    for (let i = 0; i < 100; i++) {
      expect((await cache.get('n-1'))?.secret).toBe(secret);
      expect((await cache.findBySecret(secret))?.id).toBe('n-1');
      expect(await cache.getFarmNetworks('f')).toEqual([]);
      if (i % 10 === 0) await nextTurn();
    }
    expect(cache.peek('n-1')?.id).toBe('n-1');
    expect(reads.count).toBe(3);
  });

  it('answers a device the registry answered for before from that answer while the registry cannot be read, and nothing else', async () => {
    const { secret } = await cli.add({ id: 'n-7', farm: 'f', field: 'a', kind: 'device' });
    let down = false;
    let version = 1;
    const outage = () => {
      if (down) throw Errors.databaseUnavailable('the device registry cannot be read');
    };
    // As PostgreSQL's registry does without its change feed: every look is a change.
    const flaky: DeviceRepository = {
      ...served,
      get: async (id) => (outage(), served.get(id)),
      findBySecret: async (s) => (outage(), served.findBySecret(s)),
      getFarmNetworks: async (farm) => (outage(), served.getFarmNetworks(farm)),
      changeVersion: () => (down ? ++version : version),
    };
    const cache = createCredentialCache(flaky);
    expect((await cache.get('n-7'))?.id).toBe('n-7');
    expect((await cache.findBySecret(secret))?.id).toBe('n-7');
    expect(await cache.getFarmNetworks('f')).toEqual([]);
    down = true;
    await nextTurn();
    expect((await cache.get('n-7'))?.id).toBe('n-7');
    expect((await cache.findBySecret(secret))?.id).toBe('n-7');
    expect(await cache.getFarmNetworks('f')).toEqual([]);
    // Never answered for: the outage is the answer.
    await expect(cache.get('n-8')).rejects.toMatchObject({ code: 'FH_ERR_DATABASE_UNAVAILABLE' });
    await expect(cache.findBySecret('whsec_other')).rejects.toMatchObject({ code: 'FH_ERR_DATABASE_UNAVAILABLE' });
  });

  it('lets many lookups of a device not yet in memory share one registry read', async () => {
    await cli.add({ id: 'n-5', farm: 'f', field: 'a', kind: 'device' });
    const { wrapped, reads } = counted(served);
    const cache = createCredentialCache(wrapped);
    const found = await Promise.all(Array.from({ length: 50 }, () => cache.get('n-5')));
    expect(found.every((d) => d?.id === 'n-5')).toBe(true);
    expect(reads.count).toBe(1);
  });

  it('sees a device added, a secret rotated and a device disabled by another process on the next turn', async () => {
    const cache = createCredentialCache(served);
    expect(await cache.get('n-2')).toBeUndefined();
    expect(cache.peek('n-2')).toBeNull();

    const { secret: first } = await cli.add({ id: 'n-2', farm: 'f', field: 'a', kind: 'device' });
    await nextTurn();
    expect((await cache.get('n-2'))?.secret).toBe(first);
    expect((await cache.findBySecret(first))?.id).toBe('n-2');

    const second = await cli.rotateSecret('n-2');
    await nextTurn();
    expect(await cache.findBySecret(first)).toBeUndefined();
    expect((await cache.findBySecret(second))?.id).toBe('n-2');
    expect((await cache.get('n-2'))?.secret).toBe(second);

    await cli.setEnabled('n-2', false);
    await nextTurn();
    expect((await cache.get('n-2'))?.enabled).toBe(false);

    await cli.setFarmNetworks('f', ['10.0.0.0/8']);
    await nextTurn();
    expect(await cache.getFarmNetworks('f')).toEqual(['10.0.0.0/8']);
  });

  it('sees a change made through itself at once', async () => {
    const cache = createCredentialCache(served);
    const { secret } = await cache.add({ id: 'n-3', farm: 'f', field: 'a', kind: 'device' });
    expect((await cache.findBySecret(secret))?.id).toBe('n-3');
    const rotated = await cache.rotateSecret('n-3');
    expect(await cache.findBySecret(secret)).toBeUndefined();
    expect((await cache.get('n-3'))?.secret).toBe(rotated);
    await cache.setEnabled('n-3', false);
    expect(cache.peek('n-3')).toBeUndefined();
    expect((await cache.get('n-3'))?.enabled).toBe(false);
  });

  it('reads through a repository without a change version every time', async () => {
    await cli.add({ id: 'n-4', farm: 'f', field: 'a', kind: 'device' });
    const { wrapped, reads } = counted(served);
    delete (wrapped as { changeVersion?: unknown }).changeVersion;
    const cache = createCredentialCache(wrapped);
    await cache.get('n-4');
    await cache.get('n-4');
    expect(reads.count).toBe(2);
    expect(cache.peek('n-4')).toBeUndefined();
  });
});
