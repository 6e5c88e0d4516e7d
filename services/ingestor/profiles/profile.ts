import { z } from 'zod';
import { Errors } from '../../shared/error-catalog.js';
import { CANONICAL_QUANTITIES, MAX_QUANTITY_NAME_LENGTH, QUANTITY_NAME_PATTERN } from '../../shared/quantities.js';
import { converter } from './units.js';

/**
 * Device profiles: a vendor codec's decoded payload (names, units, numbers as strings, sentinels)
 * mapped onto fieldhook's canonical quantities. This module is pure: the format ({@link
 * PROFILE_SCHEMA}), the compiled form ({@link compileProfile}) and {@link applyProfile}. Files are
 * read by ./load.ts; the format is documented in docs/devices.md.
 *
 * A decoded payload is untrusted: every lookup is an own property (Object.hasOwn) or an array
 * index below the length, a path has at most {@link MAX_PATH_SEGMENTS} steps, and nothing here
 * throws on any JSON value (test/unit/ingestor/profiles/apply.fuzz.test.ts).
 */

/** Most steps of a source path (`a.b[0].c` has four). */
export const MAX_PATH_SEGMENTS = 8;
/** Longest profile name: a file name without `.json`, also used on the command line. */
export const PROFILE_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** One step of a source path: an own key, an array index, or the first array element whose `key` is `equals`. */
export type PathSegment =
  | { kind: 'key'; key: string }
  | { kind: 'index'; index: number }
  | { kind: 'match'; key: string; equals: string };

const KEY = String.raw`[^.\[\]=]+`;
const SEGMENT = new RegExp(String.raw`^(?:(${KEY})|\[(\d{1,6})\]|\[(${KEY})=([^\]]*)\])`);

/**
 * `measurements[0].value`, `messages[measurementId=4102].measurementValue`, `soil.moisture`: the
 * steps, or a sentence saying what is wrong.
 */
export function parsePath(path: string): PathSegment[] | string {
  if (path.length === 0) return 'empty path';
  if (path.length > 256) return 'path longer than 256 characters';
  const out: PathSegment[] = [];
  let rest = path;
  let first = true;
  while (rest.length > 0) {
    if (!first && !rest.startsWith('[')) {
      if (!rest.startsWith('.')) return `unexpected ${JSON.stringify(rest[0])} in ${JSON.stringify(path)}`;
      rest = rest.slice(1);
    }
    const m = SEGMENT.exec(rest);
    if (!m) return `cannot read ${JSON.stringify(rest)} in ${JSON.stringify(path)}`;
    if (m[1] !== undefined) out.push({ kind: 'key', key: m[1] });
    else if (m[2] !== undefined) out.push({ kind: 'index', index: Number(m[2]) });
    else out.push({ kind: 'match', key: m[3]!, equals: m[4]! });
    rest = rest.slice(m[0].length);
    first = false;
    if (out.length > MAX_PATH_SEGMENTS) return `more than ${MAX_PATH_SEGMENTS} steps`;
  }
  return out;
}

/** Names every plain object answers: never a quantity. */
const RESERVED_NAMES = new Set(Object.getOwnPropertyNames(Object.prototype));

const sentinel = z.union([z.number(), z.string()]);
const quantityName = z
  .string()
  .max(MAX_QUANTITY_NAME_LENGTH)
  .regex(QUANTITY_NAME_PATTERN, 'a quantity is a letter followed by letters, digits and _')
  .refine((name) => !RESERVED_NAMES.has(name), 'a quantity cannot be a member of every JavaScript object');

const MAPPING = z.strictObject({
  /** Where the value is: a path, or alternatives tried in order (the first present wins). */
  source: z.union([z.string(), z.array(z.string()).min(1).max(8)]),
  /** The canonical (or declared extra) quantity it becomes. */
  quantity: quantityName,
  /** The unit the codec reports; converted to the quantity's canonical unit. Omitted: already canonical. */
  unit: z.string().optional(),
  /** value × scale + offset, before the unit conversion. */
  scale: z.number().finite().optional(),
  offset: z.number().finite().optional(),
  /** Raw values that mean "no reading" (a probe not connected): the field is skipped, not refused. */
  noReading: z.array(sentinel).max(32).optional(),
});

