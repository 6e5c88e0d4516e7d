/**
 * The device registry on both control-plane backends, by one suite: SQLite in the data folder
 * and PostgreSQL (the run's real server, a fresh database per test). Both must behave the same,
 * and both must keep the ingestor's credential cache current when another connection, another
 * process or (PostgreSQL) plain SQL changes a device.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCredentialCache } from '../../../services/ingestor/credential-cache.js';
import type { OpenableDeviceRepository } from '../../../services/registry/device.js';
import { createDeviceRepository } from '../../../services/registry/open-devices.js';
import { REGISTRY_STORE } from '../../../services/registry/postgres-devices.js';
import { closeControlPlane, controlPlaneComponent, createControlPlane, type ControlPlane } from '../../../services/shared/database/control-plane.js';
import { MIGRATION_LOCK, migratePostgres } from '../../../services/shared/database/migrations.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { eventually } from '../../helpers/eventually.js';
import { createTestDatabase } from '../../helpers/postgres-database.js';

const exec = promisify(execFile);

type Backend = 'sqlite' | 'postgres';

/** One registry (a data folder or a database) and the connections a test opens to it. */
interface RegistryFixture {
  /** Settings of `fieldhook` processes that use this registry. */
  env: NodeJS.ProcessEnv;
  settings: { DATA_DIR: string; DATABASE_URL?: string };
  /** A new connection to the registry, as another instance would open it. */
  connect(instanceId?: string): Promise<OpenableDeviceRepository>;
  close(): Promise<void>;
}

