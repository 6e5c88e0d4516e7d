import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startInfluxDB } from '../../infra/harness/influxdb.js';
import { startMosquitto } from '../../infra/harness/mosquitto.js';
import { startPostgres } from '../../infra/harness/postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    influxUrl: string;
    mosquittoUrl: string;
    /** The cluster's `postgres` database as superuser; files create their own database in it. */
    postgresUrl: string;
  }
}

/**
 * One real InfluxDB, one real Mosquitto and one real PostgreSQL for the whole run, on free loopback ports with
 * throw-away data. Test files isolate themselves by database name and topic/client ids; tests
 * that must stop a server start their own with the same harness.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const root = mkdtempSync(join(tmpdir(), 'fieldhook-test-'));
  const [influx, mosquitto, postgres] = await Promise.all([
    startInfluxDB({ dataDir: join(root, 'influxdb') }),
    startMosquitto({ dir: join(root, 'mosquitto') }),
    startPostgres(),
  ]);
  project.provide('influxUrl', influx.url);
  project.provide('mosquittoUrl', mosquitto.url);
  project.provide('postgresUrl', postgres.url);
  return async () => {
    await Promise.all([influx.stop(), mosquitto.stop(), postgres.stop()]);
    rmSync(root, { recursive: true, force: true });
  };
}
