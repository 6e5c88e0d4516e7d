import { join } from 'node:path';
import { z } from 'zod';
import { DEFAULT_DELIVERY_PRUNER_OPTIONS } from './delivery-pruner.js';
import { DEFAULT_SECRET_ROTATION_OVERLAP_MS } from './dispatch-service.js';
import { HTTP_SERVER_CONFIG } from '../host/http-config.js';
import { EVENTS_TOPIC } from '../shared/bus/topics.js';
import { COMMON_CONFIG } from '../shared/common-config.js';
import { envBoolean, envJson, loadConfig } from '../shared/config.js';
import { parseNetwork } from '../shared/networks.js';
import { secret } from '../shared/secrets.js';
import { DEFAULT_DELIVERY_LOOP_OPTIONS } from './delivery-loop.js';
import { DEFAULT_ENDPOINT_LIMITER } from './endpoint-limiter.js';
import { DEFAULT_RETRY_POLICY } from './retry-policy.js';
import { DEFAULT_SSRF_POLICY } from './ssrf-guard.js';

const json = envJson;

const int = (min = 0) => z.coerce.number().int().min(min);

const loop = DEFAULT_DELIVERY_LOOP_OPTIONS;
const retry = DEFAULT_RETRY_POLICY;
const limiter = DEFAULT_ENDPOINT_LIMITER;

/**
 * Settings of the webhook dispatcher. Keys are env names without the `FIELDHOOK_` prefix; this is
 * the only module of the dispatcher that reads the environment (through `loadConfig`). A default
 * that is a module's option comes from that module's `DEFAULT_*` object; the README's
 * configuration table renders every default, so descriptions do not repeat them.
 */
export const DISPATCH_CONFIG = {
  ...COMMON_CONFIG,
  // The standalone dispatcher serves HTTP too: the same server limits as `fieldhook start`.
  ...HTTP_SERVER_CONFIG,
  DISPATCH_DB_PATH: z
    .string()
    .optional()
    .describe('SQLite file holding subscriptions, the outbox and the delivery log; `:memory:` for tests; unset = `<DATA_DIR>/dispatch.sqlite`.'),
  DISPATCH_LISTEN_HOST: z.string().default('127.0.0.1').describe('Address the standalone dispatcher API listens on.'),
  DISPATCH_LISTEN_PORT: int().max(65535).default(8383).describe('Port of the standalone dispatcher API (0 = any free port).'),
  ADMIN_TOKEN: secret(
    z
      .string()
      .min(16)
      .optional()
      .describe(
        'Bearer token required on the admin routes (`/v1/subscriptions`, `/v1/deliveries`, `/v1/events`, `GET /v1/irrigations`, an admin\'s irrigation records and forecasts, the status page; at least 16 characters). Unset: `fieldhook start` generates one and keeps it in `DATA_DIR/admin-token`; the standalone dispatcher refuses every admin request.',
      ),
  ),
  WEBHOOK_TIMEOUT_MS: int(1).default(loop.timeoutMs).describe('Whole-request timeout of one delivery attempt, in ms.'),
  WEBHOOK_RETRY_SCHEDULE_MS: json(z.array(int()).min(1))
    .default(() => [...retry.scheduleMs])
    .describe('Delay before each attempt, in ms, as a JSON array; the first entry is the first attempt.'),
  WEBHOOK_RETRY_JITTER: z.coerce.number().min(0).max(0.5).default(retry.jitter).describe('Relative jitter applied to each retry delay (0.2 = ±20 %).'),
  WEBHOOK_RETRY_MIN_HORIZON_MS: int()
    .default(retry.minHorizonMs)
    .describe('The last attempt is never earlier than this after the first one, whatever the jitter, in ms.'),
  WEBHOOK_RETRY_AFTER_MAX_MS: int()
    .default(retry.retryAfterMaxMs)
    .describe('Upper bound on a `Retry-After` asked for by a 429/503 response, in ms.'),
  WEBHOOK_DISABLE_AFTER_MS: int(1)
    .default(loop.disableAfterMs)
    .describe('A subscription failing continuously for this long is disabled (its backlog is kept), in ms.'),
  WEBHOOK_ENDPOINT_CONCURRENCY: int(1).default(limiter.concurrency).describe('Attempts in flight per subscription at most.'),
  WEBHOOK_GLOBAL_CONCURRENCY: int(1).default(loop.globalConcurrency).describe('Attempts in flight across all subscriptions at most.'),
  WEBHOOK_BREAKER_FAILURE_THRESHOLD: int(1)
    .default(limiter.failureThreshold)
    .describe('Consecutive failed attempts that open a subscription\'s circuit breaker.'),
  WEBHOOK_BREAKER_COOLDOWN_MS: int(1)
    .default(limiter.cooldownMs)
    .describe('How long an open breaker holds deliveries before one probe attempt, in ms; doubles up to 16x while probes fail.'),
  WEBHOOK_SECRET_ROTATION_OVERLAP_MS: int()
    .default(DEFAULT_SECRET_ROTATION_OVERLAP_MS)
    .describe('After a secret rotation the old secret keeps signing (alongside the new one) for this long, in ms.'),
  WEBHOOK_HTTPS_ONLY: envBoolean().default(DEFAULT_SSRF_POLICY.httpsOnly).describe('Refuse `http:` subscription URLs (allow-listed ones included).'),
  WEBHOOK_ALLOW_CIDRS: json(z.record(z.string(), z.array(z.string().refine((c) => parseNetwork(c) !== undefined, 'must be a CIDR range (10.0.0.0/8) or an address'))))
    .default({})
    .describe(
      'Per-farm allow-list of otherwise refused address ranges, as JSON `{"<farm>": ["192.168.10.0/24"], "*": [...]}`; a subscription may reach an address if `*` lists it or every farm in its `farms` filter does. `{}` = no private targets.',
    ),
  DELIVERY_RETENTION_MS: int(1)
    .default(DEFAULT_DELIVERY_PRUNER_OPTIONS.retentionMs)
    .describe('Finished deliveries, their attempts and events are pruned after this long, in ms.'),
  DISPATCH_POLL_INTERVAL_MS: int(10)
    .default(loop.pollIntervalMs)
    .describe('Longest sleep of the delivery loop between looks at the outbox (it also wakes on publish and on the next due retry), in ms.'),
  SMTP_URL: secret(
    z
      .string()
      .optional()
      .describe('SMTP relay of `email` subscriptions, e.g. `smtps://user:password@smtp.example.com:465` or `smtp://relay:587` (STARTTLS when offered). Unset = no `email` format.'),
  ),
  SMTP_FROM: z.string().min(3).default('fieldhook <fieldhook@localhost>').describe('`From` of every notification e-mail; its domain names the messages\' `Message-ID`s.'),
  DISPATCH_MQTT_URL: z
    .string()
    .optional()
    .describe(`MQTT broker URL; when set, events published on \`${EVENTS_TOPIC}\` are accepted into the outbox. Unset = no bus consumer.`),
  DISPATCH_MQTT_USERNAME: z.string().optional().describe('Dispatcher login on that broker.'),
  DISPATCH_MQTT_PASSWORD: secret(z.string().optional().describe('Dispatcher password on that broker.')),
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
