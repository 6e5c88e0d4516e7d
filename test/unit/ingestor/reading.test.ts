import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dedupKey, parseReading, type ReadingRules } from '../../../services/ingestor/reading.js';
import { buildQuantityTable, CANONICAL_QUANTITIES } from '../../../services/shared/quantities.js';

const NOW = Date.parse('2026-11-27T12:00:00Z');
const rules: ReadingRules = { quantities: buildQuantityTable(), maxFutureMs: 300_000, maxAgeMs: 30 * 86_400_000 };
const names = Object.keys(CANONICAL_QUANTITIES) as (keyof typeof CANONICAL_QUANTITIES)[];

describe('parseReading', () => {
  it('keeps the device time exactly, from ISO 8601 with any offset or epoch ms', () => {
    const iso = parseReading({ ts: '2026-11-27T13:30:00.123+01:30', values: { rssi: -80 } }, rules, NOW);
    expect(iso).toEqual({ ok: true, reading: { device: undefined, id: undefined, ts: Date.parse('2026-11-27T12:00:00.123Z'), values: { rssi: -80 } } });
    const epoch = parseReading({ ts: NOW - 5, values: { rssi: -80 } }, rules, NOW);
    expect(epoch.ok && epoch.reading.ts).toBe(NOW - 5);
  });

  it('accepts every in-range value of every canonical quantity (property)', () => {
    const arbitrary = fc.constantFrom(...names).chain((name) =>
      fc.record({
        name: fc.constant(name),
        value: fc.double({ min: CANONICAL_QUANTITIES[name].min, max: CANONICAL_QUANTITIES[name].max, noNaN: true }),
        offset: fc.integer({ min: -rules.maxAgeMs, max: rules.maxFutureMs }),
      }),
    );
    fc.assert(
      fc.property(arbitrary, ({ name, value, offset }) => {
        const result = parseReading({ ts: NOW + offset, values: { [name]: value } }, rules, NOW);
        expect(result).toEqual({ ok: true, reading: expect.objectContaining({ ts: NOW + offset, values: { [name]: value } }) });
      }),
      { seed: 42 },
    );
  });

  it('refuses every out-of-range value with the field named (property)', () => {
    const arbitrary = fc.constantFrom(...names).chain((name) => {
      const { min, max } = CANONICAL_QUANTITIES[name];
      return fc.record({
        name: fc.constant(name),
        value: fc.oneof(fc.double({ max: min, maxExcluded: true, noNaN: true, min: -1e12 }), fc.double({ min: max, minExcluded: true, noNaN: true, max: 1e12 })),
      });
    });
    fc.assert(
      fc.property(arbitrary, ({ name, value }) => {
        expect(parseReading({ ts: NOW, values: { [name]: value } }, rules, NOW)).toMatchObject({
          ok: false,
          code: 'FH_ERR_READING_VALUE_OUT_OF_RANGE',
          field: `values.${name}`,
        });
      }),
      { seed: 7 },
    );
  });

  it('never throws and always answers ok or a FH_ERR code, whatever the input (property)', () => {
    fc.assert(
      fc.property(fc.anything(), (input) => {
        const result = parseReading(input, rules, NOW);
        if (!result.ok) expect(result.code).toMatch(/^FH_ERR_READING_[A-Z_]+$/);
      }),
      { seed: 1, numRuns: 2000 },
    );
  });

  it('does not read quantities from the prototype chain', () => {
    expect(parseReading({ ts: NOW, values: { toString: 1 } }, rules, NOW)).toMatchObject({ ok: false, code: 'FH_ERR_READING_UNKNOWN_QUANTITY' });
    expect(parseReading(JSON.parse(`{"ts":${NOW},"values":{"__proto__":1}}`), rules, NOW)).toMatchObject({ ok: false });
  });

  it('honours quantities declared in configuration', () => {
    const extended = { ...rules, quantities: buildQuantityTable({ canopy_temperature: { unit: 'degC', min: -30, max: 70 } }) };
    expect(parseReading({ ts: NOW, values: { canopy_temperature: 25 } }, extended, NOW).ok).toBe(true);
    expect(parseReading({ ts: NOW, values: { canopy_temperature: 25 } }, rules, NOW).ok).toBe(false);
    expect(() => buildQuantityTable({ rssi: { unit: 'dB', min: 0, max: 1 } })).toThrow(/canonical/);
  });

  it('keys de-duplication on the message id, else on the device time', () => {
    expect(dedupKey({ id: 'a', ts: 1 })).toBe('i:a');
    expect(dedupKey({ ts: 1 })).toBe('t:1');
    expect(dedupKey({ id: '1', ts: 1 })).not.toBe(dedupKey({ ts: 1 }));
  });
});
