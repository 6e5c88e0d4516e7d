import { z } from 'zod';
import type { ConfigShape } from './config.js';
import { INSTANCE_ID_PATTERN, INSTANCE_ID_RULE } from './instance.js';
import { secret } from './secrets.js';

/** pino's levels, most severe first; `silent` logs nothing. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** How log lines are written (see LOG_FORMAT). */
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;

/**
 * Settings every long-lived part reads, declared once: the area shapes (ingestor, dispatcher)
 * spread this in, so a part started alone and `fieldhook start` read them the same way.
 */
export const COMMON_CONFIG = {
  DATA_DIR: z.string().default('.fieldhook').describe('Folder for the spool, registry and other local state'),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info').describe('pino log level'),
  LOG_FORMAT: z
    .enum(LOG_FORMATS)
    .default('auto')
    .describe('`pretty`: one readable line per event; `json`: one JSON object per line, for machines; `auto`: pretty when stdout is a terminal, JSON otherwise'),
  DATABASE_URL: secret(
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
      .optional()
      .describe('`postgres://user:password@host:5432/db`: keep the control-plane state (the device registry, the subscriptions and the outbox, field profiles and decision state, irrigation records, forecasts, chat users) in PostgreSQL, shared by several instances; unset = SQLite files in DATA_DIR'),
  ),
  INSTANCE_ID: z
    .string()
    .regex(INSTANCE_ID_PATTERN, INSTANCE_ID_RULE)
    .optional()
    .describe('This instance\'s name in MQTT client ids, logs (`instance`) and metrics (`fieldhook_instance_info{instance_id}`); unset = made once and kept in DATA_DIR/instance-id'),
} satisfies ConfigShape;

/** The shapes in `S`, merged. */
type Merged<S extends readonly ConfigShape[]> = S extends readonly [infer H, ...infer T extends readonly ConfigShape[]]
  ? H & Merged<T>
  : unknown;

/**
 * Keys that two of `shapes` declare with different schemas. A key may sit in several shapes only
 * as the very same schema (one spread in from {@link COMMON_CONFIG}); anything else means one
 * area's setting would silently replace another's when the shapes are merged.
 */
export function conflictingConfigKeys(shapes: readonly ConfigShape[]): string[] {
  const seen = new Map<string, z.ZodType>();
  const conflicts = new Set<string>();
  for (const shape of shapes) {
    for (const [key, schema] of Object.entries(shape)) {
      const earlier = seen.get(key);
      if (earlier !== undefined && earlier !== schema) conflicts.add(key);
      seen.set(key, schema);
    }
  }
  return [...conflicts];
}

/** Merge area shapes into one, refusing a key declared by two of them (see {@link conflictingConfigKeys}). */
export function mergeConfigShapes<const S extends readonly ConfigShape[]>(...shapes: S): Merged<S> {
  const conflicts = conflictingConfigKeys(shapes);
  if (conflicts.length > 0) {
    throw new Error(`Config keys declared by more than one area: ${conflicts.join(', ')}; declare them once in COMMON_CONFIG`);
  }
  return Object.assign({}, ...shapes) as Merged<S>;
}
