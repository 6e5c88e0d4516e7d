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

  it('refuses anything but a sound record with FH_ERR_IRRIGATION_INVALID, never a crash', () => {
    for (const bad of [null, [], 'x', { farm: 'f1', field: 'north' }, { farm: 'f 1', field: 'north', depth_mm: 1 }, { farm: 'f1', field: 'north', depth_mm: Number.NaN },
      { farm: 'f1', field: 'north', depth_mm: 501 }, { farm: 'f1', field: 'north', depth_mm: 1, start: '2026-07-07T08:00:00Z', end: '2026-07-07T07:00:00Z' },
      { farm: 'f1', field: 'north', depth_mm: 1, start: '2026-06-01T00:00:00Z', end: '2026-07-07T00:00:00Z' }, { farm: 'f1', field: 'north', depth_mm: 1, end: NOW + 3_600_000 },
      { farm: 'f1', field: 'north', depth_mm: 1, note: 'x' }]) {
      expect(codeOf(bad), JSON.stringify(bad)).toBe('FH_ERR_IRRIGATION_INVALID');
    }
    fc.assert(fc.property(fc.anything(), (input) => ['ok', 'FH_ERR_IRRIGATION_INVALID'].includes(codeOf(input))));
    fc.assert(fc.property(fc.record({ farm: fc.string(), field: fc.string(), depth_mm: fc.double(), start: fc.oneof(fc.string(), fc.double()), end: fc.oneof(fc.string(), fc.integer()) }, { requiredKeys: [] }), (input) => ['ok', 'FH_ERR_IRRIGATION_INVALID'].includes(codeOf(input))));
  });
});
