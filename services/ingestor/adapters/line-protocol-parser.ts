/**
 * InfluxDB line protocol, read: `measurement[,tag=value…] field=value[,field=value…] [timestamp]`
 * (https://docs.influxdata.com/influxdb/v2/reference/syntax/line-protocol/). One pass per line, no
 * regular expression over a whole line, no recursion: a body is bounded by its number of lines and
 * each line by its length. Any input is either read into lines or refused with the number of the
 * first bad line (1-based); nothing throws. Tags and fields are Maps, so a key such as
 * `__proto__` is just a key.
 */

export type FieldValue =
  | { type: 'float'; value: number }
  | { type: 'integer'; value: number }
  | { type: 'unsigned'; value: number }
  | { type: 'boolean'; value: boolean }
  | { type: 'string'; value: string };

export interface ParsedLine {
  /** 1-based line number in the body. */
  lineNumber: number;
  measurement: string;
  tags: Map<string, string>;
  fields: Map<string, FieldValue>;
  /** The timestamp as written (an integer in the request's precision), or undefined. */
  timestamp?: bigint;
}

export type ParseResult = { ok: true; lines: ParsedLine[] } | { ok: false; lineNumber: number; message: string };

export interface ParseLimits {
  /** Most points in one body. */
  maxLines: number;
  /** Longest line, characters. */
  maxLineLength: number;
}

export const DEFAULT_PARSE_LIMITS: ParseLimits = { maxLines: 5_000, maxLineLength: 64 * 1024 };

class LineSyntaxError extends Error {}

/** A name as quoted in an error: bounded, so an error never repeats a huge key. */
const shown = (text: string) => (text.length <= 80 ? text : `${text.slice(0, 80)}…`);

const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+i$/;
const UNSIGNED = /^\d+u$/;
const TIMESTAMP = /^-?\d{1,19}$/;
const TRUE = new Set(['t', 'T', 'true', 'True', 'TRUE']);
const FALSE = new Set(['f', 'F', 'false', 'False', 'FALSE']);

/** Reads `text` from `start` up to (not including) the first unescaped stop character. */
function readToken(text: string, start: number, stops: string, escapable: string = stops): { value: string; end: number } {
  let value = '';
  let i = start;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length && (escapable.includes(text[i + 1]!) || text[i + 1] === '\\')) {
      value += text[i + 1];
      i += 2;
      continue;
    }
    if (stops.includes(c)) break;
    value += c;
    i += 1;
  }
  return { value, end: i };
}

function parseFieldValue(raw: string, key: string): FieldValue {
  if (INTEGER.test(raw)) {
    const value = Number(raw.slice(0, -1));
    if (!Number.isSafeInteger(value)) throw new LineSyntaxError(`field ${shown(key)}: integer out of range`);
    return { type: 'integer', value };
  }
  if (UNSIGNED.test(raw)) {
    const value = Number(raw.slice(0, -1));
    if (!Number.isSafeInteger(value)) throw new LineSyntaxError(`field ${shown(key)}: unsigned integer out of range`);
    return { type: 'unsigned', value };
  }
  if (TRUE.has(raw)) return { type: 'boolean', value: true };
  if (FALSE.has(raw)) return { type: 'boolean', value: false };
  if (FLOAT.test(raw)) {
    const value = Number(raw);
    if (!Number.isFinite(value)) throw new LineSyntaxError(`field ${shown(key)}: number out of range`);
    return { type: 'float', value };
  }
  throw new LineSyntaxError(`field ${shown(key)}: invalid value ${JSON.stringify(raw.slice(0, 40))}`);
}

