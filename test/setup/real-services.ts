import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startInfluxDB } from '../../infra/harness/influxdb.js';
import { startMosquitto } from '../../infra/harness/mosquitto.js';

declare module 'vitest' {
  export interface ProvidedContext {
    influxUrl: string;
    mosquittoUrl: string;
  }
}

/**
 * One real InfluxDB and one real Mosquitto for the whole run, on free loopback ports with
 * throw-away data. Test files isolate themselves by database name and topic/client ids; tests
 * that must stop a server start their own with the same harness.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const root = mkdtempSync(join(tmpdir(), 'fieldhook-test-'));
  const [influx, mosquitto] = await Promise.all([
    startInfluxDB({ dataDir: join(root, 'influxdb') }),
    startMosquitto({ dir: join(root, 'mosquitto') }),
  ]);
  project.provide('influxUrl', influx.url);
  project.provide('mosquittoUrl', mosquitto.url);
  return async () => {
    await Promise.all([influx.stop(), mosquitto.stop()]);
    rmSync(root, { recursive: true, force: true });
  };
}
