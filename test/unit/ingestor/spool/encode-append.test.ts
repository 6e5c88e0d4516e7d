import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toBusReading } from '../../../../services/ingestor/bus-message.js';
import { readingToLine } from '../../../../services/ingestor/line-protocol.js';
import { dedupKey, type NormalizedReading } from '../../../../services/ingestor/reading.js';
import { encodeAppend, readingsFromBus } from '../../../../services/ingestor/spool/spool-store.js';
import { isoTime } from '../../../../services/ingestor/spool/reading-parts.js';
import { fieldReadingsTopic } from '../../../../services/shared/bus/topics.js';

const id = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,15}$/);
const reading: fc.Arbitrary<NormalizedReading> = fc.record(
  {
    device: fc.constantFrom('n-1', 'n-2', 'gw.3:a'),
    farm: id,
    field: id,
    id: fc.string({ minLength: 1, maxLength: 20 }),
    // Times of today's devices, and any time a Date holds (the bus writes them as ISO 8601).
    ts: fc.oneof(fc.integer({ min: 1e12, max: 2e12 }), fc.integer({ min: 0, max: 8.64e15 })),
    values: fc.dictionary(fc.constantFrom('soil_moisture', 'air_temperature', 'rssi', 'battery_voltage'), fc.double({ min: -100, max: 100, noNaN: true }), { minKeys: 1 }),
  },
  { requiredKeys: ['device', 'farm', 'field', 'ts', 'values'] },
);

describe('encodeAppend', () => {
  it('prepares each column as serialising every reading on its own would (line protocol, topic, bus JSON, keys), and the bus JSON gives the readings back', () => {
    fc.assert(
      fc.property(fc.array(reading, { minLength: 1, maxLength: 8 }), fc.uuid(), (readings, correlationId) => {
        const encoded = encodeAppend({ readings, correlationId });
        expect(encoded.lines).toBe(readings.map(readingToLine).join('\n'));
        expect(encoded.topics).toBe(readings.map((r) => fieldReadingsTopic(r.farm, r.field)).join('\n'));
        expect(encoded.bus).toBe(readings.map((r) => JSON.stringify(toBusReading(r, correlationId))).join('\n'));
        expect(JSON.parse(encoded.keys)).toEqual(readings.map((r) => [r.device, dedupKey(r)]));
        // A dead letter's reading, rebuilt from the bus column, is the JSON the reading itself gives
        // (in the order the spool always wrote it: device, farm, field, id, ts, values).
        const canonical = (r: NormalizedReading) =>
          JSON.stringify({ device: r.device, farm: r.farm, field: r.field, ...(r.id !== undefined ? { id: r.id } : {}), ts: r.ts, values: r.values });
        expect(readingsFromBus(encoded.bus).map((r) => JSON.stringify(r))).toEqual(readings.map(canonical));
      }),
      { seed: 20260706, numRuns: 200 },
    );
  });
});

describe('isoTime', () => {
  it('writes any instant a Date holds as toISOString does, fractions of a millisecond cut toward zero', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: -8.64e15, max: 8.64e15 }), fc.double({ min: -8.64e15, max: 8.64e15, noNaN: true }), fc.integer({ min: 1.7e12, max: 1.8e12 })), (ts) => {
        expect(isoTime(ts)).toBe(new Date(Math.trunc(ts)).toISOString());
      }),
      { seed: 20261201, numRuns: 2000 },
    );
  });
});