/** The file format (JSON), one profile per file named `<name>.json`. */
export const PROFILE_SCHEMA = z.strictObject({
  name: z.string().regex(PROFILE_NAME_PATTERN, 'a name is lower-case letters, digits, ".", "_" and "-"'),
  description: z.string().max(500).optional(),
  /** Where the decoded payloads of the tests came from. */
  source: z.string().max(500).optional(),
  /** Which uplinks select this profile. */
  match: z
    .strictObject({
      /** ChirpStack device-profile names (v4 `deviceInfo.deviceProfileName`, v3 `deviceProfileName`). */
      chirpstack: z.array(z.string().min(1).max(200)).max(32).optional(),
      /** The Things Stack `end_device_ids.version_ids`: brand and model as in the Device Repository. */
      ttn: z.array(z.strictObject({ brand: z.string().min(1).max(100), model: z.string().min(1).max(100) })).max(32).optional(),
    })
    .optional(),
  mappings: z.array(MAPPING).max(256),
  /** Top-level fields kept under their own name (a canonical or declared extra quantity). */
  keep: z.array(quantityName).max(256).optional(),
  /** Top-level fields dropped silently. */
  ignore: z.array(z.string().min(1).max(200)).max(256).optional(),
  /** Top-level fields no mapping, `keep` or `ignore` names: refused (the default) or ignored. */
  others: z.enum(['refuse', 'ignore']).optional(),
  /**
   * Readings the node kept while it could not send and sends later, each with its own time (the
   * Milesight EM500 `history` frames): an array of objects, each read with the same mappings,
   * `keep`, `ignore` and `others` as the payload.
   */
  history: z
    .strictObject({
      /** Path to the array. */
      source: z.string(),
      /** The key of an entry that holds its time. */
      time: z.string().min(1).max(200),
      /** What that time counts since 1970: seconds (the default) or milliseconds. */
      timeUnit: z.enum(['s', 'ms']).optional(),
    })
    .optional(),
});

export type ProfileFile = z.infer<typeof PROFILE_SCHEMA>;

/** A mapping ready to apply: paths parsed, unit conversion chosen. */
export interface CompiledMapping {
  sources: readonly { path: string; segments: readonly PathSegment[] }[];
  quantity: string;
  scale: number;
  offset: number;
  convert: (value: number) => number;
  noReadingNumbers: ReadonlySet<number>;
  noReadingStrings: ReadonlySet<string>;
}

export interface Profile {
  name: string;
  description?: string;
  source?: string;
  chirpstack: readonly string[];
  ttn: readonly { brand: string; model: string }[];
  mappings: readonly CompiledMapping[];
  /** Top-level keys a mapping, `keep` or `ignore` accounts for. */
  known: ReadonlySet<string>;
  others: 'refuse' | 'ignore';
  /** Where buffered readings are, and how their times read. */
  history?: { path: string; segments: readonly PathSegment[]; timeKey: string; unitMs: number };
  /** The file as written, for `fieldhook profiles show`. */
  file: ProfileFile;
}

/** `mappings[2].unit`: a zod issue path as the documentation writes it. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const step of path) out += typeof step === 'number' ? `[${step}]` : `${out ? '.' : ''}${String(step)}`;
  return out || '(file)';
}

/**
 * A parsed JSON value as a profile, or the list of problems (`path: what`), each naming where in
 * the file it is. `fileName` is only used in the error's message.
 */
