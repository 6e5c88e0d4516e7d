import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readingToLine } from '../../../services/ingestor/line-protocol.js';
import { expectPrototypesIntact, FUZZ, PROTOTYPE_KEYS } from './hostile-input.js';
import { ID_PATTERN } from '../../../services/shared/ids.js';
import { CANONICAL_QUANTITIES, QUANTITY_NAME_PATTERN } from '../../../services/shared/quantities.js';

/** Split on a separator that is not escaped with a backslash. */
function splitUnescaped(text: string, separator: string, limit = Infinity): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length) {
      current += c + text[i + 1];
      i++;
    } else if (c === separator && parts.length < limit - 1) {
      parts.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  parts.push(current);
  return parts;
}

const unescapeKey = (key: string) =>
  key.replace(/\\(.)/g, (_m, c: string) => ({ n: '\n', r: '\r', t: '\t' })[c as 'n' | 'r' | 't'] ?? c);

describe('readingToLine under hostile field names and numbers (property, fixed seed)', () => {
  const number = fc.oneof(
    fc.constantFrom(1e308, -1e308, Number.MAX_VALUE, -0, 0, 5e-324, 1e21, 1e-7, 2 ** 53 + 2),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
  );
  // Device, farm and field are registry ids (ID_PATTERN): tag values with nothing to escape.
  const id = fc.stringMatching(ID_PATTERN);
  // What a quantity table may hold (and what a caller might pass by mistake: prototype members,
  // names with line protocol's separators), long ones included; never a backslash or a line break.
  const name = fc.oneof(
    fc.constantFrom(...PROTOTYPE_KEYS, ...Object.keys(CANONICAL_QUANTITIES)),
    fc.stringMatching(QUANTITY_NAME_PATTERN).filter((n) => n.length <= 64),
    fc.integer({ min: 65, max: 2_000 }).map((n) => 'q'.repeat(n)),
    fc.string({ minLength: 1, maxLength: 20 }).filter((n) => !/[\\\n\r\t]/.test(n)),
  );

  it('writes one line with every own value exactly once, whatever the names, and leaves Object.prototype alone', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(name, number), { minLength: 1, maxLength: 8, selector: ([k]) => k }), id, id, id, (entries, device, farm, field) => {
        // fromEntries defines own properties: "__proto__" is a field like any other here.
        const values = Object.fromEntries(entries);
        const line = readingToLine({ device, farm, field, ts: 1_796_000_000_000, values });
        expect(line).not.toMatch(/[\n\r]/);
        const [series, fields, ts] = splitUnescaped(line, ' ');
        expect(series).toMatch(/^reading,device=.*,farm=.*,field=.*$/);
        expect(ts).toBe('1796000000000');
        const written = splitUnescaped(fields!, ',').map((f) => splitUnescaped(f, '=', 2));
        expect(written.map(([k]) => unescapeKey(k!)).sort()).toEqual(entries.map(([k]) => k).sort());
        for (const [k, v] of written) {
          const value = entries.find(([name]) => name === unescapeKey(k!))![1];
          expect(Number(v)).toBe(value === 0 ? 0 : value); // -0 is written as 0
        }
        expectPrototypesIntact();
      }),
      FUZZ,
    );
  });
});