async function registryFixture(backend: Backend): Promise<RegistryFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'fh-registry-'));
  const settings = { DATA_DIR: dir, ...(backend === 'postgres' ? { DATABASE_URL: await createTestDatabase('registry') } : {}) };
  const opened: { plane: ControlPlane; devices: OpenableDeviceRepository }[] = [];
  return {
    settings,
    env: { ...process.env, FIELDHOOK_DATA_DIR: dir, ...(settings.DATABASE_URL ? { FIELDHOOK_DATABASE_URL: settings.DATABASE_URL } : {}) },
    async connect(instanceId) {
      const plane = createControlPlane({ ...settings, ...(instanceId ? { INSTANCE_ID: instanceId } : {}) }, silentLogger());
      const devices = createDeviceRepository(plane);
      opened.push({ plane, devices });
      await devices.open();
      return devices;
    },
    async close() {
      for (const { plane, devices } of opened) {
        await devices.close();
        await closeControlPlane(plane);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const cli = (env: NodeJS.ProcessEnv, ...args: string[]) =>
  exec(process.execPath, ['--import', 'tsx', 'services/cli/main.ts', ...args], { env }).then((r) => JSON.parse(r.stdout) as Record<string, unknown>);

const codeOf = (promise: Promise<unknown>) => promise.then(() => 'resolved', (err: { code?: string }) => err.code);

describe.each<Backend>(['sqlite', 'postgres'])('device registry on %s', (backend) => {
  let registry: RegistryFixture;
  let devices: OpenableDeviceRepository;

  beforeEach(async () => {
    registry = await registryFixture(backend);
    devices = await registry.connect();
  });
  afterEach(() => registry.close());

  it('adds a device and reads it back by id, by secret and in lists, where its secret never appears', async () => {
    const added = await devices.add({
      id: 'n-1',
      farm: 'f1',
      field: 'north',
      kind: 'device',
      gateway: 'gw-1',
      location: { latitude: 50.8, longitude: 4.35, elevation: 12 },
      profile: { crop: 'tomato', windHeightM: 10 },
      deviceProfile: 'dl-trs12',
      allowedNetworks: ['10.0.0.0/8'],
    });
    await devices.add({ id: 'gw-1', farm: 'f1', field: 'north', kind: 'gateway', enabled: false });
    await devices.add({ id: 'B-2', farm: 'f2', field: 'south', kind: 'device' });

    expect(added).toMatchObject({
      id: 'n-1',
      enabled: true,
      gateway: 'gw-1',
      location: { latitude: 50.8, longitude: 4.35, elevation: 12 },
      profile: { crop: 'tomato', windHeightM: 10 },
      deviceProfile: 'dl-trs12',
      allowedNetworks: ['10.0.0.0/8'],
    });
    expect(added.secret).toMatch(/^whsec_/);
    expect(new Date(added.createdAt).toISOString()).toBe(added.createdAt);
    expect(await devices.get('n-1')).toEqual(added);
    expect(await devices.findBySecret(added.secret)).toEqual(added);
    expect(await devices.findBySecret('whsec_unknown')).toBeUndefined();
    expect(await devices.get('ghost')).toBeUndefined();

    // Byte order on both backends: upper case before lower case.
    expect((await devices.list()).map((d) => d.id)).toEqual(['B-2', 'gw-1', 'n-1']);
    expect((await devices.list({ farm: 'f1' })).map((d) => [d.id, d.enabled])).toEqual([['gw-1', false], ['n-1', true]]);
    expect((await devices.list({ farm: 'f1', field: 'south' })).map((d) => d.id)).toEqual([]);
    expect(JSON.stringify(await devices.list())).not.toContain('whsec_');
  });

  it('refuses a taken id or secret (FH_ERR_DEVICE_EXISTS) and ids that are not plain (FH_ERR_DEVICE_INVALID)', async () => {
    const first = await devices.add({ id: 'n-1', farm: 'f', field: 'a', kind: 'device' });
    expect(await codeOf(devices.add({ id: 'n-1', farm: 'f', field: 'b', kind: 'device' }))).toBe('FH_ERR_DEVICE_EXISTS');
    expect(await codeOf(devices.add({ id: 'n-2', farm: 'f', field: 'a', kind: 'device', secret: first.secret }))).toBe('FH_ERR_DEVICE_EXISTS');
    expect(await codeOf(devices.add({ id: 'bad/id', farm: 'f', field: 'a', kind: 'device' }))).toBe('FH_ERR_DEVICE_INVALID');
    expect(await codeOf(devices.add({ id: 'n-3', farm: 'f f', field: 'a', kind: 'device' }))).toBe('FH_ERR_DEVICE_INVALID');
    // A location off the Earth, or a gateway that is not an id, is refused here, not later when a field is built from it.
    for (const location of [{ latitude: 95, longitude: 0, elevation: 0 }, { latitude: 50, longitude: 181, elevation: 0 }, { latitude: 50, longitude: 4, elevation: 99_999 }, { latitude: Number.NaN, longitude: 4, elevation: 0 }]) {
      expect(await codeOf(devices.add({ id: 'n-4', farm: 'f', field: 'a', kind: 'device', location })), JSON.stringify(location)).toBe('FH_ERR_DEVICE_INVALID');
    }
    expect(await codeOf(devices.add({ id: 'n-4', farm: 'f', field: 'a', kind: 'device', gateway: 'no gateway' }))).toBe('FH_ERR_DEVICE_INVALID');
    expect(await codeOf(devices.add({ id: 'n-4', farm: 'f', field: 'a', kind: 'device', allowedNetworks: ['10.0.0.0/33'] }))).toBe('FH_ERR_DEVICE_NETWORK_INVALID');
    expect(await codeOf(devices.setFarmNetworks('f', ['127.0.0.1', 'notacidr']))).toBe('FH_ERR_DEVICE_NETWORK_INVALID');
    // A farm's networks are kept under its id, which follows the id rule.
    for (const farm of ['bad farm', '', 'x/../y']) expect(await codeOf(devices.setFarmNetworks(farm, ['10.0.0.0/8'])), farm).toBe('FH_ERR_DEVICE_INVALID');
    expect((await devices.list()).map((d) => d.id)).toEqual(['n-1']);
  });

  it('rotates a secret so that only the new one finds the device, and disables and enables it', async () => {
    const { secret: old } = await devices.add({ id: 'n-1', farm: 'f', field: 'a', kind: 'device' });
    const fresh = await devices.rotateSecret('n-1');
    expect(fresh).toMatch(/^whsec_/);
    expect(fresh).not.toBe(old);
    expect(await devices.findBySecret(old)).toBeUndefined();
    expect((await devices.findBySecret(fresh))?.id).toBe('n-1');
    expect((await devices.get('n-1'))?.secret).toBe(fresh);

    await devices.setEnabled('n-1', false);
    expect((await devices.get('n-1'))?.enabled).toBe(false);
    await devices.setEnabled('n-1', true);
    expect((await devices.get('n-1'))?.enabled).toBe(true);

    expect(await codeOf(devices.rotateSecret('ghost'))).toBe('FH_ERR_DEVICE_NOT_FOUND');
    expect(await codeOf(devices.setEnabled('ghost', false))).toBe('FH_ERR_DEVICE_NOT_FOUND');
  });

  it("keeps a farm's allowed networks, a second set replacing the first", async () => {
    expect(await devices.getFarmNetworks('f')).toEqual([]);
    await devices.setFarmNetworks('f', ['192.168.10.0/24', '2001:db8::/32']);
    expect(await devices.getFarmNetworks('f')).toEqual(['192.168.10.0/24', '2001:db8::/32']);
    await devices.setFarmNetworks('f', []);
    expect(await devices.getFarmNetworks('f')).toEqual([]);
    expect(await devices.getFarmNetworks('other')).toEqual([]);
  });

  it('moves its change version at once on each of its own writes', async () => {
    const seen = [devices.changeVersion!()];
    const look = () => seen.push(devices.changeVersion!());
    await devices.add({ id: 'n-1', farm: 'f', field: 'a', kind: 'device' });
    look();
    await devices.rotateSecret('n-1');
    look();
    await devices.setEnabled('n-1', false);
    look();
    await devices.setFarmNetworks('f', ['10.0.0.0/8']);
    look();
    for (let i = 1; i < seen.length; i++) expect(seen[i], `after write ${i}`).toBeGreaterThan(seen[i - 1]!);
  });

  it('keeps a credential cache current when another instance adds, rotates and disables a device', async () => {
    const other = await registry.connect('other');
    const cache = createCredentialCache(devices);
    expect(await cache.get('n-1')).toBeUndefined();

    const { secret: first } = await other.add({ id: 'n-1', farm: 'f', field: 'a', kind: 'device' });
    await eventually(async () => (await cache.get('n-1'))?.secret === first, { what: 'the added device' });
    expect((await cache.findBySecret(first))?.id).toBe('n-1');

    const second = await other.rotateSecret('n-1');
    await eventually(async () => (await cache.findBySecret(first)) === undefined && (await cache.findBySecret(second))?.id === 'n-1', { what: 'the rotated secret' });

    await other.setEnabled('n-1', false);
    await eventually(async () => (await cache.get('n-1'))?.enabled === false, { what: 'the disabled device' });

    await other.setFarmNetworks('f', ['10.0.0.0/8']);
    await eventually(async () => (await cache.getFarmNetworks('f'))[0] === '10.0.0.0/8', { what: "the farm's networks" });
  });

  it('keeps a credential cache current when another process (the fieldhook CLI) rotates a secret and disables a device', async () => {
    const { secret } = await devices.add({ id: 'n-1', farm: 'f', field: 'a', kind: 'device' });
    const cache = createCredentialCache(devices);
    expect((await cache.findBySecret(secret))?.id).toBe('n-1');
    expect(cache.peek('n-1')).toBeUndefined();
    expect((await cache.get('n-1'))?.enabled).toBe(true);

    const rotated = await cli(registry.env, 'devices', 'rotate-secret', 'n-1');
    await eventually(async () => (await cache.findBySecret(secret)) === undefined, { what: 'the old secret refused' });
    expect((await cache.findBySecret(rotated.secret as string))?.id).toBe('n-1');

    expect(await cli(registry.env, 'devices', 'disable', 'n-1')).toEqual({ id: 'n-1', enabled: false });
    await eventually(async () => (await cache.get('n-1'))?.enabled === false, { what: 'the device disabled' });
  }, 60_000);
});

describe('device registry on PostgreSQL: migrations and the change feed', () => {
  let registry: RegistryFixture;
  beforeEach(async () => {
    registry = await registryFixture('postgres');
  });
  afterEach(() => registry.close());

  const sql = async <T extends pg.QueryResultRow>(text: string, params: unknown[] = []) => {
    const client = new pg.Client({ connectionString: registry.settings.DATABASE_URL });
    await client.connect();
    try {
      return (await client.query<T>(text, params)).rows;
    } finally {
      await client.end();
    }
  };

  it('applies its migrations once, under the lock, when several instances open a fresh database together', async () => {
    const opened = await Promise.all(['a', 'b', 'c'].map((id) => registry.connect(id)));
    const rows = await sql<{ store: string; version: number; name: string }>('SELECT store, version, name FROM fieldhook_migrations ORDER BY version');
    expect(rows).toEqual([{ store: REGISTRY_STORE, version: 1, name: 'devices and farms' }]);
    // Every instance works on the one schema.
    await opened[0]!.add({ id: 'n-1', farm: 'f', field: 'a', kind: 'device' });
    expect((await opened[2]!.get('n-1'))?.farm).toBe('f');
    // Opening again applies nothing.
    await registry.connect('d');
    expect(await sql('SELECT * FROM fieldhook_migrations')).toHaveLength(1);
  });

  it('refuses a database a newer fieldhook migrated (FH_ERR_DATABASE_SCHEMA_NEWER)', async () => {
    await registry.connect();
    await sql("INSERT INTO fieldhook_migrations (store, version, name) VALUES ($1, 2, 'from the future')", [REGISTRY_STORE]);
    const error = await registry.connect().then(
      () => undefined,
      (err: { code?: string; message: string }) => err,
    );
    expect(error?.code).toBe('FH_ERR_DATABASE_SCHEMA_NEWER');
    expect(error?.message).toMatch(/schema version 2; this fieldhook knows 1/);
  });

  it("runs a migration step longer than the pool's statement timeout, and rolls a failed step back whole", async () => {
    const plane = createControlPlane(registry.settings, silentLogger(), { statementTimeoutMs: 100 });
    if (plane.kind !== 'postgres') throw new Error('not PostgreSQL');
    try {
      await plane.migrate('slow', [{ name: 'takes a while', sql: 'SELECT pg_sleep(0.3); CREATE TABLE slow_one (id INTEGER)' }]);
      const failed = await plane
        .migrate('slow', [
          { name: 'takes a while', sql: 'unused: applied already' },
          { name: 'half done', sql: 'CREATE TABLE slow_two (id INTEGER); SELECT no_such_column FROM slow_one' },
        ])
        .then(
          () => undefined,
          (err: { code?: string }) => err,
        );
      expect(failed?.code).toBe('FH_ERR_DATABASE_UNAVAILABLE');
    } finally {
      await closeControlPlane(plane);
    }
    expect(await sql("SELECT version, name FROM fieldhook_migrations WHERE store = 'slow'")).toEqual([{ version: 1, name: 'takes a while' }]);
    expect(await sql("SELECT to_regclass('slow_two') AS two")).toEqual([{ two: null }]);
  });

  it('waits for another instance that is migrating, however long it takes, and says so', async () => {
    const holder = new pg.Client({ connectionString: registry.settings.DATABASE_URL });
    await holder.connect();
    const plane = createControlPlane(registry.settings, silentLogger(), { statementTimeoutMs: 50 });
    if (plane.kind !== 'postgres') throw new Error('not PostgreSQL');
    try {
      await holder.query('SELECT pg_advisory_lock($1, $2)', [...MIGRATION_LOCK]);
      let waited = 0;
      const migrating = migratePostgres(plane.postgres.pool, 'waiting', [{ name: 'one', sql: 'CREATE TABLE waited (id INTEGER)' }], () => waited++);
      // Blocked on the lock until the holder lets go; the pool's statement timeout (50 ms) does not cut the wait short.
      await eventually(
        async () => (await holder.query("SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")).rowCount === 1,
        { what: 'the migration waiting on the lock' },
      );
      expect(waited).toBe(1);
      await holder.query('SELECT pg_advisory_unlock($1, $2)', [...MIGRATION_LOCK]);
      expect(await migrating).toEqual(['1 one']);
    } finally {
      await holder.end();
      await closeControlPlane(plane);
    }
  });

  it('sees a change made with plain SQL: the tables notify on every commit', async () => {
    const devices = await registry.connect();
    await devices.add({ id: 'n-1', farm: 'f', field: 'a', kind: 'device' });
    const cache = createCredentialCache(devices);
    expect((await cache.get('n-1'))?.enabled).toBe(true);
    await sql("UPDATE devices SET enabled = false WHERE id = 'n-1'");
    await eventually(async () => (await cache.get('n-1'))?.enabled === false, { what: 'the change made in SQL' });
  });

  it('reads through while its change feed is down and trusts memory again once the feed is back', async () => {
    const devices = await registry.connect('feed-test');
    const other = await registry.connect('other');
    await devices.add({ id: 'n-1', farm: 'f', field: 'a', kind: 'device' });
    const cache = createCredentialCache(devices);
    expect((await cache.get('n-1'))?.enabled).toBe(true);

    const killed = await sql<{ ok: boolean }>(
      "SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = 'fieldhook/feed-test' AND query LIKE 'LISTEN%'",
    );
    expect(killed).toEqual([{ ok: true }]);
    // Down: every look is a change, so nothing stale is served from memory.
    await eventually(() => devices.changeVersion!() !== devices.changeVersion!(), { what: 'the feed seen as lost' });
    await sql("UPDATE devices SET enabled = false WHERE id = 'n-1'");
    await eventually(async () => (await cache.get('n-1'))?.enabled === false, { what: 'a read through while the feed is down' });

    // Back: the version holds still between changes, and moves on the next one.
    await eventually(() => devices.changeVersion!() === devices.changeVersion!(), { what: 'the feed back' });
    await other.setEnabled('n-1', true);
    await eventually(async () => (await cache.get('n-1'))?.enabled === true, { what: 'a change after the feed came back' });
  });

  it('fails to open on an unreachable server with FH_ERR_DATABASE_UNAVAILABLE, its password masked', async () => {
    const plane = createControlPlane({ DATA_DIR: '/nonexistent', DATABASE_URL: 'postgres://fieldhook:hunter2@127.0.0.1:1/nowhere' }, silentLogger(), { connectTimeoutMs: 2_000 });
    try {
      const component = controlPlaneComponent(plane);
      const error = await component.start().then(
        () => undefined,
        (err: { code?: string; message: string }) => err,
      );
      expect(error?.code).toBe('FH_ERR_DATABASE_UNAVAILABLE');
      expect(error?.message).toContain('postgres://fieldhook:***@127.0.0.1:1/nowhere');
      expect(error?.message).not.toContain('hunter2');
      expect(await codeOf(createDeviceRepository(plane).open())).toBe('FH_ERR_DATABASE_UNAVAILABLE');
    } finally {
      await closeControlPlane(plane);
    }
  });
});
