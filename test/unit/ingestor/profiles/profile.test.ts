import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Errors } from '../../../../services/shared/error-catalog.js';
import { FieldhookError } from '../../../../services/shared/errors.js';
import { loadProfiles } from '../../../../services/ingestor/profiles/load.js';
import { applyProfile, compileProfile, parsePath, resolvePath } from '../../../../services/ingestor/profiles/profile.js';
import { converter, UNITS } from '../../../../services/ingestor/profiles/units.js';

const profile = (mappings: unknown[], more: Record<string, unknown> = {}) => compileProfile({ name: 'p', mappings, ...more }, 'p.json');

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FieldhookError);
    expect((err as FieldhookError).code).toBe(Errors.profileInvalid.code);
    return (err as FieldhookError).details!.problems as string[];
  }
  throw new Error('expected FH_ERR_PROFILE_INVALID');
}

describe('units', () => {
  const to = (from: string, target: string, v: number) => (converter(from, target) as (x: number) => number)(v);
  it('convert onto the canonical units', () => {
    expect(to('%', 'm3/m3', 23.1)).toBeCloseTo(0.231, 12);
    expect(to('%', '%', 63)).toBe(63);
    expect(to('µS/cm', 'dS/m', 1500)).toBeCloseTo(1.5, 12);
    expect(to('mS/cm', 'dS/m', 2.2)).toBeCloseTo(2.2, 12);
    expect(to('°F', 'degC', 212)).toBeCloseTo(100, 12);
    expect(to('degF', 'degC', 32)).toBeCloseTo(0, 12);
    expect(to('K', 'degC', 273.15)).toBeCloseTo(0, 12);
    expect(to('mV', 'V', 3610)).toBeCloseTo(3.61, 12);
    expect(to('km/h', 'm/s', 36)).toBeCloseTo(10, 12);
    expect(to('inch', 'mm', 1)).toBeCloseTo(25.4, 12);
    expect(to('lux', 'W/m2', 126_700)).toBeCloseTo(1000, 9);
  });
  it('refuse units of another dimension and unknown ones', () => {
    expect(converter('V', 'degC')).toMatch(/does not convert/);
    expect(converter('furlong', 'mm')).toMatch(/unknown unit "furlong"/);
    expect(converter('constructor', 'mm')).toMatch(/unknown unit/);
    expect(UNITS.has('__proto__')).toBe(false);
  });
});

describe('source paths', () => {
  it('read keys, indices and measurementId matches', () => {
    expect(parsePath('measurements[0].value')).toEqual([
      { kind: 'key', key: 'measurements' },
      { kind: 'index', index: 0 },
      { kind: 'key', key: 'value' },
    ]);
    expect(parsePath('messages[measurementId=4102].measurementValue')).toEqual([
      { kind: 'key', key: 'messages' },
      { kind: 'match', key: 'measurementId', equals: '4102' },
      { kind: 'key', key: 'measurementValue' },
    ]);
    expect(parsePath('a..b')).toMatch(/cannot read/);
    expect(parsePath('a.b.c.d.e.f.g.h.i')).toMatch(/more than 8 steps/);
  });
  it('never follow the prototype chain', () => {
    expect(resolvePath({}, parsePath('constructor') as never)).toBeUndefined();
    expect(resolvePath({ a: [] }, parsePath('a.length') as never)).toBeUndefined();
    expect(resolvePath(JSON.parse('{"__proto__": {"x": 1}}'), parsePath('__proto__.x') as never)).toBe(1);
  });
});

