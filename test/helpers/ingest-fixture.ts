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
import { testInflux, type TestInflux } from './test-influx.js';
import { asEnvironment } from './settings.js';

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
  const env = asEnvironment(overrides);
  return loadConfig(INGEST_CONFIG, env);
}

/**
 * A real ingestor (SQLite spool, writer, broker or consumer) on a temp folder, writing `database`
 * of the project's InfluxDB (1.8, or a bucket with the token on 2.7); not started.
 */
export function createIngestFixture(options: {
  database: string;
  /** Another InfluxDB, or other credentials, than the project's (`testInflux({ ...inject('influx'), … })`). */
  influx?: TestInflux;
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
    influx: (options.influx ?? testInflux()).target(options.database),
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

/** `SELECT count(*)` of `reading` points in `database` of the project's InfluxDB (or `influx`), via InfluxQL. */
export async function countPoints(database: string, where = '', influx: TestInflux = testInflux()): Promise<number> {
  const body = await influx.query<{ results: { error?: string; series?: { values: [number, number][] }[] }[] }>(database, `SELECT count("battery_voltage") FROM "reading" ${where}`);
  return body.results[0]?.series?.[0]?.values[0]?.[1] ?? 0;
}

/** A reading in the native format, with a battery value so every test point is countable. */
export function reading(device: string, i: number, base = Date.now() - 3_600_000) {
  const ts = base + i * 1000;
  return { device, id: `m-${ts}`, ts: new Date(ts).toISOString(), values: { battery_voltage: 3.7, soil_moisture: 0.25 } };
}