function parseLine(text: string, lineNumber: number): ParsedLine {
  const measurement = readToken(text, 0, ', ');
  if (measurement.value === '') throw new LineSyntaxError('missing measurement');
  let i = measurement.end;
  const tags = new Map<string, string>();
  while (text[i] === ',') {
    const key = readToken(text, i + 1, ',= ');
    if (key.value === '' || text[key.end] !== '=') throw new LineSyntaxError('invalid tag: expected key=value');
    const value = readToken(text, key.end + 1, ', ', ',= ');
    if (value.value === '') throw new LineSyntaxError(`tag ${shown(key.value)}: missing value`);
    tags.set(key.value, value.value);
    i = value.end;
  }
  if (text[i] !== ' ') throw new LineSyntaxError('missing fields');
  while (text[i] === ' ') i += 1;
  const fields = new Map<string, FieldValue>();
  for (;;) {
    const key = readToken(text, i, ',= ');
    if (key.value === '' || text[key.end] !== '=') throw new LineSyntaxError('invalid field: expected key=value');
    i = key.end + 1;
    if (text[i] === '"') {
      let value = '';
      i += 1;
      let closed = false;
      while (i < text.length) {
        const c = text[i]!;
        if (c === '\\' && (text[i + 1] === '"' || text[i + 1] === '\\')) {
          value += text[i + 1];
          i += 2;
          continue;
        }
        if (c === '"') {
          closed = true;
          i += 1;
          break;
        }
        value += c;
        i += 1;
      }
      if (!closed) throw new LineSyntaxError(`field ${shown(key.value)}: unterminated string`);
      fields.set(key.value, { type: 'string', value });
    } else {
      const raw = readToken(text, i, ', ');
      if (raw.value === '') throw new LineSyntaxError(`field ${shown(key.value)}: missing value`);
      fields.set(key.value, parseFieldValue(raw.value, key.value));
      i = raw.end;
    }
    if (text[i] === ',') {
      i += 1;
      continue;
    }
    break;
  }
  if (i >= text.length) return { lineNumber, measurement: measurement.value, tags, fields };
  if (text[i] !== ' ') throw new LineSyntaxError('invalid field set');
  const rest = text.slice(i).trim();
  if (rest === '') return { lineNumber, measurement: measurement.value, tags, fields };
  if (!TIMESTAMP.test(rest)) throw new LineSyntaxError(`invalid timestamp ${JSON.stringify(rest.slice(0, 40))}`);
  return { lineNumber, measurement: measurement.value, tags, fields, timestamp: BigInt(rest) };
}

/** A line that could not be read: its 1-based number and why. */
export interface LineError {
  lineNumber: number;
  message: string;
}

/**
 * Every line of a body read on its own: the points, and each bad line with its reason (InfluxDB
 * writes the good points of a body and reports the bad ones; the caller decides). A body with
 * more than `maxLines` points is refused whole (`tooMany`): it is too large, not partly bad.
 * Blank lines and `#` comments are skipped.
 */
export function readLineProtocol(
  body: string,
  limits: ParseLimits = DEFAULT_PARSE_LIMITS,
): { lines: ParsedLine[]; errors: LineError[]; tooMany?: LineError } {
  const lines: ParsedLine[] = [];
  const errors: LineError[] = [];
  let start = 0;
  let lineNumber = 0;
  while (start <= body.length) {
    let end = body.indexOf('\n', start);
    if (end === -1) end = body.length;
    lineNumber += 1;
    let text = body.slice(start, end);
    start = end + 1;
    if (text.endsWith('\r')) text = text.slice(0, -1);
    const trimmed = text.trimStart();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    if (lines.length + errors.length >= limits.maxLines) {
      return { lines, errors, tooMany: { lineNumber, message: `more than ${limits.maxLines} points in one request` } };
    }
    if (text.length > limits.maxLineLength) {
      errors.push({ lineNumber, message: `line longer than ${limits.maxLineLength} characters` });
      continue;
    }
    try {
      lines.push(parseLine(trimmed, lineNumber));
    } catch (err) {
      errors.push({ lineNumber, message: err instanceof LineSyntaxError ? err.message : 'unreadable line' });
    }
  }
  return { lines, errors };
}

/** Every point of a body, or the first bad line (or the point past `maxLines`). */
export function parseLineProtocol(body: string, limits: ParseLimits = DEFAULT_PARSE_LIMITS): ParseResult {
  const { lines, errors, tooMany } = readLineProtocol(body, limits);
  const first = [...errors, ...(tooMany ? [tooMany] : [])][0];
  return first ? { ok: false, lineNumber: first.lineNumber, message: first.message } : { ok: true, lines };
}
