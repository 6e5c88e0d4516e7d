import type { z } from 'zod';
import type { ConfigShape } from './config.js';

/** What a secret setting's value is replaced with wherever settings are shown. */
export const REDACTED = '[redacted]';

/** What a password or a query value inside a URL is replaced with. */
export const URL_MASK = '***';

const secretSchemas = new WeakSet<z.ZodType>();

/**
 * Declare a setting secret: `config show` prints it as `[redacted]`, logs never carry it. Wrap the
 * whole schema entry, descriptions and defaults included (`secret(z.string().optional().describe(…))`),
 * since every zod method returns a new schema.
 */
export function secret<T extends z.ZodType>(schema: T): T {
  secretSchemas.add(schema);
  return schema;
}

export function isSecretSchema(schema: z.ZodType): boolean {
  return secretSchemas.has(schema);
}

/** The keys of `shape` declared with {@link secret}. */
export function secretSettingKeys(shape: ConfigShape): string[] {
  return Object.keys(shape).filter((key) => isSecretSchema(shape[key]!));
}

const URL_PARTS = /^([a-z][a-z0-9+.-]*:\/\/)(?:([^/?#]*)@)?([^?#]*)(\?[^#]*)?(#.*)?$/i;
/** A request target as an HTTP server sees it (`/write?db=a&p=…`): a path with a query. */
const REQUEST_TARGET = /^(\/[^?#\s]*)(\?[^#\s]*)(#\S*)?$/;

/** `?a=1&b` with every value masked: `?a=***&b`. */
function maskQuery(query: string): string {
  const params = query
    .slice(1)
    .split('&')
    .map((param) => {
      const eq = param.indexOf('=');
      return eq >= 0 && eq < param.length - 1 ? `${param.slice(0, eq + 1)}${URL_MASK}` : param;
    });
  return `?${params.join('&')}`;
}

/**
 * A URL with its credentials masked: the password of the userinfo (`mqtt://user:***@host`), a
 * userinfo without a password as a whole (`https://***@host`: a lone user part is often a token)
 * and every query value (`?token=***`). A request target (`/write?u=n1&p=***`, how a server sees
 * a URL: the 1.x write API takes a device's password as `p=`) has its query values masked too.
 * Anything else, and a string that is neither, is returned unchanged, character for character.
 */
export function redactUrl(value: string): string {
  const target = REQUEST_TARGET.exec(value);
  if (target) return target[1]! + maskQuery(target[2]!) + (target[3] ?? '');
  const parts = URL_PARTS.exec(value);
  if (!parts) return value;
  const [, scheme, userinfo, rest, query, fragment] = parts;
  let out = scheme!;
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(':');
    out += colon >= 0 ? `${userinfo.slice(0, colon)}:${URL_MASK}@` : `${URL_MASK}@`;
  }
  out += rest;
  if (query !== undefined) out += maskQuery(query);
  return out + (fragment ?? '');
}

const URLS_IN_TEXT = /[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi;

/**
 * {@link redactUrl} applied to every `scheme://…` URL inside free text (log messages), and to a
 * string that is a request target as a whole (a logged `url: '/write?p=…'`).
 */
export function redactUrlsInText(text: string): string {
  if (text.startsWith('/') && text.includes('?')) return redactUrl(text);
  return text.includes('://') ? text.replace(URLS_IN_TEXT, redactUrl) : text;
}

/**
 * Effective settings as they may be shown: values of settings declared {@link secret} become
 * `[redacted]` (an unset or empty one stays visible as such), URLs lose their credentials
 * ({@link redactUrl}); every other value (durations, sizes, names, paths) is shown as it is.
 */
export function redactSettings(shape: ConfigShape, values: Record<string, unknown>): Record<string, unknown> {
  const shown: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values)) {
    const schema = shape[key];
    if (schema && isSecretSchema(schema)) shown[key] = value === undefined || value === '' ? value : REDACTED;
    else shown[key] = typeof value === 'string' ? redactUrl(value) : value;
  }
  return shown;
}
