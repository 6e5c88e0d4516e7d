import { describe, expect, it } from 'vitest';
import { MAX_EVENT_DATA_DEPTH, nestedWithin, parseReadingBatch, PublishInputSchema } from '../../../../services/shared/bus/payloads.js';
import { ALL_FIELD_READINGS } from '../../../../services/shared/bus/topics.js';

describe('reading batches on the bus', () => {
  it('groups the ingestor\'s JSON array by field and keeps correlation ids', () => {
    const payload = JSON.stringify([
      { device: 'd1', farm: 'f', field: 'a', ts: '2026-07-06T10:00:00Z', values: { soil_moisture: 0.2 }, correlation_id: 'c1' },
      { device: 'd2', farm: 'f', field: 'b', ts: '2026-07-06T10:00:00Z', values: { rainfall: 1 }, correlation_id: 'c1' },
      { device: 'd1', farm: 'f', field: 'a', ts: '2026-07-06T11:00:00Z', values: { soil_moisture: 0.19 }, correlation_id: 'c2' },
    ]);
    const parsed = parseReadingBatch(Buffer.from(payload));
    expect([...parsed.keys()]).toEqual(['f/a', 'f/b']);
    expect(parsed.get('f/a')!.readings).toEqual([
      { ts: Date.parse('2026-07-06T10:00:00Z'), values: { soil_moisture: 0.2 }, correlationId: 'c1' },
      { ts: Date.parse('2026-07-06T11:00:00Z'), values: { soil_moisture: 0.19 }, correlationId: 'c2' },
    ]);
    expect(ALL_FIELD_READINGS).toBe('fieldhook/v1/farms/+/fields/+/readings');
  });

  it('skips malformed entries and refuses what is not JSON', () => {
    const payload = JSON.stringify([{ farm: 'f', field: 'a', ts: 'yesterday', values: {} }, { farm: 'f', ts: '2026-07-06T10:00:00Z', values: {} }, null, 7]);
    expect(parseReadingBatch(payload).size).toBe(0);
    expect(() => parseReadingBatch('{not json')).toThrow();
  });
});

describe('event data depth', () => {
  const nest = (depth: number, leaf: unknown = 1): unknown => {
    let v: unknown = leaf;
    for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
    return v;
  };

  it(`takes data nested up to ${MAX_EVENT_DATA_DEPTH} levels and refuses deeper data with a message, even 100,000 levels deep`, () => {
    const at = (depth: number) => PublishInputSchema.safeParse({ type: 'test.deep', data: { x: nest(depth - 1) } });
    expect(at(MAX_EVENT_DATA_DEPTH).success).toBe(true);
    const deeper = at(MAX_EVENT_DATA_DEPTH + 1);
    expect(deeper.success).toBe(false);
    expect(deeper.error?.issues[0]).toMatchObject({ path: ['data'], message: expect.stringContaining(`more than ${MAX_EVENT_DATA_DEPTH} levels`) });
    expect(nestedWithin(nest(100_000), MAX_EVENT_DATA_DEPTH)).toBe(false);
    expect(at(100_000).success).toBe(false);
  });
});
