import { z } from 'zod';
import { COMMON_CONFIG } from '../shared/common-config.js';
import { envBoolean, envJson, mqttName } from '../shared/config.js';
import { secret } from '../shared/secrets.js';
import { DEFAULT_INGEST_OPTIONS, DEFAULT_MESSAGE_LIMITS } from './ingest.js';
import { DEFAULT_INFLUX_WRITER_OPTIONS } from './influx-writer.js';
import { DEFAULT_MQTT_CONSUMER_OPTIONS } from './mqtt-consumer.js';
import { DEFAULT_SPOOL_OPTIONS, MIN_DEDUP_WINDOW_MS } from './spool/spool.js';
import { quantityProblems } from '../shared/quantities.js';

const quantitySpec = z.object({ unit: z.string(), min: z.number(), max: z.number() });
const writer = DEFAULT_INFLUX_WRITER_OPTIONS;
const mqtt = DEFAULT_MQTT_CONSUMER_OPTIONS;
const { rules, limits } = DEFAULT_INGEST_OPTIONS;

/**
 * Ingest settings: env `FIELDHOOK_<KEY>` or `<KEY>` in the config file. Units are in the names.
 * A default that is a module's option comes from that module's `DEFAULT_*` object; the README's
 * configuration table renders every default, so descriptions do not repeat them.
 */
export const INGEST_CONFIG = {
  ...COMMON_CONFIG,
  HTTP_HOST: z.string().default('0.0.0.0').describe('Address the HTTP API listens on'),
  HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(8080).describe('Port of the HTTP API'),
  TLS_CERT_FILE: z.string().optional().describe('PEM certificate: serve HTTPS (and MQTT over TLS on the embedded broker)'),
  TLS_KEY_FILE: z.string().optional().describe('PEM private key for TLS_CERT_FILE'),
  INFLUX_URL: z.string().url().optional().describe('InfluxDB base URL; unset = start a local InfluxDB 1.8 under DATA_DIR'),
  INFLUX_TOKEN: secret(z.string().default('').describe('API token (2.x/3.x) or `user:password` (1.8)')),
  INFLUX_ORG: z.string().default('fieldhook').describe('Organisation (2.x/Cloud; ignored by 1.8)'),
  INFLUX_BUCKET: z.string().default('fieldhook').describe('Bucket (2.x) or `database/retention-policy` (1.8)'),
  INFLUX_CREATE_DATABASE: envBoolean().default(true).describe('On 1.x, create the database at start if missing'),
  INFLUX_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000).describe('Timeout of one InfluxDB request'),
  INFLUX_BATCH_LINES: z.coerce.number().int().min(1).max(50_000).default(writer.batchLines).describe('Most lines per write request'),
  INFLUX_GZIP_THRESHOLD_BYTES: z.coerce.number().int().min(0).default(writer.gzipThresholdBytes).describe('Write bodies larger than this are gzipped'),
  INFLUX_RETRY_MIN_MS: z.coerce.number().int().positive().default(writer.retryMinMs).describe('First retry delay; doubles up to the max'),
  INFLUX_RETRY_MAX_MS: z.coerce.number().int().positive().default(writer.retryMaxMs).describe('Longest retry delay (Retry-After wins)'),
  MQTT_URL: z.string().optional().describe('External broker (mqtt://, mqtts://); unset = embedded broker'),
  MQTT_USERNAME: z.string().optional().describe('Ingestor login on the external broker'),
  MQTT_PASSWORD: secret(z.string().optional().describe('Ingestor password on the external broker')),
  MQTT_PROTOCOL_VERSION: z.coerce.number().pipe(z.union([z.literal(4), z.literal(5)])).default(5).describe('5, or 4 (3.1.1) for brokers without MQTT 5'),
  MQTT_GROUP: mqttName().default(mqtt.group).describe('Shared-subscription group of all ingestor instances'),
  MQTT_CLIENT_ID_PREFIX: mqttName().default(mqtt.clientIdPrefix).describe('Stable client id prefix (persistent sessions); unique per instance'),
  MQTT_CONNECTIONS: z.coerce.number().int().min(1).max(64).default(mqtt.connections).describe('Consumer connections in the shared group'),
  MQTT_LISTEN_HOST: z.string().default('0.0.0.0').describe('Embedded broker: listen address (with TLS_CERT_FILE, plain MQTT listens on loopback only, for fieldhook\'s own parts: devices use MQTT_TLS_PORT)'),
  MQTT_LISTEN_PORT: z.coerce.number().int().min(0).max(65535).default(1883).describe('Embedded broker: MQTT port'),
  MQTT_TLS_PORT: z.coerce.number().int().min(0).max(65535).default(8883).describe('Embedded broker: MQTT over TLS port (with TLS_CERT_FILE)'),
  INGEST_BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(DEFAULT_MESSAGE_LIMITS.maxBodyBytes).describe('Largest request body or MQTT payload (413, or refused on the device errors topic, above)'),
  INGEST_MAX_BATCH: z.coerce.number().int().positive().default(DEFAULT_MESSAGE_LIMITS.maxBatchItems).describe('Most readings per request or MQTT message (413, or refused on the device errors topic, above)'),
  INGEST_MAX_FUTURE_MS: z.coerce.number().int().min(0).default(rules.maxFutureMs).describe('Readings further ahead of the server clock are refused'),
  INGEST_MAX_AGE_MS: z.coerce.number().int().positive().default(rules.maxAgeMs).describe('Oldest back-filled reading accepted'),
  INGEST_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).default(600).describe('HTTP requests per device per minute (a network server\'s uplinks count for the end device each carries); 0 = off'),
  PROFILES_DIR: z.string().optional().describe('Folder of a farm\'s own device profiles (`<name>.json`), added to the shipped ones (docs/devices.md)'),
  INGEST_EXTRA_QUANTITIES: envJson(
    z.record(z.string(), quantitySpec).superRefine((extra, ctx) => {
      for (const { name, problem } of quantityProblems(extra)) ctx.addIssue({ code: 'custom', path: [name], message: problem });
    }),
  )
    .default({})
    .describe('JSON: extra quantities `{"name":{"unit":"…","min":…,"max":…}}`'),
  DEDUP_WINDOW_MS: z.coerce
    .number()
    .int()
    .min(MIN_DEDUP_WINDOW_MS)
    .default(DEFAULT_SPOOL_OPTIONS.dedupWindowMs)
    .describe('How long a message id is remembered (at least 72 h)'),
  SPOOL_BUDGET_BYTES: z.coerce.number().int().positive().default(limits.budgetBytes).describe('Disk budget of the spool: 503 when full'),
  SPOOL_HIGH_WATER_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(limits.highWaterBytes)
    .describe('Backlog above which senders get 429 / withheld PUBACKs while InfluxDB keeps up'),
  SPOOL_IN_WORKER: envBoolean().default(true).describe('Run the spool (SQLite and its fsyncs) in a worker thread'),
  SPOOL_RETRY_AFTER_S: z.coerce.number().int().positive().default(limits.retryAfterS).describe('Retry-After sent with 429/503'),
};

export type IngestConfig = z.infer<z.ZodObject<typeof INGEST_CONFIG>>;
