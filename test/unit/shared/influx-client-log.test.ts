import { Log } from '@influxdata/influxdb-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { logInfluxClientTo } from '../../../services/shared/influx.js';
import { captureLogger } from '../../helpers/capture-logger.js';

describe("the InfluxDB client's own messages", () => {
  afterEach(() => vi.restoreAllMocks());

  it('go to fieldhook\'s JSON log at debug level, never to the console as plain text', () => {
    const console = [vi.spyOn(globalThis.console, 'error'), vi.spyOn(globalThis.console, 'warn'), vi.spyOn(globalThis.console, 'log')];
    const { lines, logger } = captureLogger('debug');
    logInfluxClientTo(logger);
    Log.error('Write to InfluxDB failed.', new Error('400 time outside range'));
    Log.warn('Write to InfluxDB failed (attempt: 1).', undefined);
    expect(lines).toEqual([
      expect.objectContaining({ level: 20, source: 'influxdb-client', msg: 'Write to InfluxDB failed.', err: expect.objectContaining({ message: '400 time outside range' }) }),
      expect.objectContaining({ level: 20, source: 'influxdb-client', msg: 'Write to InfluxDB failed (attempt: 1).' }),
    ]);
    for (const spy of console) expect(spy).not.toHaveBeenCalled();
  });
});
