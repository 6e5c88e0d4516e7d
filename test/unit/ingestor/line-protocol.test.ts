import { Point } from '@influxdata/influxdb-client';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readingToLine } from '../../../services/ingestor/line-protocol.js';

describe('readingToLine', () => {
  it('writes sorted tags, float fields and the device time in ms', () => {
    expect(readingToLine({ device: 'n 1', farm: 'a,b', field: 'x=y', ts: 1_700_000_000_123, values: { soil_moisture: 0.25, air_temperature: 21 } })).toBe(
      'reading,device=n\\ 1,farm=a\\,b,field=x\\=y air_temperature=21,soil_moisture=0.25 1700000000123',
    );
  });

  it('matches the client library’s Point for any tags and values (property)', () => {
    const tag = fc.string({ minLength: 1, maxLength: 12 }).filter((s) => s.trim() === s && !/[\n\r\\]/.test(s));
    fc.assert(
      fc.property(tag, tag, tag, fc.dictionary(fc.constantFrom('rssi', 'soil_ec', 'rainfall'), fc.double({ noNaN: true, noDefaultInfinity: true }), { minKeys: 1 }), (device, farm, field, values) => {
        const ts = 1_700_000_000_000;
        const point = new Point('reading').tag('device', device).tag('farm', farm).tag('field', field).timestamp(ts);
        for (const [k, v] of Object.entries(values)) point.floatField(k, v);
        expect(readingToLine({ device, farm, field, ts, values })).toBe(point.toLineProtocol({ convertTime: (t) => String(t) }));
      }),
      { seed: 3 },
    );
  });
});
