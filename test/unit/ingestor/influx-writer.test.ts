import { HttpError } from '@influxdata/influxdb-client';
import { describe, expect, it } from 'vitest';
import { DEFAULT_INFLUX_WRITER_OPTIONS, retryDelayMs } from '../../../services/ingestor/influx-writer.js';

describe('InfluxDB writer backoff', () => {
  it('computes backoff with ±20 % jitter, capped', () => {
    const o = { ...DEFAULT_INFLUX_WRITER_OPTIONS, retryMinMs: 1000, retryMaxMs: 60_000 };
    expect(retryDelayMs(new Error('x'), 1, o, () => 0)).toBe(800);
    expect(retryDelayMs(new Error('x'), 1, o, () => 1)).toBe(1200);
    expect(retryDelayMs(new Error('x'), 20, o, () => 0.5)).toBe(60_000);
    expect(retryDelayMs(new HttpError(429, 'Too Many', '', '30'), 1, o, () => 0.5)).toBe(30_000);
  });
});