describe('applyProfile', () => {
  it('parses numbers given as strings, scales, offsets and converts', () => {
    const p = profile([
      { source: 'm', quantity: 'soil_moisture', unit: '%' },
      { source: 'raw', quantity: 'battery_voltage', unit: 'mV', scale: 10, offset: 5 },
    ]);
    expect(applyProfile(p, { m: ' 19.57 ', raw: 361 })).toEqual({ values: { soil_moisture: 0.1957, battery_voltage: 3.615 }, refused: [], skipped: [], history: [] });
  });
  it('takes the first present alternative', () => {
    const p = profile([{ source: ['a', 'b'], quantity: 'air_temperature' }]);
    expect(applyProfile(p, { b: 2 }).values).toEqual({ air_temperature: 2 });
    expect(applyProfile(p, { a: 1, b: 2 }).values).toEqual({ air_temperature: 1 });
  });
  it('skips "no reading" values, numbers and strings', () => {
    const p = profile([{ source: 't', quantity: 'soil_temperature', noReading: [327.67, 'N/A'] }]);
    expect(applyProfile(p, { t: 327.67 })).toEqual({ values: {}, refused: [], skipped: ['t'], history: [] });
    expect(applyProfile(p, { t: '327.67' })).toEqual({ values: {}, refused: [], skipped: ['t'], history: [] });
    expect(applyProfile(p, { t: 'N/A' })).toEqual({ values: {}, refused: [], skipped: ['t'], history: [] });
  });
  it('refuses a field that holds no number, and unknown top-level fields unless ignored', () => {
    const p = profile([{ source: 't', quantity: 'soil_temperature' }], { ignore: ['flag'], keep: ['leaf_wetness'] });
    const r = applyProfile(p, { t: 'hot', flag: 1, extra: 2, leaf_wetness: '40' });
    expect(r.values).toEqual({ leaf_wetness: 40 });
    expect(r.refused.map((x) => [x.path, x.code])).toEqual([
      ['t', Errors.profileNoValue.code],
      ['extra', Errors.profileUnmappedField.code],
    ]);
    expect(applyProfile({ ...p, others: 'ignore' }, { extra: 2 }).refused).toEqual([]);
    expect(applyProfile(p, { t: 1e308, flag: 0 }).values).toEqual({ soil_temperature: 1e308 });
    const big = profile([{ source: 't', quantity: 'soil_temperature', scale: 1e308 }]);
    expect(applyProfile(big, { t: 1e10 }).refused[0]!.code).toBe(Errors.readingValueNotFinite.code);
  });

  it('reads buffered readings at their own times with the same mappings, refusing entries that are none', () => {
    const p = profile([{ source: ['moisture', 'humidity'], quantity: 'soil_moisture', unit: '%' }], { ignore: ['moisture_error'], history: { source: 'log.entries', time: 'at' } });
    const r = applyProfile(p, {
      moisture: 30,
      log: { entries: [{ at: 1_796_000_000, moisture: 31.5 }, { at: '1796003600', humidity: '32' }, { at: 1_796_007_200, moisture_error: 'collection failed' }, { at: 1_796_010_800, moisture: 'wet', extra: 1 }, 7, { moisture: 2 }, { at: 'noon', moisture: 2 }] },
    });
    expect(r.values).toEqual({ soil_moisture: 0.3 });
    expect(r.history.map((h) => [h.ts, h.values])).toEqual([
      [1_796_000_000_000, { soil_moisture: 0.315 }],
      [1_796_003_600_000, { soil_moisture: 0.32 }],
      [1_796_007_200_000, {}],
      [1_796_010_800_000, {}],
    ]);
    // An entry's own fields are refused with the entry in their path; what is no timed entry, at the top.
    expect(r.history[3]!.refused.map((x) => [x.path, x.code])).toEqual([
      ['log.entries[3].moisture', Errors.profileNoValue.code],
      ['log.entries[3].extra', Errors.profileUnmappedField.code],
    ]);
    expect(r.refused.map((x) => [x.path, x.code])).toEqual([
      ['log.entries[4]', Errors.profileHistoryInvalid.code],
      ['log.entries[5].at', Errors.profileHistoryInvalid.code],
      ['log.entries[6].at', Errors.profileHistoryInvalid.code],
    ]);
    const ms = profile([{ source: 'm', quantity: 'soil_moisture' }], { history: { source: 'h', time: 't', timeUnit: 'ms' } });
    expect(applyProfile(ms, { h: [{ t: 1_796_000_000_123, m: 0.2 }] }).history).toEqual([{ ts: 1_796_000_000_123, values: { soil_moisture: 0.2 }, refused: [], skipped: [] }]);
    expect(applyProfile(ms, { h: [{ t: 1e300, m: 0.2 }] }).refused[0]).toMatchObject({ path: 'h[0].t', code: Errors.profileHistoryInvalid.code });
    expect(applyProfile(ms, { h: { t: 1, m: 0.2 } }).refused).toEqual([{ path: 'h', code: Errors.profileHistoryInvalid.code, message: 'h is not an array of buffered readings' }]);
    expect(applyProfile(ms, { h: Array.from({ length: 257 }, (_, i) => ({ t: i, m: 0.2 })) })).toMatchObject({ history: [], refused: [{ path: 'h', message: 'h holds 257 entries, more than 256' }] });
    expect(applyProfile(ms, { m: 0.1 }).history).toEqual([]);
    expect(problemsOf(() => profile([], { history: { source: '[0]', time: 't' } }))).toEqual(['p.json: history.source: a path starts with a field name']);
    expect(problemsOf(() => profile([], { history: { source: 'h', time: 't', timeUnit: 'min' } }))[0]).toMatch(/^p\.json: history\.timeUnit: /);
  });
});

