/**
 * A fieldhook killed at once (SIGKILL, the OOM killer) cannot stop the local InfluxDB it started,
 * which lives on with the data folder's WAL and shards open. The next start on that folder must
 * stop it before starting its own: two influxd on one storage folder overwrite each other's files.
 */
import { readFileSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startProcess } from '../../../infra/harness/process.js';
import { startInfluxDB, type RunningInfluxDB } from '../../../services/host/local-influxdb.js';
import { processExists } from '../../../services/shared/child-process.js';
import { eventually } from '../../helpers/eventually.js';

/** Pids of the influxd processes whose data folder is `dir` (Linux /proc). */
function influxdOn(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(`INFLUXDB_DATA_DIR=${join(dir, 'data')}`)) pids.push(Number(entry));
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return pids;
}

const alive = processExists;

describe.skipIf(process.platform !== 'linux')('the local InfluxDB of a killed fieldhook', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'fh-orphan-')), 'influxdb');
  let second: RunningInfluxDB | undefined;
  afterAll(async () => {
    await second?.stop();
    for (const pid of influxdOn(dir)) process.kill(pid, 'SIGKILL');
  });

  it('is stopped by the next start on the same data folder, which then runs the only one there', async () => {
    // A process that starts the local InfluxDB as fieldhook does, then is killed without a word.
    const script = join(dir, '..', 'start-influx.mjs');
    writeFileSync(script, `import { startInfluxDB } from ${JSON.stringify(resolve('services/host/local-influxdb.ts'))};\nawait startInfluxDB({ dataDir: ${JSON.stringify(dir)} });\nconsole.log('influx ready');\nsetInterval(() => {}, 1000);\n`);
    const first = startProcess(process.execPath, ['--import', 'tsx', script], process.env);
    await eventually(() => first.output().includes('influx ready'), { timeoutMs: 60_000, what: 'the first InfluxDB' });
    await first.stop('SIGKILL');
    const [orphan] = influxdOn(dir);
    expect(orphan).toBeDefined();
    expect(alive(orphan!)).toBe(true);

    second = await startInfluxDB({ dataDir: dir });
    expect(alive(orphan!)).toBe(false);
    expect(influxdOn(dir)).toEqual([second.process.child.pid]);
    expect(readFileSync(join(dir, 'influxd.pid'), 'utf8').trim()).toBe(String(second.process.child.pid));
    // Two InfluxDB starts and a stop: 9 s on a quiet machine, past 30 s on a loaded one.
  }, 180_000);
});
