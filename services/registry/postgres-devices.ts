import type pg from 'pg';
import type { ChangeFeed } from '../shared/database/change-feed.js';
import type { PostgresPlane } from '../shared/database/control-plane.js';
import type { PostgresMigration } from '../shared/database/migrations.js';
import { UNIQUE_VIOLATION, databaseUnavailable, withDatabaseErrors } from '../shared/database/postgres.js';
import { Errors } from '../shared/error-catalog.js';
import { checkFarmNetworks, checkNewDevice, type Device, type DeviceWithSecret, type NewDevice, type OpenableDeviceRepository } from './device.js';
import { generateSecret, secretDigest } from './secrets.js';

/** The registry's store name in `fieldhook_migrations`, and the channel its changes are announced on. */
export const REGISTRY_STORE = 'registry';
export const REGISTRY_CHANNEL = 'fieldhook_registry';

/** The registry's schema on PostgreSQL; the same data as registry.db (sqlite-devices.ts). */
export const REGISTRY_MIGRATIONS: readonly PostgresMigration[] = [
  {
    name: 'devices and farms',
    sql: `
      CREATE TABLE devices (
        id TEXT PRIMARY KEY,
        farm TEXT NOT NULL,
        field TEXT NOT NULL,
        kind TEXT NOT NULL DEFAULT 'device' CHECK (kind IN ('device', 'gateway')),
        gateway TEXT,
        enabled BOOLEAN NOT NULL DEFAULT TRUE,
        secret TEXT NOT NULL,
        secret_digest TEXT NOT NULL UNIQUE,
        latitude DOUBLE PRECISION, longitude DOUBLE PRECISION, elevation DOUBLE PRECISION,
        profile JSONB,
        device_profile TEXT,
        allowed_networks TEXT[] NOT NULL DEFAULT '{}',
        created_at TIMESTAMPTZ NOT NULL
      );
      CREATE INDEX devices_farm_field ON devices (farm, field);
      CREATE TABLE farms (id TEXT PRIMARY KEY, allowed_networks TEXT[] NOT NULL DEFAULT '{}');
      -- Every committed change, by any instance or any SQL session, reaches the listeners that keep
      -- credentials in memory (NOTIFY is delivered at commit).
      CREATE FUNCTION fieldhook_registry_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('${REGISTRY_CHANNEL}', TG_TABLE_NAME);
        RETURN NULL;
      END $$;
      CREATE TRIGGER devices_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON devices
        FOR EACH STATEMENT EXECUTE FUNCTION fieldhook_registry_changed();
      CREATE TRIGGER farms_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON farms
        FOR EACH STATEMENT EXECUTE FUNCTION fieldhook_registry_changed();
    `,
  },
];

interface DeviceRow {
  id: string;
  farm: string;
  field: string;
  kind: 'device' | 'gateway';
  gateway: string | null;
  enabled: boolean;
  secret: string;
  latitude: number | null;
  longitude: number | null;
  elevation: number | null;
  profile: Device['profile'] | null;
  device_profile: string | null;
  allowed_networks: string[];
  created_at: Date;
}

function toDevice(row: DeviceRow): DeviceWithSecret {
  const device: DeviceWithSecret = {
    id: row.id,
    farm: row.farm,
    field: row.field,
    kind: row.kind,
    enabled: row.enabled,
    allowedNetworks: row.allowed_networks,
    createdAt: row.created_at.toISOString(),
    secret: row.secret,
  };
  if (row.gateway) device.gateway = row.gateway;
  if (row.latitude !== null && row.longitude !== null) {
    device.location = { latitude: row.latitude, longitude: row.longitude, elevation: row.elevation ?? 0 };
  }
  if (row.profile) device.profile = row.profile;
  if (row.device_profile) device.deviceProfile = row.device_profile;
  return device;
}

const notFound = (id: string) => Errors.deviceNotFound(`No device ${id}`);

/**
 * The device registry in PostgreSQL, shared by every instance. Its change version comes from the
 * registry's change feed (a trigger NOTIFYs on every commit), so the ingestor's credential cache
 * sees a device added, rotated or disabled through any instance, the CLI, or plain SQL.
 */