describe('profile files', () => {
  it('name the file and the path inside it', () => {
    expect(problemsOf(() => profile([{ source: 'a', quantity: 'soil_ec', unit: 'furlong' }]))).toEqual(['p.json: mappings[0].unit: unknown unit "furlong"']);
    expect(problemsOf(() => profile([{ source: 'a', quantity: 'soil_ec', unit: 'V' }]))[0]).toMatch(/^p\.json: mappings\[0\]\.unit: unit "V" \(voltage\) does not convert/);
    expect(problemsOf(() => profile([{ source: 'a', quantity: 'soil_ec', typo: 1 }]))[0]).toMatch(/^p\.json: mappings\[0\]: /);
    expect(problemsOf(() => profile([{ source: ['a', 'b['], quantity: 'soil_ec' }]))[0]).toMatch(/^p\.json: mappings\[0\]\.source\[1\]: /);
    expect(problemsOf(() => profile([{ source: 'a', quantity: 'constructor' }]))).toEqual(['p.json: mappings[0].quantity: a quantity cannot be a member of every JavaScript object']);
    expect(problemsOf(() => profile([{ source: 'a', quantity: 'x', unit: '%' }]))[0]).toMatch(/x is not one/);
    expect(problemsOf(() => profile([{ source: 'a', quantity: 'rssi' }, { source: 'b', quantity: 'rssi' }]))[0]).toMatch(/mappings\[1\]\.quantity: rssi is mapped twice/);
  });

  it('load from folders: bad JSON, a name unlike the file, a shipped name reused, a clash of matches', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fh-profiles-'));
    const shipped = join(dir, 'shipped');
    const farm = join(dir, 'farm');
    mkdirSync(shipped);
    mkdirSync(farm);
    const file = (d: string, n: string, body: unknown) => writeFileSync(join(d, n), typeof body === 'string' ? body : JSON.stringify(body));
    file(shipped, 'a.json', { name: 'a', match: { chirpstack: ['A'] }, mappings: [{ source: 'x', quantity: 'rssi' }] });
    file(farm, 'mine.json', { name: 'mine', mappings: [{ source: 'x', quantity: 'soil_ec', unit: 'mS/m' }] });
    expect(loadProfiles({ shippedDir: shipped, extraDir: farm }).names()).toEqual(['a', 'mine']);
    file(farm, 'broken.json', '{');
    file(farm, 'other.json', { name: 'different', mappings: [] });
    file(farm, 'bad-unit.json', { name: 'bad-unit', mappings: [{ source: 'x', quantity: 'soil_ec' }, { source: 'y', quantity: 'rssi', unit: 'mW' }] });
    const problems = problemsOf(() => loadProfiles({ shippedDir: shipped, extraDir: farm }));
    expect(problems).toEqual([
      `${farm}/bad-unit.json: mappings[1].unit: unknown unit "mW"`,
      expect.stringMatching(new RegExp(`^${farm}/broken\\.json: not JSON`)),
      `${farm}/other.json: name: "different" differs from the file name`,
    ]);
    const clash = join(dir, 'clash');
    mkdirSync(clash);
    file(clash, 'a.json', { name: 'a', mappings: [] });
    file(clash, 'b.json', { name: 'b', match: { chirpstack: ['A'] }, mappings: [] });
    expect(problemsOf(() => loadProfiles({ shippedDir: shipped, extraDir: clash }))).toEqual(['profile a is defined twice', 'b: match.chirpstack: "A" is also matched by a']);
  });
});
