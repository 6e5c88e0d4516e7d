/**
 * The device registry on its two backends, measured in the same run: SQLite in a data folder (the
 * baseline: the embedded default) and PostgreSQL (a throw-away local cluster started by the
 * harness, on loopback). Per backend: a lookup the ingestor makes on a credential-cache miss
 * (`findBySecret`), a lookup through the cache (what every request and MQTT message costs once
 * the device is known), `add`, and how long a change made through another connection takes to
 * reach a credential cache (commit → the cache's next look sees it).
 *
 * Read `add` with care: the harness's cluster runs with fsync off (it is thrown away), while
 * SQLite here commits with synchronous=FULL; a production PostgreSQL pays its own fsync.
 * `npm run bench:registry`. Not part of the test run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres } from '../infra/harness/postgres.js';
import { createCredentialCache } from '../services/ingestor/credential-cache.js';
import type { OpenableDeviceRepository } from '../services/registry/device.js';
import { createDeviceRepository } from '../services/registry/open-devices.js';
import { closeControlPlane, createControlPlane, type ControlPlaneSettings } from '../services/shared/database/control-plane.js';
import { silentLogger } from '../services/shared/logger.js';
import { printTimed, time, untilTrue, type TimedRow } from './lib/timing.js';

const DEVICES = 2_000;
const LOOKUPS = 5_000;
const PROPAGATIONS = 200;

async function measure(backend: string, settings: ControlPlaneSettings): Promise<TimedRow[]> {
  const open = async () => {
    const plane = createControlPlane(settings, silentLogger());
    const devices = createDeviceRepository(plane);
    await devices.open();
    return { devices, close: async () => (await devices.close(), await closeControlPlane(plane)) };
  };
  const served = await open();
  const other = await open();
  const rows: TimedRow[] = [];
  try {
    const secrets: string[] = [];
    rows.push(
      await time('add', backend, DEVICES, async (i) => {
        secrets.push((await served.devices.add({ id: `b-${i}`, farm: `f-${i % 20}`, field: 'a', kind: 'device' })).secret);
      }),
    );
    const repo: OpenableDeviceRepository = served.devices;
    rows.push(await time('findBySecret (cache miss)', backend, LOOKUPS, (i) => repo.findBySecret(secrets[i % DEVICES]!)));
    const cache = createCredentialCache(repo);
    rows.push(await time('findBySecret through the cache', backend, LOOKUPS, (i) => cache.findBySecret(secrets[i % 100]!)));
    rows.push(
      await time('change by another connection → cache', backend, PROPAGATIONS, async (i) => {
        const enabled = i % 2 === 1;
        await other.devices.setEnabled('b-0', enabled);
        await untilTrue(async () => (await cache.get('b-0'))?.enabled === enabled);
      }),
    );
  } finally {
    await served.close();
    await other.close();
  }
  return rows;
}

const dir = mkdtempSync(join(tmpdir(), 'fh-bench-registry-'));
const postgres = await startPostgres();
try {
  const rows = [
    ...(await measure('SQLite (baseline)', { DATA_DIR: dir })),
    ...(await measure('PostgreSQL', { DATA_DIR: dir, DATABASE_URL: await postgres.createDatabase('bench_registry') })),
  ];
  console.log(`device registry: ${DEVICES} devices, ${LOOKUPS} lookups, ${PROPAGATIONS} propagated changes per backend (one at a time)\n`);
  printTimed(rows);
} finally {
  await postgres.stop();
  rmSync(dir, { recursive: true, force: true });
}
