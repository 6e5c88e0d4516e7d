import { join } from 'node:path';
import { z } from 'zod';
import { envBoolean, loadConfig } from '../shared/config.js';
import { DEFAULT_RETRY_SCHEDULE_MS } from './retry-policy.js';

/** A JSON value in the environment (`'[1,2]'`) or already parsed in the config file. */
const json = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (typeof v === 'string' ? JSON.parse(v) : v), schema);

const int = (min = 0) => z.coerce.number().int().min(min);

/**
 * Settings of the webhook dispatcher. Keys are env names without the `FIELDHOOK_` prefix; this is
 * the only module of the dispatcher that reads the environment (through `loadConfig`).
 */
export const DISPATCH_CONFIG = {
  // Same key, default and meaning as the ingestor's, so the shapes can be merged for one process.
  DATA_DIR: z.string().default('.fieldhook').describe('Folder for the spool, registry and other local state'),
  DISPATCH_DB_PATH: z
    .string()
    .optional()
    .describe('SQLite file holding subscriptions, the outbox and the delivery log; `:memory:` for tests. Default `<DATA_DIR>/dispatch.sqlite`.'),
  DISPATCH_LISTEN_HOST: z.string().default('127.0.0.1').describe('Address the standalone dispatcher API listens on. Default `127.0.0.1`.'),
  DISPATCH_LISTEN_PORT: int().max(65535).default(8383).describe('Port of the standalone dispatcher API (0 = any free port). Default 8383.'),
  ADMIN_TOKEN: z
    .string()
    .min(16)
    .optional()
    .describe(
      'Bearer token required on `/v1/subscriptions`, `/v1/deliveries` and `/v1/events` (at least 16 characters). Unset = those routes refuse every request.',
    ),
  WEBHOOK_TIMEOUT_MS: int(1).default(15_000).describe('Whole-request timeout of one delivery attempt, in ms. Default 15000.'),
  WEBHOOK_RETRY_SCHEDULE_MS: json(z.array(int()).min(1))
    .default([...DEFAULT_RETRY_SCHEDULE_MS])
    .describe('Delay before each attempt, in ms, as a JSON array; the first entry is the first attempt. Default 0, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.'),
  WEBHOOK_RETRY_JITTER: z.coerce.number().min(0).max(0.5).default(0.2).describe('Relative jitter applied to each retry delay (0.2 = ±20 %). Default 0.2.'),
  WEBHOOK_RETRY_MIN_HORIZON_MS: int()
    .default(24 * 3_600_000)
    .describe('The last attempt is never earlier than this after the first one, whatever the jitter, in ms. Default 86400000 (24 h).'),
  WEBHOOK_RETRY_AFTER_MAX_MS: int()
    .default(10 * 3_600_000)
    .describe('Upper bound on a `Retry-After` asked for by a 429/503 response, in ms. Default 36000000 (10 h).'),
  WEBHOOK_DISABLE_AFTER_MS: int(1)
    .default(5 * 24 * 3_600_000)
    .describe('A subscription failing continuously for this long is disabled (its backlog is kept), in ms. Default 432000000 (5 days).'),
  WEBHOOK_ENDPOINT_CONCURRENCY: int(1).default(10).describe('Attempts in flight per subscription at most. Default 10.'),
  WEBHOOK_GLOBAL_CONCURRENCY: int(1).default(512).describe('Attempts in flight across all subscriptions at most. Default 512.'),
  WEBHOOK_BREAKER_FAILURE_THRESHOLD: int(1)
    .default(5)
    .describe('Consecutive failed attempts that open a subscription\'s circuit breaker. Default 5.'),
  WEBHOOK_BREAKER_COOLDOWN_MS: int(1)
    .default(30_000)
    .describe('How long an open breaker holds deliveries before one probe attempt, in ms; doubles up to 16x while probes fail. Default 30000.'),
  WEBHOOK_SECRET_ROTATION_OVERLAP_MS: int()
    .default(24 * 3_600_000)
    .describe('After a secret rotation the old secret keeps signing (alongside the new one) for this long, in ms. Default 86400000 (24 h).'),
  WEBHOOK_HTTPS_ONLY: envBoolean().default(false).describe('Refuse `http:` subscription URLs (allow-listed ones included). Default false.'),
  WEBHOOK_ALLOW_CIDRS: json(z.record(z.string(), z.array(z.string())))
    .default({})
    .describe(
      'Per-farm allow-list of otherwise refused address ranges, as JSON `{"<farm>": ["192.168.10.0/24"], "*": [...]}`; a subscription may reach an address if `*` lists it or every farm in its `farms` filter does. Default `{}` (no private targets).',
    ),
  DELIVERY_RETENTION_MS: int(1)
    .default(30 * 24 * 3_600_000)
    .describe('Finished deliveries, their attempts and events are pruned after this long, in ms. Default 2592000000 (30 days).'),
  DISPATCH_POLL_INTERVAL_MS: int(10)
    .default(1_000)
    .describe('Longest sleep of the delivery loop between looks at the outbox (it also wakes on publish and on the next due retry), in ms. Default 1000.'),
  DISPATCH_MQTT_URL: z
    .string()
    .optional()
    .describe('MQTT broker URL; when set, events published on `fieldhook/v1/events` are accepted into the outbox. Default unset (no bus consumer).'),
  DISPATCH_MQTT_USERNAME: z.string().optional().describe('Dispatcher login on that broker.'),
  DISPATCH_MQTT_PASSWORD: z.string().optional().describe('Dispatcher password on that broker.'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('pino log level'),
} satisfies Record<string, z.ZodType>;

export type DispatchConfig = z.infer<z.ZodObject<typeof DISPATCH_CONFIG>>;

/** Read and validate the dispatcher's settings from the environment (and config file). */
export function loadDispatchConfig(env: NodeJS.ProcessEnv = process.env): DispatchConfig {
  return loadConfig(DISPATCH_CONFIG, env);
}

/** Every default filled in, then `overrides`: for tests and embedding. */
export function createDispatchConfig(overrides: Partial<DispatchConfig> = {}): DispatchConfig {
  return { ...z.object(DISPATCH_CONFIG).parse({}), ...overrides };
}

/** Where the SQLite state lives. */
export function dispatchDbPath(config: Pick<DispatchConfig, 'DATA_DIR' | 'DISPATCH_DB_PATH'>): string {
  return config.DISPATCH_DB_PATH ?? join(config.DATA_DIR, 'dispatch.sqlite');
}
