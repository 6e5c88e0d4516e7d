import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseReading } from '../../../services/ingestor/reading.js';
import { parseIsoTimestamp } from '../../../services/shared/timestamps.js';
import {
  expectCanonicalOrRefused,
  expectPrototypesIntact,
  FUZZ,
  FUZZ_RULES,
  hostileJsonText,
  hostileKey,
  hostileNumberText,
  hostileObjectText,
  hostileTsText,
  isoParts,
  isoText,
  NOW,
  objectText,
} from './hostile-input.js';

const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const daysIn = (y: number, m: number) => [31, isLeap(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]!;

describe('parseReading under hostile input (property, fixed seed)', () => {
  const valuesText = fc.oneof(
    fc.array(fc.tuple(hostileKey, fc.oneof(hostileNumberText, hostileJsonText)), { maxLength: 6 }).map(objectText),
    hostileObjectText,
    hostileJsonText,
  );
  const readingText = fc
    .tuple(
      fc.option(hostileTsText, { nil: undefined }),
      fc.option(valuesText, { nil: undefined }),
      fc.option(fc.oneof(fc.constantFrom('"n-1"', '"constructor"', '"__proto__"'), hostileJsonText), { nil: undefined }),
      fc.option(fc.oneof(hostileNumberText, hostileJsonText), { nil: undefined }),
      fc.array(fc.tuple(hostileKey, hostileJsonText), { maxLength: 3 }),
    )
    .map(([ts, values, device, id, extra]) =>
      objectText([
        ...(ts === undefined ? [] : [['ts', ts] as const]),
        ...(values === undefined ? [] : [['values', values] as const]),
        ...(device === undefined ? [] : [['device', device] as const]),
        ...(id === undefined ? [] : [['id', id] as const]),
        ...extra,
      ]),
    );

  it('answers canonical quantities or a catalog code, never throws, never touches Object.prototype', () => {
    fc.assert(
      fc.property(fc.oneof({ weight: 4, arbitrary: readingText }, { weight: 1, arbitrary: hostileJsonText }), (text) => {
        expectCanonicalOrRefused(parseReading(JSON.parse(text), FUZZ_RULES, NOW));
        expectPrototypesIntact();
      }),
      FUZZ,
    );
  });

  it('accepts an ISO 8601 time exactly when its calendar fields exist, at the instant Date.parse gives', () => {
    fc.assert(
      fc.property(isoParts, (p) => {
        const zone = /^[+-](\d{2}):(\d{2})$/.exec(p.zone);
        const exists =
          p.month >= 1 &&
          p.month <= 12 &&
          p.day >= 1 &&
          p.day <= daysIn(p.year, p.month) &&
          p.hour <= 23 &&
          p.minute <= 59 &&
          p.second <= 59 &&
          (!zone || (Number(zone[1]) <= 23 && Number(zone[2]) <= 59));
        const text = isoText(p);
        expect(parseIsoTimestamp(text)).toBe(exists ? Date.parse(text) : undefined);
        const result = parseReading({ ts: text, values: { rssi: -80 } }, FUZZ_RULES, NOW);
        if (!exists) expect(result).toMatchObject({ ok: false, code: 'FH_ERR_READING_TS_INVALID', field: 'ts' });
      }),
      { ...FUZZ, numRuns: 2_000 },
    );
  });
});
