import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startInfluxDB } from '../../infra/harness/influxdb.js';
import { startInfluxDB2 } from '../../infra/harness/influxdb2.js';
import { startMosquitto } from '../../infra/harness/mosquitto.js';
import { startPostgres } from '../../infra/harness/postgres.js';

/** The InfluxDB a project's tests talk to (test/helpers/test-influx.ts turns it into settings). */
export interface ProvidedInflux {
  kind: '1.x' | '2.x';
  url: string;
  /** 2.x: the operator's all-access token; '' on the 1.8 without authentication. */
  token: string;
  /** 2.x: the organisation and its id (tests create buckets and tokens in it); '' on 1.8. */
  org: string;
  orgId: string;
  /** 2.x: the bucket `setup` created; '' on 1.8. */
  bucket: string;
}

/** The project whose InfluxDB-facing tests run against InfluxDB 2.7 instead of 1.8 (vitest.config.ts). */
export const INFLUX2_PROJECT = 'integration-influx2';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The project's InfluxDB: 1.8, or 2.7 in the `integration-influx2` project. */
    influx: ProvidedInflux;
    /** Its URL (kept for the tests that only run against 1.8). */
    influxUrl: string;
    mosquittoUrl: string;
    /** The cluster's `postgres` database as superuser; files create their own database in it. */
    postgresUrl: string;
  }
}

/**
 * One real InfluxDB, one real Mosquitto and one real PostgreSQL for the whole run, on free loopback ports with
 * throw-away data. Test files isolate themselves by database name and topic/client ids; tests
 * that must stop a server start their own with the same harness. The InfluxDB is 1.8, except in
 * the {@link INFLUX2_PROJECT} project, which runs the InfluxDB-facing files against 2.7 (set up
 * with an org, a bucket and an all-access token).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const root = mkdtempSync(join(tmpdir(), 'fieldhook-test-'));
  const startInflux = async (): Promise<{ provided: ProvidedInflux; stop(): Promise<void> }> => {
    if (project.name === INFLUX2_PROJECT) {
      const v2 = await startInfluxDB2({ dataDir: join(root, 'influxdb2') });
      return { provided: { kind: '2.x', url: v2.url, token: v2.token, org: v2.org, orgId: v2.orgId, bucket: v2.bucket }, stop: () => v2.stop() };
    }
    const v1 = await startInfluxDB({ dataDir: join(root, 'influxdb') });
    return { provided: { kind: '1.x', url: v1.url, token: '', org: '', orgId: '', bucket: '' }, stop: () => v1.stop() };
  };
  const [influx, mosquitto, postgres] = await Promise.all([
    startInflux(),
    startMosquitto({ dir: join(root, 'mosquitto') }),
    startPostgres(),
  ]);
  project.provide('influx', influx.provided);
  project.provide('influxUrl', influx.provided.url);
  project.provide('mosquittoUrl', mosquitto.url);
  project.provide('postgresUrl', postgres.url);
  return async () => {
    await Promise.all([influx.stop(), mosquitto.stop(), postgres.stop()]);
    rmSync(root, { recursive: true, force: true });
  };
}
