import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildIngestor, type Ingestor } from '../../services/ingestor/build-ingestor.js';
import { INGEST_CONFIG, type IngestConfig } from '../../services/ingestor/config.js';
import { buildHostApp } from '../../services/host/http-app.js';
import type { DeviceRepository } from '../../services/registry/device.js';
import { createSqliteDeviceRepository } from '../../services/registry/sqlite-devices.js';
import { loadConfig } from '../../services/shared/config.js';
import { createLogger, silentLogger } from '../../services/shared/logger.js';

export interface IngestFixture {
  dir: string;
  config: IngestConfig;
  devices: DeviceRepository;
  ingestor: Ingestor;
  app: FastifyInstance;
  close(): Promise<void>;
}

/** Ingest settings for a test: defaults, then the overrides, validated by the real schema. */
export function testConfig(overrides: Record<string, string>): IngestConfig {
  const env = Object.fromEntries(Object.entries(overrides).map(([k, v]) => [`FIELDHOOK_${k}`, v]));
  return loadConfig(INGEST_CONFIG, env);
}

/** A real ingestor (SQLite spool, writer, broker or consumer) on a temp folder; not started. */
export function createIngestFixture(options: {
  influxUrl: string;
  database: string;
  /** Token and org for the writes (InfluxDB 2.x); none by default (1.8 without authentication). */
  influx?: { token: string; org: string };
  config?: Record<string, string>;
  /** What the ingestor sees of the registry (the fixture's `devices` stays the plain one). */
  wrapDevices?: (devices: DeviceRepository) => DeviceRepository;
}): IngestFixture {
  const dir = mkdtempSync(join(tmpdir(), 'fieldhook-ingest-'));
  const config = testConfig({
    DATA_DIR: dir,
    MQTT_LISTEN_PORT: '0',
    MQTT_LISTEN_HOST: '127.0.0.1',
    INFLUX_RETRY_MIN_MS: '100',
    INFLUX_RETRY_MAX_MS: '500',
    ...options.config,
  });
  const devices = createSqliteDeviceRepository(join(dir, 'registry.db'));
  // FIELDHOOK_TEST_LOG=debug shows what the parts under test log.
  const logger = process.env.FIELDHOOK_TEST_LOG ? createLogger({ level: process.env.FIELDHOOK_TEST_LOG }) : silentLogger();
  const ingestor = buildIngestor({
    config,
    logger,
    devices: options.wrapDevices ? options.wrapDevices(devices) : devices,
    influx: { url: options.influxUrl, token: options.influx?.token ?? '', org: options.influx?.org ?? 'fieldhook', bucket: options.database, timeoutMs: 5_000 },
  });
  const app = buildHostApp([ingestor], { logger });
  return {
    dir,
    config,
    devices,
    ingestor,
    app,
    async close() {
      await app.close();
      await ingestor.stop();
      devices.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `SELECT count(*)` of `reading` points, via InfluxQL on `/query`. */
export async function countPoints(influxUrl: string, database: string, where = ''): Promise<number> {
  const params = new URLSearchParams({ q: `SELECT count("battery_voltage") FROM "reading" ${where}`, db: database });
  const res = await fetch(`${influxUrl}/query?${params}`);
  const body = (await res.json()) as { results: { series?: { values: [string, number][] }[] }[] };
  return body.results[0]?.series?.[0]?.values[0]?.[1] ?? 0;
}

/** `CREATE DATABASE` on 1.8 (for InfluxDB 2.x use test/helpers/test-influx.ts, which creates a bucket). */
export async function createDatabase(influxUrl: string, database: string): Promise<void> {
  const res = await fetch(`${influxUrl}/query`, { method: 'POST', body: new URLSearchParams({ q: `CREATE DATABASE "${database}"` }) });
  const text = await res.text();
  // 2.x answers 200 with the error in the body: an error either way.
  if (!res.ok || text.includes('"error"')) throw new Error(`CREATE DATABASE failed: ${res.status} ${text.slice(0, 200)}`);
}

/** A reading in the native format, with a battery value so every test point is countable. */
export function reading(device: string, i: number, base = Date.now() - 3_600_000) {
  const ts = base + i * 1000;
  return { device, id: `m-${ts}`, ts: new Date(ts).toISOString(), values: { battery_voltage: 3.7, soil_moisture: 0.25 } };
}
