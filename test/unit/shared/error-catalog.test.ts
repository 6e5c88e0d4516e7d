/**
 * The error catalog is the one definition of every `FH_ERR_*` code. These tests keep it that way,
 * as Fastify's test of its Errors.md does: docs/errors.md is exactly what the catalog renders,
 * the README and the other docs name only codes the catalog has (with the catalog's status), and
 * no source file under services/ spells a code as a string literal of its own.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, Errors, areaOf, renderErrorDocs } from '../../../services/shared/error-catalog.js';
import { FieldhookError, type ErrorFactory } from '../../../services/shared/errors.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CATALOG_FILE = 'services/shared/error-catalog.ts';
const CODE_PATTERN = /^FH_ERR_[A-Z]+(_[A-Z0-9]+)*$/;
/** A code as prose mentions it; `FH_ERR_READING_*` stands for every code with that prefix. */
const MENTION = /\bFH_ERR_(?:[A-Z0-9]+_)*(?:[A-Z0-9]+\b|\*)/g;

const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const entries: readonly [string, ErrorFactory][] = Object.entries(Errors);
const catalogStatus = new Map(entries.map(([, e]) => [e.code, e.statusCode]));

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((d) => {
    const path = `${dir}/${d.name}`;
    if (d.isDirectory()) return sourceFiles(path);
    return d.isFile() && d.name.endsWith('.ts') && !d.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** String and template literals of a TypeScript file that contain `FH_ERR_` (comments do not count). */
function errorCodeLiterals(fileName: string, text: string): { line: number; text: string }[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const found: { line: number; text: string }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteralLike(node) || ts.isTemplateLiteralToken(node)) {
      if (node.text.includes('FH_ERR_')) {
        found.push({ line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1, text: node.text });
      }
    }
    node.forEachChild(visit);
  };
  visit(source);
  return found;
}

/** Codes a Markdown or source text names that the catalog lacks (a wildcard must match at least one code). */
function unknownMentions(text: string): string[] {
  return [...new Set(text.match(MENTION) ?? [])].filter((m) =>
    m.endsWith('*') ? !ERROR_CODES.some((c) => c.startsWith(m.slice(0, -1))) : !catalogStatus.has(m),
  );
}

const camelCaseOf = (code: string) =>
  code
    .slice('FH_ERR_'.length)
    .toLowerCase()
    .replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

