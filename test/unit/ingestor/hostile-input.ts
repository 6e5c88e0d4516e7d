/**
 * Arbitraries of hostile JSON for the ingest parsers' property tests, and the checks every one of
 * them shares. Inputs are generated as JSON *text* and parsed with `JSON.parse`, as the HTTP layer
 * and the MQTT consumer do: `"__proto__"` is then an own key, exactly as an attacker delivers it.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { parseReading, type ParseResult, type ReadingRules } from '../../../services/ingestor/reading.js';
import { ERROR_CODES } from '../../../services/shared/error-catalog.js';
import { isFieldhookError } from '../../../services/shared/errors.js';
import { buildQuantityTable, CANONICAL_QUANTITIES, quantitySpec } from '../../../services/shared/quantities.js';

export const NOW = Date.parse('2026-11-27T12:00:00Z');
/** Every past time is young enough: the fuzzed times reach the calendar checks, not only the age one. */
export const FUZZ_RULES: ReadingRules = { quantities: buildQuantityTable(), maxFutureMs: 300_000, maxAgeMs: NOW + 1e15 };

/** The same fixed seed for every parser's property, and a bounded number of runs. */
export const FUZZ = { seed: 42, numRuns: 300 } as const;

/** Names every plain object answers through its prototype, and one a polluter would add. */
export const PROTOTYPE_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'toLocaleString',
  '__defineGetter__',
  '__lookupGetter__',
  'polluted',
] as const;

const QUANTITY_NAMES = Object.keys(CANONICAL_QUANTITIES);

const longString = fc.oneof(
  fc.integer({ min: 65, max: 5_000 }).map((n) => 'x'.repeat(n)),
  fc.string({ minLength: 65, maxLength: 300 }),
);

/** A key of an object: prototype members, real quantity names, short noise, long strings. */
export const hostileKey: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...PROTOTYPE_KEYS) },
  { weight: 3, arbitrary: fc.constantFrom(...QUANTITY_NAMES) },
  { weight: 2, arbitrary: fc.string({ maxLength: 10 }) },
  { weight: 1, arbitrary: longString },
);

/** A short key, for the levels of a deep nest. */
const shortKey = fc.oneof(fc.constantFrom(...PROTOTYPE_KEYS, 'soil', 'moisture', 'a'), fc.string({ maxLength: 3 }));

/** Numbers as JSON text: huge, tiny, -0, exponent forms, more digits than a double holds, overflow to Infinity. */
export const hostileNumberText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '1e308',
    '-1e308',
    '1.7976931348623157e308',
    '1E+308',
    '1e309',
    '-1e309',
    '-0',
    '-0.0',
    '0e0',
    '5e-324',
    '1e-400',
    '9007199254740993',
    '123456789012345678901234567890',
    '1796000000',
    '1796000000000',
    '0.2',
    '-80',
    '21.5',
  ),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (Object.is(n, -0) ? '-0' : JSON.stringify(n))),
  fc.integer().map(String),
  fc.integer({ min: 1_700_000_000_000, max: 1_900_000_000_000 }).map(String),
);

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** The parts of an ISO 8601 time, each ranging a little past what exists (month 13, day 32, 24:00, second 60). */
export const isoParts = fc.record({
  year: fc.oneof(fc.integer({ min: 0, max: 9_999 }), fc.integer({ min: 1_996, max: 2_104 })),
  month: fc.integer({ min: 0, max: 13 }),
  day: fc.integer({ min: 0, max: 32 }),
  hour: fc.integer({ min: 0, max: 25 }),
  minute: fc.integer({ min: 0, max: 60 }),
  second: fc.integer({ min: 0, max: 61 }),
  fraction: fc.option(fc.stringMatching(/^\d{1,9}$/), { nil: undefined }),
  zone: fc.oneof(
    fc.constant('Z'),
    fc.record({ sign: fc.constantFrom('+', '-'), hours: fc.integer({ min: 0, max: 25 }), minutes: fc.integer({ min: 0, max: 61 }) }).map(
      ({ sign, hours, minutes }) => `${sign}${pad(hours, 2)}:${pad(minutes, 2)}`,
    ),
  ),
});
export type IsoParts = typeof isoParts extends fc.Arbitrary<infer T> ? T : never;

export const isoText = (p: IsoParts) =>
  `${pad(p.year, 4)}-${pad(p.month, 2)}-${pad(p.day, 2)}T${pad(p.hour, 2)}:${pad(p.minute, 2)}:${pad(p.second, 2)}${p.fraction === undefined ? '' : `.${p.fraction}`}${p.zone}`;

/** A time as JSON text: epoch numbers in every form, ISO strings (possible or not), noise. */
export const hostileTsText: fc.Arbitrary<string> = fc.oneof(
  hostileNumberText,
  isoParts.map((p) => JSON.stringify(isoText(p))),
  fc.constantFrom('"2026-11-31T04:30:00Z"', '"2026-02-29T00:00:00Z"', '"2026-11-26T24:00:00Z"', '"2026-11-26T10:00:00+25:00"', 'null', '{}', '[]'),
  fc.string({ maxLength: 30 }).map((s) => JSON.stringify(s)),
);

const leafText: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: hostileNumberText },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }).map((s) => JSON.stringify(s)) },
  { weight: 1, arbitrary: longString.map((s) => JSON.stringify(s)) },
  { weight: 1, arbitrary: fc.constantFrom('true', 'false', 'null', '{}', '[]') },
);