export function createPostgresDeviceRepository(plane: PostgresPlane): OpenableDeviceRepository {
  const { pool } = plane.postgres;
  let feed: ChangeFeed | undefined;
  const one = async (sql: string, params: unknown[]) => {
    const { rows } = await pool.query<DeviceRow>(sql, params);
    return rows[0] && toDevice(rows[0]);
  };
  /** A committed change of this process: the cache sees it at once, not when its notification arrives. */
  const changed = () => feed?.bump();

  // A failure of the database reaches the routes and the ingestor's cache as a catalog error.
  return withDatabaseErrors({
    async open() {
      await plane.migrate(REGISTRY_STORE, REGISTRY_MIGRATIONS);
      feed ??= plane.changeFeed(REGISTRY_CHANNEL);
      try {
        await feed.start();
      } catch (err) {
        throw databaseUnavailable(err, plane.postgres.shownUrl, 'listen for registry changes');
      }
    },
    async add(input: NewDevice) {
      checkNewDevice(input);
      const secret = input.secret ?? generateSecret();
      let row: pg.QueryResult<DeviceRow>;
      try {
        row = await pool.query<DeviceRow>(
          `INSERT INTO devices
            (id, farm, field, kind, gateway, enabled, secret, secret_digest, latitude, longitude, elevation, profile, device_profile, allowed_networks, created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING *`,
          [
            input.id,
            input.farm,
            input.field,
            input.kind,
            input.gateway ?? null,
            input.enabled !== false,
            secret,
            secretDigest(secret),
            input.location?.latitude ?? null,
            input.location?.longitude ?? null,
            input.location?.elevation ?? null,
            input.profile ? JSON.stringify(input.profile) : null,
            input.deviceProfile ?? null,
            input.allowedNetworks ?? [],
            new Date(),
          ],
        );
      } catch (err) {
        if ((err as { code?: string }).code === UNIQUE_VIOLATION) {
          throw Errors.deviceExists(`Device ${input.id} already exists (or its secret is in use)`);
        }
        throw err;
      }
      changed();
      return toDevice(row.rows[0]!);
    },
    get: (id) => one('SELECT * FROM devices WHERE id = $1', [id]),
    findBySecret: (secret) => one('SELECT * FROM devices WHERE secret_digest = $1', [secretDigest(secret)]),
    async list(filter = {}) {
      const where: string[] = [];
      const params: string[] = [];
      if (filter.farm) (params.push(filter.farm), where.push(`farm = $${params.length}`));
      if (filter.field) (params.push(filter.field), where.push(`field = $${params.length}`));
      // COLLATE "C": the byte order SQLite sorts TEXT in, whatever the database's locale.
      const sql = `SELECT * FROM devices ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id COLLATE "C"`;
      const { rows } = await pool.query<DeviceRow>(sql, params);
      return rows.map((row) => {
        const { secret: _secret, ...device } = toDevice(row);
        return device;
      });
    },
    async rotateSecret(id) {
      const secret = generateSecret();
      const { rowCount } = await pool.query('UPDATE devices SET secret = $1, secret_digest = $2 WHERE id = $3', [secret, secretDigest(secret), id]);
      if (rowCount === 0) throw notFound(id);
      changed();
      return secret;
    },
    async setEnabled(id, enabled) {
      const { rowCount } = await pool.query('UPDATE devices SET enabled = $1 WHERE id = $2', [enabled, id]);
      if (rowCount === 0) throw notFound(id);
      changed();
    },
    async getFarmNetworks(farm) {
      const { rows } = await pool.query<{ allowed_networks: string[] }>('SELECT allowed_networks FROM farms WHERE id = $1', [farm]);
      return rows[0]?.allowed_networks ?? [];
    },
    async setFarmNetworks(farm, cidrs) {
      checkFarmNetworks(farm, cidrs);
      await pool.query(
        'INSERT INTO farms (id, allowed_networks) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET allowed_networks = excluded.allowed_networks',
        [farm, cidrs],
      );
      changed();
    },
    // Before open() there is no feed: every look is a change, so nothing is trusted from memory.
    changeVersion: () => (feed ? feed.version() : Number.NaN),
    async close() {
      await feed?.stop();
    },
  }, plane.postgres.shownUrl, 'the device registry');
}
