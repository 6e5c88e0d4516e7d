import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { API_TIME_SCHEMA, ISO_TIMESTAMP_PATTERN, parseApiTime, parseIsoTimestamp } from '../../../services/shared/timestamps.js';

const pattern = new RegExp(ISO_TIMESTAMP_PATTERN, 'u');
const two = (n: number) => String(n).padStart(2, '0');

/** Texts of the ISO shape with every field drawn over more than its range: the calendar decides. */
const isoLike = fc
  .record({
    year: fc.oneof(fc.integer({ min: 0, max: 9999 }), fc.constantFrom(0, 100, 400, 1900, 2000, 2024, 2026, 2100)),
    month: fc.integer({ min: 0, max: 13 }),
    day: fc.integer({ min: 0, max: 32 }),
    hour: fc.integer({ min: 0, max: 25 }),
    minute: fc.integer({ min: 0, max: 61 }),
    second: fc.option(fc.integer({ min: 0, max: 61 })),
    fraction: fc.option(fc.stringMatching(/^\d{1,10}$/)),
    zone: fc.oneof(fc.constant('Z'), fc.record({ sign: fc.constantFrom('+', '-'), h: fc.integer({ min: 0, max: 25 }), m: fc.integer({ min: 0, max: 61 }), colon: fc.boolean() })),
  })
  .map(({ year, month, day, hour, minute, second, fraction, zone }) => {
    const seconds = second === null ? '' : `:${two(second)}${fraction === null ? '' : `.${fraction}`}`;
    const offset = typeof zone === 'string' ? zone : `${zone.sign}${two(zone.h)}${zone.colon ? ':' : ''}${two(zone.m)}`;
    return `${String(year).padStart(4, '0')}-${two(month)}-${two(day)}T${two(hour)}:${two(minute)}${seconds}${offset}`;
  });

describe('the API time schema', () => {
  it('matches exactly the ISO texts parseIsoTimestamp reads (the calendar, leap years, zones)', () => {
    fc.assert(
      fc.property(isoLike, (text) => {
        expect(pattern.test(text), text).toBe(parseIsoTimestamp(text) !== undefined);
      }),
      { seed: 20261130, numRuns: 20_000 },
    );
  });

  it.each([
    ['2024-02-29T10:00Z', true],
    ['2026-02-29T10:00Z', false],
    ['2000-02-29T00:00:00.123456789+05:30', true],
    ['1900-02-29T00:00Z', false],
    ['0000-02-29T00:00Z', true],
    ['2026-11-31T00:00Z', false],
    ['2026-11-30T24:00Z', false],
    ['2026-11-30T10:00', false],
    ['2026-11-30 10:00Z', false],
    ['2026-11-30T10:00:00+2400', false],
  ])('%s: %s', (text, valid) => {
    expect(pattern.test(text)).toBe(valid);
    expect(parseIsoTimestamp(text) !== undefined).toBe(valid);
  });

  it('bounds epoch milliseconds as parseApiTime does', () => {
    const [, epoch] = API_TIME_SCHEMA.oneOf;
    expect(parseApiTime(epoch.minimum)).toBe(epoch.minimum);
    expect(parseApiTime(epoch.minimum - 1)).toBeUndefined();
    expect(parseApiTime(epoch.maximum)).toBe(epoch.maximum);
    expect(parseApiTime(epoch.maximum + 1)).toBeUndefined();
  });
});
