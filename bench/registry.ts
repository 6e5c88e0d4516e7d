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

const DEVICES = 2_000;
const LOOKUPS = 5_000;
const PROPAGATIONS = 200;

interface Row {
  backend: string;
  what: string;
  median: number;
  p95: number;
  /** Operations per second, one after another. */
  perSecond: number;
}

async function time(what: string, backend: string, n: number, fn: (i: number) => Promise<unknown>): Promise<Row> {
  // Warm-up calls get indexes past the measured ones (an `add` needs ids of its own).
  for (let i = 0; i < Math.min(200, n); i++) await fn(n + i);
  const samples: number[] = [];
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await fn(i);
    samples.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  const total = Number(process.hrtime.bigint() - start) / 1e9;
  samples.sort((a, b) => a - b);
  return { backend, what, median: samples[Math.floor(n / 2)]!, p95: samples[Math.floor(n * 0.95)]!, perSecond: n / total };
}

/** Resolves on the first turn at which `probe` holds (the cache looks once per turn). */
async function untilTrue(probe: () => Promise<boolean>): Promise<void> {
  while (!(await probe())) await new Promise((resolve) => setImmediate(resolve));
}

async function measure(backend: string, settings: ControlPlaneSettings): Promise<Row[]> {
  const open = async () => {
    const plane = createControlPlane(settings, silentLogger());
    const devices = createDeviceRepository(plane);
    await devices.open();
    return { devices, close: async () => (await devices.close(), await closeControlPlane(plane)) };
  };
  const served = await open();
  const other = await open();
  const rows: Row[] = [];
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
  const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(3));
  console.log(`device registry: ${DEVICES} devices, ${LOOKUPS} lookups, ${PROPAGATIONS} propagated changes per backend (one at a time)\n`);
  console.log('| backend | operation | median ms | p95 ms | per second |');
  console.log('|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.backend} | ${r.what} | ${fmt(r.median)} | ${fmt(r.p95)} | ${fmt(r.perSecond)} |`);
} finally {
  await postgres.stop();
  rmSync(dir, { recursive: true, force: true });
}
