import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseIrrigationInput } from '../../../services/irrigations/record.js';

const NOW = Date.parse('2026-07-07T09:00:00Z');
const codeOf = (input: unknown) => {
  try {
    parseIrrigationInput(input, NOW);
    return 'ok';
  } catch (err) {
    return (err as { code: string }).code;
  }
};

describe('irrigation record input', () => {
  it('defaults end to now and start to end, and normalises the request for idempotency', () => {
    const a = parseIrrigationInput({ farm: 'f1', field: 'north', depth_mm: 18 }, NOW);
    expect(a).toMatchObject({ farm: 'f1', field: 'north', depthMm: 18, startTs: NOW, endTs: NOW });
    // A retry later without times is the same request; times given as ISO or epoch ms are one.
    expect(parseIrrigationInput({ farm: 'f1', field: 'north', depth_mm: 18.0 }, NOW + 60_000).digest).toBe(a.digest);
    const iso = parseIrrigationInput({ farm: 'f1', field: 'north', depth_mm: 18, end: '2026-07-07T08:00:00Z' }, NOW);
    expect(parseIrrigationInput({ farm: 'f1', field: 'north', depth_mm: 18, end: Date.parse('2026-07-07T08:00:00Z') }, NOW).digest).toBe(iso.digest);
    expect(iso.digest).not.toBe(a.digest);
  });

  it('takes times as readings do: ISO 8601 with a zone or epoch ms, within a year back and minutes ahead', () => {
    const at = (end: unknown) => {
      try {
        return parseIrrigationInput({ farm: 'f1', field: 'north', depth_mm: 5, end }, NOW).endTs;
      } catch (err) {
        return (err as Error).message;
      }
    };
    expect(at('2026-07-07T08:00:00+02:00')).toBe(Date.parse('2026-07-07T06:00:00Z'));
    expect(at(Date.parse('2026-07-07T08:00:00Z'))).toBe(Date.parse('2026-07-07T08:00:00Z'));
    expect(at(Date.parse('2026-07-07T08:00:00Z') / 1000)).toMatch(/looks like epoch seconds/);
    // Without a zone the server's own zone would decide: refused, as for readings.
    expect(at('2026-07-07T08:00:00')).toMatch(/ISO 8601 with a zone/);
    expect(at('July 7 2026 08:00')).toMatch(/ISO 8601 with a zone/);
    expect(at('2026-02-30T08:00:00Z')).toMatch(/not a date and time that exists/);
    // Times InfluxDB cannot hold, or older than a season, never reach the store (nor its forwarder).
    expect(at('1600-01-01T00:00:00Z')).toMatch(/days in the past/);
    expect(at(-1e16)).toMatch(/whole epoch milliseconds/);
    expect(at(NOW - 367 * 86_400_000)).toMatch(/366 days in the past/);
    expect(at(NOW - 300 * 86_400_000)).toBe(NOW - 300 * 86_400_000);
  });

  it('refuses anything but a sound record with FH_ERR_IRRIGATION_INVALID, never a crash', () => {
    for (const bad of [null, [], 'x', { farm: 'f1', field: 'north' }, { farm: 'f 1', field: 'north', depth_mm: 1 }, { farm: 'f1', field: 'north', depth_mm: Number.NaN },
      { farm: 'f1', field: 'north', depth_mm: 501 }, { farm: 'f1', field: 'north', depth_mm: 0.00001 }, { farm: 'f1', field: 'north', depth_mm: 1, start: '2026-07-07T08:00:00Z', end: '2026-07-07T07:00:00Z' },
      { farm: 'f1', field: 'north', depth_mm: 1, start: '2026-06-01T00:00:00Z', end: '2026-07-07T00:00:00Z' }, { farm: 'f1', field: 'north', depth_mm: 1, end: NOW + 3_600_000 },
      { farm: 'f1', field: 'north', depth_mm: 1, note: 'x' }]) {
      expect(codeOf(bad), JSON.stringify(bad)).toBe('FH_ERR_IRRIGATION_INVALID');
    }
    fc.assert(fc.property(fc.anything(), (input) => ['ok', 'FH_ERR_IRRIGATION_INVALID'].includes(codeOf(input))));
    fc.assert(fc.property(fc.record({ farm: fc.string(), field: fc.string(), depth_mm: fc.double(), start: fc.oneof(fc.string(), fc.double()), end: fc.oneof(fc.string(), fc.integer()) }, { requiredKeys: [] }), (input) => ['ok', 'FH_ERR_IRRIGATION_INVALID'].includes(codeOf(input))));
  });
});
