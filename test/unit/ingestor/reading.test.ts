import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dedupKey, parseReading, type ReadingRules } from '../../../services/ingestor/reading.js';
import { parseIsoTimestamp } from '../../../services/shared/timestamps.js';
import { buildQuantityTable, CANONICAL_QUANTITIES, quantitySpec } from '../../../services/shared/quantities.js';
import { expectPrototypesIntact } from './hostile-input.js';

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

  it('answers an accepted reading with the values object it was given, every own quantity in it, as JSON writes it (property)', () => {
    const quantity = fc.constantFrom(...names).chain((name) =>
      fc.tuple(fc.constant(name), fc.double({ min: CANONICAL_QUANTITIES[name].min, max: CANONICAL_QUANTITIES[name].max, noNaN: true })),
    );
    fc.assert(
      fc.property(fc.uniqueArray(quantity, { minLength: 1, maxLength: names.length, selector: ([name]) => name }), (pairs) => {
        // Parsed from text, as a body is: the object validated is the object kept.
        const input = JSON.parse(JSON.stringify({ ts: NOW, values: Object.fromEntries(pairs) })) as { values: Record<string, number> };
        const result = parseReading(input, rules, NOW);
        if (!result.ok) throw new Error(result.message);
        expect(result.reading.values).toBe(input.values);
        expect(JSON.stringify(result.reading.values)).toBe(JSON.stringify(Object.fromEntries(pairs.map(([n, v]) => [n, JSON.parse(JSON.stringify(v)) as number]))));
        expect(Object.keys(result.reading.values)).toEqual(pairs.map(([n]) => n));
      }),
      { seed: 20261130, numRuns: 300 },
    );
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

  describe('impossible dates', () => {
    // The server clock a day after each impossible date would have rolled over to.
    const at = (iso: string) => Date.parse(iso);

    it.each([
      ['31 November', '2026-11-31T04:30:00Z', at('2026-12-01T12:00:00Z')],
      ['29 February of a common year', '2026-02-29T10:00:00Z', at('2026-03-01T12:00:00Z')],
      ['30 February of a leap year', '2028-02-30T10:00:00+01:00', at('2028-03-01T12:00:00Z')],
      ['29 February 2100 (not a leap year)', '2100-02-29T10:00:00Z', at('2100-03-01T12:00:00Z')],
      ['24:00', '2026-11-26T24:00:00Z', at('2026-11-27T12:00:00Z')],
      ['an offset of +25:00', '2026-11-27T10:00:00+25:00', at('2026-11-27T12:00:00Z')],
      ['minute 60 of an offset', '2026-11-27T10:00:00+01:60', at('2026-11-27T12:00:00Z')],
      ['month 13', '2026-13-01T10:00:00Z', at('2026-11-27T12:00:00Z')],
      ['day 0', '2026-11-00T10:00:00Z', at('2026-11-27T12:00:00Z')],
    ])('refuses %s with FH_ERR_READING_TS_INVALID (Date.parse rolled it over)', (_name, ts, now) => {
      expect(parseReading({ ts, values: { rssi: -80 } }, rules, now)).toMatchObject({ ok: false, code: 'FH_ERR_READING_TS_INVALID', field: 'ts' });
    });

    it('accepts 29 February of leap years (2028, 2000), offsets with and without a colon, and any fraction', () => {
      expect(parseIsoTimestamp('2028-02-29T10:00:00Z')).toBe(Date.UTC(2028, 1, 29, 10));
      expect(parseIsoTimestamp('2000-02-29T00:00Z')).toBe(Date.UTC(2000, 1, 29));
      expect(parseIsoTimestamp('2026-11-27T13:30:00.123456789+0130')).toBe(Date.UTC(2026, 10, 27, 12, 0, 0, 123));
      expect(parseIsoTimestamp('2026-11-27T13:30:00.1-01:00')).toBe(Date.UTC(2026, 10, 27, 14, 30, 0, 100));
      expect(parseIsoTimestamp('0050-01-01T00:00:00Z')).toBe(Date.parse('0050-01-01T00:00:00Z'));
      expect(parseIsoTimestamp('0000-02-29T00:00:00Z')).toBe(Date.parse('0000-02-29T00:00:00Z'));
      expect(parseIsoTimestamp('2026-11-27T10:00:00')).toBeUndefined();
    });

    it('refuses epoch numbers beyond the last instant a date can hold', () => {
      expect(parseReading({ ts: 1e308, values: { rssi: -80 } }, rules, NOW)).toMatchObject({ ok: false, code: 'FH_ERR_READING_TS_INVALID' });
      expect(parseReading({ ts: -0, values: { rssi: -80 } }, rules, NOW)).toMatchObject({ ok: false, code: 'FH_ERR_READING_TS_INVALID' });
    });
  });

  describe('untrusted names', () => {
    it('repeats only a bounded prefix of an unknown quantity name', () => {
      const name = 'x'.repeat(2_000);
      const result = parseReading({ ts: NOW, values: { [name]: 1 } }, rules, NOW);
      expect(result).toMatchObject({ ok: false, code: 'FH_ERR_READING_UNKNOWN_QUANTITY' });
      if (result.ok) return;
      expect(result.message.length).toBeLessThan(100);
      expect(result.field!.length).toBeLessThan(100);
    });

    it('reads only own fields of a reading: a polluted prototype supplies no ts or values', () => {
      const inherited = Object.create({ ts: NOW, values: { rssi: -80 } }) as object;
      expect(parseReading(inherited, rules, NOW)).toMatchObject({ ok: false, code: 'FH_ERR_READING_TS_MISSING' });
    });

    it('refuses every prototype member as a quantity name, and leaves Object.prototype alone', () => {
      for (const name of ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty']) {
        const reading = JSON.parse(`{"ts":${NOW},"values":{${JSON.stringify(name)}:1}}`);
        expect(parseReading(reading, rules, NOW), name).toMatchObject({ ok: false, code: 'FH_ERR_READING_UNKNOWN_QUANTITY', field: `values.${name}` });
      }
      expectPrototypesIntact();
    });
  });

  describe('the quantity table', () => {
    it('has no prototype: a lookup by a prototype name finds nothing', () => {
      const table = buildQuantityTable();
      expect(Object.getPrototypeOf(table)).toBeNull();
      for (const name of ['constructor', 'toString', '__proto__', 'valueOf']) expect(quantitySpec(table, name), name).toBeUndefined();
      expect(quantitySpec(table, 'rssi')).toEqual(CANONICAL_QUANTITIES.rssi);
    });

    it.each([
      ['__proto__ (an own key of parsed configuration)', '{"__proto__":{"unit":"x","min":0,"max":1}}'],
      ['constructor', '{"constructor":{"unit":"x","min":0,"max":1}}'],
      ['hasOwnProperty', '{"hasOwnProperty":{"unit":"x","min":0,"max":1}}'],
      ['a name ending in a backslash', '{"probe\\\\":{"unit":"x","min":0,"max":1}}'],
      ['a name of 65 characters', `{"${'q'.repeat(65)}":{"unit":"x","min":0,"max":1}}`],
      ['min above max', '{"canopy":{"unit":"x","min":2,"max":1}}'],
    ])('refuses to declare %s, with FH_ERR_CONFIG_INVALID', (_name, json) => {
      expect(() => buildQuantityTable(JSON.parse(json))).toThrow(expect.objectContaining({ code: 'FH_ERR_CONFIG_INVALID' }));
    });

    it('a "__proto__" quantity can no longer let through a reading with no values', () => {
      // Before: the declared "__proto__" matched, `values.__proto__ = 0.5` set nothing, and an empty reading was accepted.
      const reading = JSON.parse(`{"ts":${NOW},"values":{"__proto__":0.5}}`);
      expect(parseReading(reading, rules, NOW)).toMatchObject({ ok: false, code: 'FH_ERR_READING_UNKNOWN_QUANTITY' });
    });
  });
});