export const objectText = (entries: readonly (readonly [string, string])[]) =>
  `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;

/** Nested JSON objects and arrays with hostile keys and leaves, a few levels deep. */
export const hostileJsonText: fc.Arbitrary<string> = fc.letrec<{ value: string; object: string; array: string }>((tie) => ({
  value: fc.oneof({ maxDepth: 4, depthSize: 'small' }, leafText, tie('object'), tie('array')),
  object: fc.array(fc.tuple(hostileKey, tie('value')), { maxLength: 6 }).map(objectText),
  array: fc.array(tie('value'), { maxLength: 4 }).map((items) => `[${items.join(',')}]`),
})).value;

/** An object nested `depth` levels deep (up to 20,000), as JSON text: what blows a recursive walker's stack. */
export const deepObjectText: fc.Arbitrary<string> = fc
  .record({
    depth: fc.oneof(fc.integer({ min: 0, max: 12 }), fc.constantFrom(1_000, 5_000, 20_000)),
    key: shortKey,
    leaf: leafText,
  })
  .map(({ depth, key, leaf }) => `${`{${JSON.stringify(key)}:`.repeat(depth)}${leaf}${'}'.repeat(depth)}`);

/** An object as JSON text: a hostile tree or a deep nest. */
export const hostileObjectText: fc.Arbitrary<string> = fc.oneof(
  fc.array(fc.tuple(hostileKey, hostileJsonText), { maxLength: 8 }).map(objectText),
  deepObjectText.map((deep) => (deep.startsWith('{') ? deep : `{"a":${deep}}`)),
);

/** Entries of an object as JSON text: the wanted ones, each sometimes dropped or replaced, plus hostile extras. */
export function envelopeText(wanted: Record<string, fc.Arbitrary<string>>): fc.Arbitrary<string> {
  const fields = Object.entries(wanted).map(([key, value]) =>
    fc.oneof({ weight: 6, arbitrary: value.map((v) => [[key, v] as const]) }, { weight: 1, arbitrary: fc.constant([]) }, {
      weight: 1,
      arbitrary: leafText.map((v) => [[key, v] as const]),
    }),
  );
  return fc
    .tuple(fc.tuple(...fields), fc.array(fc.tuple(hostileKey, hostileJsonText), { maxLength: 3 }))
    .map(([chosen, extra]) => objectText([...chosen.flat(), ...extra]));
}

function snapshot(target: object): Map<string | symbol, unknown> {
  const descriptors = Object.getOwnPropertyDescriptors(target);
  return new Map(Reflect.ownKeys(descriptors).map((k) => {
    const d = descriptors[k as keyof typeof descriptors] as PropertyDescriptor;
    return [k, d.get ?? d.set ?? d.value];
  }));
}

const PROTOTYPES = [Object.prototype, Array.prototype, Function.prototype, String.prototype, Number.prototype] as const;
const before = PROTOTYPES.map(snapshot);

/** Object.prototype and its siblings are exactly as they were when this module loaded. */
export function expectPrototypesIntact(): void {
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(Object.getPrototypeOf(Object.prototype)).toBeNull();
  PROTOTYPES.forEach((proto, i) => expect(snapshot(proto)).toEqual(before[i]));
}

/** A thrown error is a refusal from the catalog (a FieldhookError with a catalog code), nothing else. */
export function expectCatalogRefusal(err: unknown): void {
  if (!isFieldhookError(err)) throw err;
  expect(ERROR_CODES).toContain(err.code);
  expect(err.statusCode).toBeLessThan(500);
  // A refusal repeats a bounded prefix of what it was sent, never the whole of a long name.
  expect(err.message.length).toBeLessThanOrEqual(400);
  for (const value of Object.values(err.details ?? {})) if (typeof value === 'string') expect(value.length).toBeLessThanOrEqual(200);
}

/** A parse result is readings of canonical quantities within their ranges, or a catalog refusal. */
export function expectCanonicalOrRefused(result: ParseResult, rules: ReadingRules = FUZZ_RULES): void {
  if (!result.ok) {
    expect(ERROR_CODES).toContain(result.code);
    expect(result.message.length).toBeLessThanOrEqual(400);
    if (result.field !== undefined) expect(result.field.length).toBeLessThanOrEqual(100);
    return;
  }
  const { values, ts } = result.reading;
  expect(Object.getPrototypeOf(values)).toBe(Object.prototype);
  expect(Number.isSafeInteger(ts)).toBe(true);
  const names = Object.keys(values);
  expect(names.length).toBeGreaterThan(0);
  for (const name of names) {
    const spec = quantitySpec(rules.quantities, name);
    expect(spec, name).toBeDefined();
    const value = values[name]!;
    expect(Number.isFinite(value)).toBe(true);
    expect(value).toBeGreaterThanOrEqual(spec!.min);
    expect(value).toBeLessThanOrEqual(spec!.max);
  }
}

/** Run an adapter on parsed JSON text, then the reading rules on what it gives: every outcome is checked. */
export function expectAdapterOutcome(text: string, adapter: (body: unknown) => readonly unknown[]): void {
  let items: readonly unknown[];
  try {
    items = adapter(JSON.parse(text));
  } catch (err) {
    expectCatalogRefusal(err);
    expectPrototypesIntact();
    return;
  }
  for (const item of items) expectCanonicalOrRefused(parseReading(item, FUZZ_RULES, NOW));
  expectPrototypesIntact();
}
