import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { Errors } from './error-catalog.js';

/** Every setting is read from `FIELDHOOK_<KEY>` in the environment, or `<KEY>` in the config file. */
export const ENV_PREFIX = 'FIELDHOOK_';

/** Env var that names an optional JSON config file; the environment wins over the file. */
export const CONFIG_FILE_ENV = 'FIELDHOOK_CONFIG_FILE';

export type ConfigShape = Record<string, z.ZodType>;

/**
 * Validate settings once at start-up. Values come from the file first, then the environment;
 * the schema coerces strings ("5000", "true") to their types and fills documented defaults.
 */
export function loadConfig<S extends ConfigShape>(
  shape: S,
  env: NodeJS.ProcessEnv = process.env,
  readFile: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): z.infer<z.ZodObject<S>> {
  const fromFile: Record<string, unknown> = {};
  const file = env[CONFIG_FILE_ENV];
  if (file) {
    try {
      Object.assign(fromFile, JSON.parse(readFile(file)) as Record<string, unknown>);
    } catch (err) {
      throw Errors.configFile(`Cannot read config file ${file}: ${(err as Error).message}`);
    }
  }
  const raw: Record<string, unknown> = { ...fromFile };
  for (const key of Object.keys(shape)) {
    const value = env[ENV_PREFIX + key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  let result: ReturnType<ReturnType<typeof z.object>['safeParse']>;
  try {
    result = z.object(shape).strict().safeParse(raw);
  } catch (err) {
    // A preprocessing step (JSON in an env var) threw: still a configuration error, not a crash.
    throw Errors.configInvalid(`Invalid configuration: ${(err as Error).message}`);
  }
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${ENV_PREFIX}${i.path.join('.') || '(file)'}: ${i.message}`);
    throw Errors.configInvalid(`Invalid configuration:\n  ${problems.join('\n  ')}`, {
      problems,
    });
  }
  return result.data as z.infer<z.ZodObject<S>>;
}

/** Booleans from the environment: "true/false/1/0/yes/no". */
export const envBoolean = () =>
  z.union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => ['true', '1', 'yes'].includes(v))]);

/**
 * A shared-subscription group or a client id: it becomes `$share/<group>/<filter>`, where `/`, `+`
 * and `#` are not allowed (MQTT 5 §4.8.2; a `/` would make another filter of it, silently), and a
 * session's name; plain id characters only.
 */
export const mqttName = () =>
  z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, ".", "_" and "-" only, at most 64, starting with a letter or digit (no "/", "+" or "#")');

/**
 * A JSON value in the environment (`'[1,2]'`) or already parsed in the config file. Text that is
 * not JSON is a problem of its own key, reported with the others, not an exception.
 */
export const envJson = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v, ctx) => {
    if (typeof v !== 'string') return v;
    try {
      return JSON.parse(v) as unknown;
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `not JSON (${(err as Error).message})` });
      return z.NEVER;
    }
  }, schema);

/** Render a config shape as a Markdown table (name, default, description), for the README. */
export function describeConfig(shape: ConfigShape): string {
  const rows = Object.entries(shape).map(([key, schema]) => {
    const parsed = schema.safeParse(undefined);
    const def = parsed.success && parsed.data !== undefined ? `\`${JSON.stringify(parsed.data)}\`` : '—';
    return `| \`${ENV_PREFIX}${key}\` | ${def} | ${schema.description ?? ''} |`;
  });
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n');
}