describe('error catalog', () => {
  it('defines each code once, in the FH_ERR_<AREA>_<WHAT> form', () => {
    expect(ERROR_CODES.length).toBeGreaterThan(0);
    const repeated = ERROR_CODES.filter((c, i) => ERROR_CODES.indexOf(c) !== i);
    expect(repeated).toEqual([]);
    expect(ERROR_CODES.filter((c) => !CODE_PATTERN.test(c))).toEqual([]);
  });

  it('names each entry after its code (FH_ERR_READING_TS_MISSING is readingTsMissing)', () => {
    expect(entries.filter(([name, e]) => name !== camelCaseOf(e.code)).map(([name, e]) => `${name}: ${e.code}`)).toEqual([]);
  });

  it('gives each code an error status and a one-line meaning', () => {
    for (const [name, e] of entries) {
      expect(e.statusCode, name).toBeGreaterThanOrEqual(400);
      expect(e.statusCode, name).toBeLessThan(600);
      expect(e.meaning.trim(), name).not.toBe('');
      expect(e.meaning, name).not.toMatch(/\n/);
      expect(e.defaultMessage.trim(), name).not.toBe('');
    }
  });

  it('builds errors that carry the code, status and message (the default one unless given)', () => {
    const plain = Errors.readingTsMissing();
    expect(plain).toBeInstanceOf(FieldhookError);
    expect([plain.code, plain.statusCode, plain.message]).toEqual(['FH_ERR_READING_TS_MISSING', 400, 'ts is required']);
    const custom = Errors.ingestBackpressure('later', { retryAfterS: 30 });
    expect([custom.code, custom.statusCode, custom.message, custom.details]).toEqual(['FH_ERR_INGEST_BACKPRESSURE', 429, 'later', { retryAfterS: 30 }]);
  });

  it('keeps the codes and statuses clients already rely on', () => {
    // A sample across areas: changing any of these breaks clients, so it must be a deliberate edit here too.
    expect(Object.fromEntries(
      [Errors.authMissing, Errors.ingestSpoolFull, Errors.httpUnsupportedMediaType, Errors.webhookTimeout, Errors.predictHistory, Errors.cliUnreachable].map((e) => [e.code, e.statusCode]),
    )).toEqual({
      FH_ERR_AUTH_MISSING: 401,
      FH_ERR_INGEST_SPOOL_FULL: 503,
      FH_ERR_HTTP_UNSUPPORTED_MEDIA_TYPE: 415,
      FH_ERR_WEBHOOK_TIMEOUT: 504,
      FH_ERR_PREDICT_HISTORY: 502,
      FH_ERR_CLI_UNREACHABLE: 503,
    });
  });

  it('is the only place that calls defineError', () => {
    const callers = sourceFiles('services').filter(
      (f) => f !== CATALOG_FILE && f !== 'services/shared/errors.ts' && /\bdefineError\s*\(/.test(read(f)),
    );
    expect(callers).toEqual([]);
  });

  it('has no per-area error modules beside it: every part imports the catalog', () => {
    const modules = readdirSync(join(ROOT, 'services'))
      .map((area) => `services/${area}/errors.ts`)
      .filter((f) => f !== 'services/shared/errors.ts' && existsSync(join(ROOT, f)));
    expect(modules).toEqual([]);
  });
});

describe('docs/errors.md', () => {
  const doc = read('docs/errors.md');

  it('is what the catalog renders (regenerate: npm run docs:errors)', () => {
    expect(doc).toBe(renderErrorDocs());
  });

  it('has one row per code, with the catalog status, under its area', () => {
    const rows = [...doc.matchAll(/^\| `(FH_ERR_[A-Z0-9_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]);
    expect(rows).toEqual(expect.arrayContaining(entries.map(([, e]) => [e.code, e.statusCode])));
    expect(rows).toHaveLength(entries.length);
    // The refusal codes of single readings are grouped under their own heading.
    const readingSection = doc.slice(doc.indexOf('## Refused readings'), doc.indexOf('\n## ', doc.indexOf('## Refused readings') + 1));
    const readingCodes = ERROR_CODES.filter((c) => areaOf(c) === 'READING');
    expect(readingCodes.length).toBeGreaterThan(0);
    for (const code of readingCodes) expect(readingSection).toContain(`\`${code}\``);
  });
});

describe('README and docs', () => {
  const readme = read('README.md');

  it('the README points at docs/errors.md and its generator', () => {
    expect(readme).toContain('](docs/errors.md)');
    expect(readme).toContain('npm run docs:errors');
  });

  it('the README names only catalog codes, each with the catalog status', () => {
    expect(unknownMentions(readme)).toEqual([]);
    // Table rows `| 401 | `FH_ERR_A`, `FH_ERR_B` | … |` state a status for every code in the row.
    const stated = [...readme.matchAll(/^\| (\d{3}) \| ([^|]*) \|/gm)].flatMap((m) =>
      (m[2]!.match(MENTION) ?? []).map((code) => `${code} ${m[1]}`),
    );
    expect(stated.length).toBeGreaterThan(0);
    expect(stated.filter((s) => {
      const [code, status] = s.split(' ');
      return catalogStatus.get(code!) !== Number(status);
    })).toEqual([]);
  });

  it('the other docs name only catalog codes', () => {
    const docs = readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md') && f !== 'errors.md');
    expect(docs.flatMap((f) => unknownMentions(read(`docs/${f}`)).map((m) => `docs/${f}: ${m}`))).toEqual([]);
  });

  it('recognises an unknown code, a wildcard that matches nothing, and a good mention', () => {
    expect(unknownMentions('`FH_ERR_NO_SUCH_THING` and `FH_ERR_NOPE_*`')).toEqual(['FH_ERR_NO_SUCH_THING', 'FH_ERR_NOPE_*']);
    expect(unknownMentions('`FH_ERR_READING_TS_MISSING`, any `FH_ERR_READING_*` or `FH_ERR_*`')).toEqual([]);
  });
});

describe('source under services/', () => {
  const files = sourceFiles('services');

  it('spells no FH_ERR_ code as a string literal outside the catalog (use Errors.x or Errors.x.code)', () => {
    expect(files).toContain(CATALOG_FILE);
    const literals = files
      .filter((f) => f !== CATALOG_FILE)
      .flatMap((f) => errorCodeLiterals(f, read(f)).map((l) => `${f}:${l.line}: '${l.text}'`));
    expect(literals).toEqual([]);
  });

  it('names only catalog codes in comments too', () => {
    const stale = files.flatMap((f) => unknownMentions(read(f)).map((m) => `${f}: ${m}`));
    expect(stale).toEqual([]);
  });

  it('the literal scan finds codes in strings and templates, not in comments', () => {
    const sample = [
      "// FH_ERR_IN_A_COMMENT is prose",
      "/** Throws `FH_ERR_IN_JSDOC`. */",
      "const a = 'FH_ERR_SINGLE';",
      'const b = { code: "FH_ERR_DOUBLE" };',
      'const c = `FH_ERR_TEMPLATE_${a}`;',
      'const d = Errors.readingTsMissing.code;',
    ].join('\n');
    expect(errorCodeLiterals('sample.ts', sample)).toEqual([
      { line: 3, text: 'FH_ERR_SINGLE' },
      { line: 4, text: 'FH_ERR_DOUBLE' },
      { line: 5, text: 'FH_ERR_TEMPLATE_' },
    ]);
  });
});
