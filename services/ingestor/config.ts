import { z } from 'zod';
import { envBoolean } from '../shared/config.js';

const HOUR_MS = 3_600_000;
const GIB = 1024 ** 3;
const quantitySpec = z.object({ unit: z.string(), min: z.number(), max: z.number() });

/**
 * Ingest settings: env `FIELDHOOK_<KEY>` or `<KEY>` in the config file. Units are in the names;
 * defaults sit next to each key and are rendered into the README's configuration table.
 */
export const INGEST_CONFIG = {
  DATA_DIR: z.string().default('.fieldhook').describe('Folder for the spool, registry and other local state'),
  HTTP_HOST: z.string().default('0.0.0.0').describe('Address the HTTP API listens on'),
  HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(8080).describe('Port of the HTTP API'),
  TLS_CERT_FILE: z.string().optional().describe('PEM certificate: serve HTTPS (and MQTT over TLS on the embedded broker)'),
  TLS_KEY_FILE: z.string().optional().describe('PEM private key for TLS_CERT_FILE'),
  INFLUX_URL: z.string().url().optional().describe('InfluxDB base URL; unset = start a local InfluxDB 1.8 under DATA_DIR'),
  INFLUX_TOKEN: z.string().default('').describe('API token (2.x/3.x) or `user:password` (1.8)'),
  INFLUX_ORG: z.string().default('fieldhook').describe('Organisation (2.x/Cloud; ignored by 1.8)'),
  INFLUX_BUCKET: z.string().default('fieldhook').describe('Bucket (2.x) or `database/retention-policy` (1.8)'),
  INFLUX_CREATE_DATABASE: envBoolean().default(true).describe('On 1.x, create the database at start if missing'),
  INFLUX_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000).describe('Timeout of one InfluxDB request'),
  INFLUX_BATCH_LINES: z.coerce.number().int().min(1).max(50_000).default(5_000).describe('Most lines per write request'),
  INFLUX_GZIP_THRESHOLD_BYTES: z.coerce.number().int().min(0).default(1_000).describe('Write bodies larger than this are gzipped'),
  INFLUX_RETRY_MIN_MS: z.coerce.number().int().positive().default(1_000).describe('First retry delay; doubles up to the max'),
  INFLUX_RETRY_MAX_MS: z.coerce.number().int().positive().default(60_000).describe('Longest retry delay (Retry-After wins)'),
  MQTT_URL: z.string().optional().describe('External broker (mqtt://, mqtts://); unset = embedded broker'),
  MQTT_USERNAME: z.string().optional().describe('Ingestor login on the external broker'),
  MQTT_PASSWORD: z.string().optional().describe('Ingestor password on the external broker'),
  MQTT_PROTOCOL_VERSION: z.coerce.number().pipe(z.union([z.literal(4), z.literal(5)])).default(5).describe('5, or 4 (3.1.1) for brokers without MQTT 5'),
  MQTT_GROUP: z.string().default('fieldhook-ingest').describe('Shared-subscription group of all ingestor instances'),
  MQTT_CLIENT_ID_PREFIX: z.string().default('fieldhook-ingest').describe('Stable client id prefix (persistent sessions); unique per instance'),
  MQTT_CONNECTIONS: z.coerce.number().int().min(1).max(64).default(16).describe('Consumer connections in the shared group'),
  MQTT_LISTEN_HOST: z.string().default('0.0.0.0').describe('Embedded broker: listen address'),
  MQTT_LISTEN_PORT: z.coerce.number().int().min(0).max(65535).default(1883).describe('Embedded broker: MQTT port'),
  MQTT_TLS_PORT: z.coerce.number().int().min(0).max(65535).default(8883).describe('Embedded broker: MQTT over TLS port (with TLS_CERT_FILE)'),
  INGEST_BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(1_048_576).describe('Largest request body (413 above)'),
  INGEST_MAX_BATCH: z.coerce.number().int().positive().default(5_000).describe('Most readings per request (413 above)'),
  INGEST_MAX_FUTURE_MS: z.coerce.number().int().min(0).default(300_000).describe('Readings further ahead of the server clock are refused'),
  INGEST_MAX_AGE_MS: z.coerce.number().int().positive().default(30 * 24 * HOUR_MS).describe('Oldest back-filled reading accepted'),
  INGEST_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).default(600).describe('HTTP requests per device per minute; 0 = off'),
  INGEST_EXTRA_QUANTITIES: z
    .preprocess((v) => (typeof v === 'string' ? JSON.parse(v) : v), z.record(z.string(), quantitySpec))
    .default({})
    .describe('JSON: extra quantities `{"name":{"unit":"…","min":…,"max":…}}`'),
  DEDUP_WINDOW_MS: z.coerce.number().int().min(72 * HOUR_MS).default(72 * HOUR_MS).describe('How long a message id is remembered (at least 72 h)'),
  SPOOL_BUDGET_BYTES: z.coerce.number().int().positive().default(2 * GIB).describe('Disk budget of the spool: 503 when full'),
  SPOOL_HIGH_WATER_BYTES: z.coerce.number().int().positive().default(256 * 1024 ** 2).describe('Backlog above which senders get 429 / withheld PUBACKs while InfluxDB keeps up'),
  SPOOL_IN_WORKER: envBoolean().default(true).describe('Run the spool (SQLite and its fsyncs) in a worker thread'),
  SPOOL_RETRY_AFTER_S: z.coerce.number().int().positive().default(30).describe('Retry-After sent with 429/503'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('pino log level'),
};

export type IngestConfig = z.infer<z.ZodObject<typeof INGEST_CONFIG>>;