export function compileProfile(json: unknown, fileName: string): Profile {
  const parsed = PROFILE_SCHEMA.safeParse(json);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${fileName}: ${formatIssuePath(issue.path)}: ${issue.message}`);
    throw Errors.profileInvalid(problems.join('\n'), { problems });
  }
  const file = parsed.data;
  const known = new Set<string>();
  const mappings: CompiledMapping[] = [];
  file.mappings.forEach((m, i) => {
    const sources: { path: string; segments: PathSegment[] }[] = [];
    const list = typeof m.source === 'string' ? [m.source] : m.source;
    list.forEach((path, j) => {
      const segments = parsePath(path);
      const at = typeof m.source === 'string' ? `mappings[${i}].source` : `mappings[${i}].source[${j}]`;
      if (typeof segments === 'string') problems.push(`${fileName}: ${at}: ${segments}`);
      else if (segments[0]!.kind !== 'key') problems.push(`${fileName}: ${at}: a path starts with a field name`);
      else {
        sources.push({ path, segments });
        known.add((segments[0] as { key: string }).key);
      }
    });
    const canonical = Object.hasOwn(CANONICAL_QUANTITIES, m.quantity)
      ? CANONICAL_QUANTITIES[m.quantity as keyof typeof CANONICAL_QUANTITIES]
      : undefined;
    let convert: (value: number) => number = (v) => v;
    if (m.unit !== undefined) {
      if (!canonical) problems.push(`${fileName}: mappings[${i}].unit: a unit converts to a canonical quantity; ${m.quantity} is not one`);
      else {
        const c = converter(m.unit, canonical.unit);
        if (typeof c === 'string') problems.push(`${fileName}: mappings[${i}].unit: ${c}`);
        else convert = c;
      }
    }
    mappings.push({
      sources,
      quantity: m.quantity,
      scale: m.scale ?? 1,
      offset: m.offset ?? 0,
      convert,
      noReadingNumbers: new Set((m.noReading ?? []).filter((s): s is number => typeof s === 'number')),
      noReadingStrings: new Set((m.noReading ?? []).filter((s): s is string => typeof s === 'string')),
    });
  });
  for (const name of file.keep ?? []) known.add(name);
  for (const name of file.ignore ?? []) known.add(name);
  let history: Profile['history'];
  if (file.history) {
    const segments = parsePath(file.history.source);
    if (typeof segments === 'string') problems.push(`${fileName}: history.source: ${segments}`);
    else if (segments[0]!.kind !== 'key') problems.push(`${fileName}: history.source: a path starts with a field name`);
    else {
      known.add((segments[0] as { key: string }).key);
      history = { path: file.history.source, segments, timeKey: file.history.time, unitMs: file.history.timeUnit === 'ms' ? 1 : 1000 };
    }
  }
  const targets = new Set<string>();
  file.mappings.forEach((m, i) => {
    if (targets.has(m.quantity)) problems.push(`${fileName}: mappings[${i}].quantity: ${m.quantity} is mapped twice`);
    targets.add(m.quantity);
  });
  (file.keep ?? []).forEach((name, i) => {
    if (targets.has(name)) problems.push(`${fileName}: keep[${i}]: ${name} is also the quantity of a mapping`);
    targets.add(name);
  });
  if (problems.length > 0) throw Errors.profileInvalid(problems.join('\n'), { problems });
  return {
    name: file.name,
    ...(file.description !== undefined ? { description: file.description } : {}),
    ...(file.source !== undefined ? { source: file.source } : {}),
    chirpstack: file.match?.chirpstack ?? [],
    ttn: file.match?.ttn ?? [],
    mappings,
    known,
    others: file.others ?? 'refuse',
    ...(history ? { history } : {}),
    file,
  };
}

/** Why one field of a decoded payload gave no reading: a catalog code, a sentence, the field's path. */
export interface FieldRefusal {
  path: string;
  code: string;
  message: string;
}

export interface ProfileResult {
  /** Quantity → value in its canonical unit (ranges are checked by ingest, as for any reading). */
  values: Record<string, number>;
  refused: FieldRefusal[];
  /** Fields that held a "no reading" value. */
  skipped: string[];
  /**
   * The buffered readings (`history`), each read as the payload is, at its own time (epoch ms), in
   * the payload's order; an entry that cannot be one is among `refused` instead.
   */
  history: BufferedReading[];
}

export interface BufferedReading {
  ts: number;
  values: Record<string, number>;
  refused: FieldRefusal[];
  skipped: string[];
}

/** Most buffered readings one payload may carry (an EM500's frame holds about 20). */
export const MAX_HISTORY_ENTRIES = 256;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** At most this many elements are looked at for one `[key=value]` step, nested arrays included. */
const MATCH_SCAN_LIMIT = 4096;
/** Arrays nested deeper than this are not searched. */
const MATCH_NESTING_LIMIT = 4;

/**
 * The first object, in document order, whose `key` holds `equals` (compared as text: `"4097"`
 * matches 4097): in the array or in arrays nested in it, because decoders group measurements so
 * (the SenseCAP S2120's `messages` is an array of arrays, one per frame part).
 */
function findMatch(array: readonly unknown[], key: string, equals: string, budget: { left: number }, depth: number): unknown {
  for (const el of array) {
    if (budget.left-- <= 0) return undefined;
    if (Array.isArray(el)) {
      const inner = depth < MATCH_NESTING_LIMIT ? findMatch(el, key, equals, budget, depth + 1) : undefined;
      if (inner !== undefined) return inner;
      continue;
    }
    if (!isObject(el) || !Object.hasOwn(el, key)) continue;
    const v = el[key];
    if ((typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') && String(v) === equals) return el;
  }
  return undefined;
}

/** The value at a path, or undefined when any step is absent: own keys and in-range indices only. */
export function resolvePath(root: unknown, segments: readonly PathSegment[]): unknown {
  let at: unknown = root;
  for (const s of segments) {
    if (s.kind === 'key') {
      if (!isObject(at) || !Object.hasOwn(at, s.key)) return undefined;
      at = at[s.key];
    } else if (s.kind === 'index') {
      if (!Array.isArray(at) || s.index >= at.length) return undefined;
      at = at[s.index];
    } else {
      if (!Array.isArray(at)) return undefined;
      const found = findMatch(at, s.key, s.equals, { left: MATCH_SCAN_LIMIT }, 0);
      if (found === undefined) return undefined;
      at = found;
    }
  }
  return at;
}

/** A decimal number written as a string (`"19.57"`, `" -3e2 "`); hex, `Infinity`, `""` are not. */
const NUMERIC = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A JSON number, or a string of at most `maxLength` holding a decimal one; undefined otherwise. */
function numberIn(raw: unknown, maxLength: number): number | undefined {
  if (typeof raw === 'number') return raw;
  return typeof raw === 'string' && raw.length <= maxLength && NUMERIC.test(raw.trim()) ? Number(raw.trim()) : undefined;
}

/** The text shown for a field name in a refusal: bounded, so a refusal never repeats a huge key. */
const shown = (text: string) => (text.length <= 80 ? text : `${text.slice(0, 80)}…`);

type Outcome = { ok: true; value: number } | { ok: false; code: string; message: string } | { ok: false; noReading: true };

function mapValue(raw: unknown, m: CompiledMapping): Outcome {
  if (typeof raw === 'number' && m.noReadingNumbers.has(raw)) return { ok: false, noReading: true };
  if (typeof raw === 'string' && m.noReadingStrings.has(raw)) return { ok: false, noReading: true };
  const n = numberIn(raw, 64);
  if (n === undefined) {
    const what = raw === null ? 'null' : Array.isArray(raw) ? 'an array' : typeof raw === 'string' ? 'text' : typeof raw === 'object' ? 'an object' : `a ${typeof raw}`;
    return { ok: false, code: Errors.profileNoValue.code, message: `holds ${what}, not a number` };
  }
  // A numeric string may spell a "no reading" number (`"-327.68"`).
  if (typeof raw === 'string' && m.noReadingNumbers.has(n)) return { ok: false, noReading: true };
  if (!Number.isFinite(n)) return { ok: false, code: Errors.readingValueNotFinite.code, message: 'is not finite' };
  const value = m.convert(n * m.scale + m.offset);
  if (!Number.isFinite(value)) return { ok: false, code: Errors.readingValueNotFinite.code, message: 'is not finite once scaled and converted' };
  return { ok: true, value };
}

/**
 * A decoded payload through a profile: each mapping's first present source is read, parsed
 * (a number, or a string holding one), checked against its "no reading" values, scaled, offset and
 * converted. A field that is absent gives nothing; one that cannot be mapped is refused with its
 * path and a catalog code. Never throws; the result's objects have no inherited keys of concern
 * (values are defined with Object.fromEntries, so `__proto__` would be a plain own key).
 */
export function applyProfile(profile: Profile, decoded: unknown): ProfileResult {
  if (!isObject(decoded)) {
    return { values: {}, refused: [{ path: '(payload)', code: Errors.readingNotObject.code, message: 'the decoded payload is not an object' }], skipped: [], history: [] };
  }
  const read = readFields(profile, decoded, '');
  return { ...read, history: profile.history ? readHistory(profile, profile.history, decoded, read.refused) : [] };
}

/** The fields of one object (the payload, or one buffered entry whose paths start with `prefix`). */
function readFields(profile: Profile, decoded: Record<string, unknown>, prefix: string, timeKey?: string): Omit<ProfileResult, 'history'> {
  const values = new Map<string, number>();
  const refused: FieldRefusal[] = [];
  const skipped: string[] = [];
  for (const m of profile.mappings) {
    let path: string | undefined;
    let raw: unknown;
    for (const s of m.sources) {
      const v = resolvePath(decoded, s.segments);
      if (v !== undefined) {
        path = prefix + s.path;
        raw = v;
        break;
      }
    }
    if (path === undefined) continue;
    const outcome = mapValue(raw, m);
    if (outcome.ok) values.set(m.quantity, outcome.value);
    else if ('noReading' in outcome) skipped.push(path);
    else refused.push({ path, code: outcome.code, message: `${path} (${m.quantity}) ${outcome.message}` });
  }
  for (const key of Object.keys(decoded)) {
    if (profile.known.has(key) || key === timeKey) continue;
    if (profile.others === 'refuse') {
      refused.push({ path: prefix + shown(key), code: Errors.profileUnmappedField.code, message: `${prefix}${shown(key)} is not in profile ${profile.name}` });
    }
  }
  for (const name of profile.file.keep ?? []) {
    if (!Object.hasOwn(decoded, name)) continue;
    const outcome = mapValue(decoded[name], KEEP);
    if (outcome.ok) values.set(name, outcome.value);
    else if (!('noReading' in outcome)) refused.push({ path: prefix + name, code: outcome.code, message: `${prefix}${name} ${outcome.message}` });
  }
  return { values: Object.fromEntries(values), refused, skipped };
}

/** The buffered entries, each read as the payload is; what is not a timed entry is refused into `refused`. */
function readHistory(profile: Profile, history: NonNullable<Profile['history']>, decoded: Record<string, unknown>, refused: FieldRefusal[]): BufferedReading[] {
  const entries = resolvePath(decoded, history.segments);
  if (entries === undefined) return [];
  const refuse = (path: string, message: string) => refused.push({ path, code: Errors.profileHistoryInvalid.code, message: `${path} ${message}` });
  if (!Array.isArray(entries)) {
    refuse(history.path, 'is not an array of buffered readings');
    return [];
  }
  if (entries.length > MAX_HISTORY_ENTRIES) {
    refuse(history.path, `holds ${entries.length} entries, more than ${MAX_HISTORY_ENTRIES}`);
    return [];
  }
  const out: BufferedReading[] = [];
  entries.forEach((entry, i) => {
    const at = `${history.path}[${i}]`;
    if (!isObject(entry)) return refuse(at, 'is not an object');
    const raw = Object.hasOwn(entry, history.timeKey) ? entry[history.timeKey] : undefined;
    const ts = (numberIn(raw, 32) ?? Number.NaN) * history.unitMs;
    // Within what a Date holds; how far back or ahead a reading may be is ingest's to say.
    if (!Number.isFinite(ts) || Math.abs(ts) > 8.64e15) return refuse(`${at}.${shown(history.timeKey)}`, 'is not a time');
    out.push({ ts: Math.trunc(ts), ...readFields(profile, entry, `${at}.`, history.timeKey) });
  });
  return out;
}

const KEEP: CompiledMapping = {
  sources: [],
  quantity: '',
  scale: 1,
  offset: 0,
  convert: (v) => v,
  noReadingNumbers: new Set(),
  noReadingStrings: new Set(),
};
