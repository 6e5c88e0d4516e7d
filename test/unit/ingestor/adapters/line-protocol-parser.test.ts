import fc from 'fast-check';
import { escape } from '@influxdata/influxdb-client';
import { describe, expect, it } from 'vitest';
import { parseLineProtocol } from '../../../../services/ingestor/adapters/line-protocol-parser.js';
import { expectPrototypesIntact, FUZZ, hostileKey, PROTOTYPE_KEYS } from '../hostile-input.js';

describe('line protocol parser', () => {
  it('reads tags, every field type and the timestamp', () => {
    const result = parseLineProtocol('reading,device=n-1,site=a\\ b soil_moisture=0.23,count=3i,big=7u,ok=t,note="say \\"hi\\"" 1783332000000000000\n');
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const [line] = result.lines;
    expect(line!.measurement).toBe('reading');
    expect(Object.fromEntries(line!.tags)).toEqual({ device: 'n-1', site: 'a b' });
    expect(Object.fromEntries(line!.fields)).toEqual({
      soil_moisture: { type: 'float', value: 0.23 },
      count: { type: 'integer', value: 3 },
      big: { type: 'unsigned', value: 7 },
      ok: { type: 'boolean', value: true },
      note: { type: 'string', value: 'say "hi"' },
    });
    expect(line!.timestamp).toBe(1783332000000000000n);
  });

  it('unescapes commas, spaces and equals in measurement, tag and field keys', () => {
    const result = parseLineProtocol('m\\,x\\ y,t\\=k=v\\,1 f\\ k=1');
    expect(result.ok && result.lines[0]).toMatchObject({ measurement: 'm,x y' });
    if (!result.ok) return;
    expect(result.lines[0]!.tags.get('t=k')).toBe('v,1');
    expect(result.lines[0]!.fields.get('f k')).toEqual({ type: 'float', value: 1 });
  });

  it('skips blank lines and comments, and counts them in line numbers', () => {
    const result = parseLineProtocol('# header\n\nm f=1\nm f=oops\n');
    expect(result).toEqual({ ok: false, lineNumber: 4, message: expect.stringContaining('field f') });
  });

  it.each([
    ['m', 'missing fields'],
    ['m f', 'invalid field'],
    ['m f=', 'missing value'],
    ['m f="open', 'unterminated string'],
    ['m f=1 12x', 'invalid timestamp'],
    ['m,t f=1', 'invalid tag'],
    [',t=1 f=1', 'missing measurement'],
  ])('refuses %j (%s) with its line number', (text, message) => {
    expect(parseLineProtocol(`ok f=1\n${text}`)).toEqual({ ok: false, lineNumber: 2, message: expect.stringContaining(message) });
  });

  it('refuses a body with more points than the limit', () => {
    expect(parseLineProtocol('m f=1\nm f=2\nm f=3', { maxLines: 2, maxLineLength: 100 })).toMatchObject({ ok: false, lineNumber: 3 });
  });

  it('any input is read into lines or refused with a line number; nothing throws', () => {
    const chars = fc.constantFrom('m', 'f', '=', ',', ' ', '"', '\\', '\n', '1', 'i', 'u', '.', '-', 'e', 't', '#', '\r', '_');
    const text = fc.oneof(fc.string({ unit: chars, maxLength: 80 }), fc.string({ maxLength: 80 }));
    fc.assert(
      fc.property(text, (body) => {
        const result = parseLineProtocol(body);
        if (result.ok) {
          for (const line of result.lines) {
            expect(line.measurement).not.toBe('');
            expect(line.fields.size).toBeGreaterThan(0);
          }
        } else {
          expect(result.lineNumber).toBeGreaterThanOrEqual(1);
          expect(result.lineNumber).toBeLessThanOrEqual(body.split('\n').length);
        }
      }),
      FUZZ,
    );
    expectPrototypesIntact();
  });

  it('reads back what the client library escapes, prototype keys included', () => {
    const key = fc.oneof(hostileKey, fc.constantFrom(...PROTOTYPE_KEYS)).filter((k) => k !== '' && !/[\n\r\t\\]/.test(k));
    fc.assert(
      fc.property(key, key, fc.double({ noNaN: true, noDefaultInfinity: true }).filter((v) => !Object.is(v, -0)), (tag, field, value) => {
        const body = `${escape.measurement('m')},${escape.tag(tag)}=${escape.tag(tag)} ${escape.tag(field)}=${String(value)}`;
        const result = parseLineProtocol(body);
        expect(result.ok).toBe(true);
        if (!result.ok) return;
        expect(result.lines[0]!.tags.get(tag)).toBe(tag);
        expect(result.lines[0]!.fields.get(field)).toEqual({ type: 'float', value });
      }),
      FUZZ,
    );
    expectPrototypesIntact();
  });
});
