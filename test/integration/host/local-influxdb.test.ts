import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startInfluxDB } from '../../../services/host/local-influxdb.js';

describe('local InfluxDB', () => {
  const root = mkdtempSync(join(tmpdir(), 'fh-local-influx-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('keeps its data in a folder only fieldhook’s user may enter (0700), created under DATA_DIR', async () => {
    let umask: number | undefined;
    try {
      umask = process.umask(0o022);
    } catch {
      umask = undefined;
    }
    const dataDir = join(root, '.fieldhook', 'influxdb');
    const influx = await startInfluxDB({ dataDir });
    try {
      expect((statSync(dataDir).mode & 0o777).toString(8)).toBe('700');
      expect((statSync(join(root, '.fieldhook')).mode & 0o777).toString(8)).toBe('700');
      await influx.createDatabase('modes');
    } finally {
      await influx.stop();
      if (umask !== undefined) process.umask(umask);
    }
  }, 60_000);
});
