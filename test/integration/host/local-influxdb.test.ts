import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { modeOf, usualUmask } from '../../helpers/file-modes.js';
import { startInfluxDB } from '../../../services/host/local-influxdb.js';

describe('local InfluxDB', () => {
  const root = mkdtempSync(join(tmpdir(), 'fh-local-influx-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('keeps its data in a folder only fieldhook’s user may enter (0700), created under DATA_DIR', async () => {
    const restoreUmask = usualUmask();
    const dataDir = join(root, '.fieldhook', 'influxdb');
    const influx = await startInfluxDB({ dataDir });
    try {
      expect(modeOf(dataDir).toString(8)).toBe('700');
      expect(modeOf(join(root, '.fieldhook')).toString(8)).toBe('700');
      await influx.createDatabase('modes');
    } finally {
      await influx.stop();
      restoreUmask();
    }
  }, 60_000);
});
