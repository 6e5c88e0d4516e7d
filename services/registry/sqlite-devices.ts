import { changeVersion, openSqlite, type SqliteDatabase } from '../shared/sqlite.js';
import { Errors } from '../shared/error-catalog.js';
import { checkFarmNetworks, checkNewDevice, type Device, type DeviceWithSecret, type NewDevice, type OpenableDeviceRepository } from './device.js';
import { generateSecret, secretDigest } from './secrets.js';

const MIGRATIONS = [
  (db: SqliteDatabase) => {
    db.exec(`
      CREATE TABLE devices (
        id TEXT PRIMARY KEY,
        farm TEXT NOT NULL,
        field TEXT NOT NULL,
        kind TEXT NOT NULL DEFAULT 'device',
        gateway TEXT,
        enabled INTEGER NOT NULL DEFAULT 1,
        secret TEXT NOT NULL,
        secret_digest TEXT NOT NULL UNIQUE,
        latitude REAL, longitude REAL, elevation REAL,
        profile TEXT,
        allowed_networks TEXT NOT NULL DEFAULT '[]',
        created_at TEXT NOT NULL
      );
      CREATE INDEX devices_farm_field ON devices (farm, field);
      CREATE TABLE farms (id TEXT PRIMARY KEY, allowed_networks TEXT NOT NULL DEFAULT '[]');
    `);
  },
  // The device profile (a name) LoRaWAN uplinks of the device are read with.
  (db: SqliteDatabase) => {
    db.exec('ALTER TABLE devices ADD COLUMN device_profile TEXT');
  },
];

interface DeviceRow {
  id: string;
  farm: string;
  field: string;
  kind: 'device' | 'gateway';
  gateway: string | null;
  enabled: number;
  secret: string;
  latitude: number | null;
  longitude: number | null;
  elevation: number | null;
  profile: string | null;
  device_profile: string | null;
  allowed_networks: string;
  created_at: string;
}

function toDevice(row: DeviceRow): DeviceWithSecret {
  const device: DeviceWithSecret = {
    id: row.id,
    farm: row.farm,
    field: row.field,
    kind: row.kind,
    enabled: row.enabled === 1,
    allowedNetworks: JSON.parse(row.allowed_networks) as string[],
    createdAt: row.created_at,
    secret: row.secret,
  };
  if (row.gateway) device.gateway = row.gateway;
  if (row.latitude !== null && row.longitude !== null) {
    device.location = { latitude: row.latitude, longitude: row.longitude, elevation: row.elevation ?? 0 };
  }
  if (row.profile) device.profile = JSON.parse(row.profile) as Device['profile'];
  if (row.device_profile) device.deviceProfile = row.device_profile;
  return device;
}

const notFound = (id: string) => Errors.deviceNotFound(`No device ${id}`);

export function createSqliteDeviceRepository(path: string): OpenableDeviceRepository {
  const db = openSqlite(path, MIGRATIONS);
  const stmt = {
    insert: db.prepare(`INSERT INTO devices
      (id, farm, field, kind, gateway, enabled, secret, secret_digest, latitude, longitude, elevation, profile, device_profile, allowed_networks, created_at)
      VALUES (@id, @farm, @field, @kind, @gateway, @enabled, @secret, @digest, @latitude, @longitude, @elevation, @profile, @deviceProfile, @networks, @createdAt)`),
    get: db.prepare('SELECT * FROM devices WHERE id = ?'),
    bySecret: db.prepare('SELECT * FROM devices WHERE secret_digest = ?'),
    rotate: db.prepare('UPDATE devices SET secret = ?, secret_digest = ? WHERE id = ?'),
    enable: db.prepare('UPDATE devices SET enabled = ? WHERE id = ?'),
    farmNetworks: db.prepare('SELECT allowed_networks FROM farms WHERE id = ?').pluck(),
    setFarmNetworks: db.prepare(
      'INSERT INTO farms (id, allowed_networks) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET allowed_networks = excluded.allowed_networks',
    ),
  };
  // Moves when another process commits, or this connection writes.
  const changes = changeVersion(db);

  return {
    // Opened (and migrated) above, when created.
    async open() {},
    async add(input: NewDevice) {
      checkNewDevice(input);
      const secret = input.secret ?? generateSecret();
      try {
        stmt.insert.run({
          id: input.id,
          farm: input.farm,
          field: input.field,
          kind: input.kind,
          gateway: input.gateway ?? null,
          enabled: input.enabled === false ? 0 : 1,
          secret,
          digest: secretDigest(secret),
          latitude: input.location?.latitude ?? null,
          longitude: input.location?.longitude ?? null,
          elevation: input.location?.elevation ?? null,
          profile: input.profile ? JSON.stringify(input.profile) : null,
          deviceProfile: input.deviceProfile ?? null,
          networks: JSON.stringify(input.allowedNetworks ?? []),
          createdAt: new Date().toISOString(),
        });
      } catch (err) {
        if ((err as { code?: string }).code?.startsWith('SQLITE_CONSTRAINT')) {
          throw Errors.deviceExists(`Device ${input.id} already exists (or its secret is in use)`);
        }
        throw err;
      }
      changes.wrote();
      return toDevice(stmt.get.get(input.id) as DeviceRow);
    },
    async get(id) {
      const row = stmt.get.get(id) as DeviceRow | undefined;
      return row && toDevice(row);
    },
    async findBySecret(secret) {
      const row = stmt.bySecret.get(secretDigest(secret)) as DeviceRow | undefined;
      return row && toDevice(row);
    },
    async list(filter = {}) {
      const where: string[] = [];
      const params: string[] = [];
      if (filter.farm) (where.push('farm = ?'), params.push(filter.farm));
      if (filter.field) (where.push('field = ?'), params.push(filter.field));
      const sql = `SELECT * FROM devices ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id`;
      return (db.prepare(sql).all(...params) as DeviceRow[]).map((row) => {
        const { secret: _secret, ...device } = toDevice(row);
        return device;
      });
    },
    async rotateSecret(id) {
      const secret = generateSecret();
      if (stmt.rotate.run(secret, secretDigest(secret), id).changes === 0) throw notFound(id);
      changes.wrote();
      return secret;
    },
    async setEnabled(id, enabled) {
      if (stmt.enable.run(enabled ? 1 : 0, id).changes === 0) throw notFound(id);
      changes.wrote();
    },
    async getFarmNetworks(farm) {
      const raw = stmt.farmNetworks.get(farm) as string | undefined;
      return raw ? (JSON.parse(raw) as string[]) : [];
    },
    async setFarmNetworks(farm, cidrs) {
      checkFarmNetworks(farm, cidrs);
      stmt.setFarmNetworks.run(farm, JSON.stringify(cidrs));
      changes.wrote();
    },
    changeVersion: () => changes.version(),
    close: () => void db.close(),
  };
}
