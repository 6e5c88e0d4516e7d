import { describe, expect, it } from 'vitest';
import { createSqliteSpool } from '../../../../services/ingestor/spool/sqlite-spool.js';
import { BUS_CONSUMER, INFLUX_CONSUMER } from '../../../../services/ingestor/spool/spool.js';
import type { NormalizedReading } from '../../../../services/ingestor/reading.js';

const at = (i: number, id?: string): NormalizedReading => ({ device: `n-${i % 3}`, farm: 'f', field: 'a', ...(id ? { id } : {}), ts: 1.7e12 + i, values: { rssi: -70 } });

describe('de-duplication of a large append', () => {
  it('stores each key once across statements of many rows: repeats within the append and from earlier appends are duplicates', async () => {
    const spool = createSqliteSpool({ path: ':memory:', consumers: [INFLUX_CONSUMER, BUS_CONSUMER] });
    const earlier = await spool.append({ readings: [at(5), at(70, 'x')], correlationId: 'c1' });
    expect(earlier.stored).toEqual([true, true]);
    // 300 readings: 0..199, then 0..99 again; 5 and the id x were stored before.
    const readings = [...Array.from({ length: 200 }, (_, i) => at(i)), ...Array.from({ length: 100 }, (_, i) => at(i)), { ...at(70, 'x'), ts: 1.7e12 + 999 }];
    const { stored } = await spool.append({ readings, correlationId: 'c2' });
    expect(stored.slice(0, 200)).toEqual(Array.from({ length: 200 }, (_, i) => i !== 5));
    expect(stored.slice(200, 300).every((s) => !s)).toBe(true);
    expect(stored[300]).toBe(false);
    const records = await spool.read(INFLUX_CONSUMER, 1000);
    expect(records.map((r) => r.count)).toEqual([2, 199]);
    spool.close();
  });

  it('tells keys apart whatever their ids hold (spaces, NUL, another device\'s name)', async () => {
    const spool = createSqliteSpool({ path: ':memory:', consumers: [INFLUX_CONSUMER, BUS_CONSUMER] });
    const ids = ['a b', 'a\u0000b', 'n-1 a b', ' ', 'i:x'];
    const readings = [...ids.map((id, i) => at(3 * i, id)), ...ids.map((id, i) => at(3 * i + 1, id)), ...ids.map((id, i) => ({ ...at(3 * i, id), ts: 1 }))];
    const { stored } = await spool.append({ readings, correlationId: 'c1' });
    // The same ids on device n-0 and on n-1 are different keys; each repeated on its own device is a duplicate.
    expect(stored).toEqual([...ids.map(() => true), ...ids.map(() => true), ...ids.map(() => false)]);
    spool.close();
  });
});
