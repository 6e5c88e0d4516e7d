import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import { connect, type MqttClient } from 'mqtt';
import type { Registry } from 'prom-client';
import type { DeviceRepository } from '../registry/device.js';
import type { InfluxTarget } from '../shared/influx.js';
import { createInfluxClient, pingInflux } from '../shared/influx.js';
import type { Logger } from '../shared/logger.js';
import { buildQuantityTable } from '../shared/quantities.js';
import { createAuthenticator } from './auth.js';
import { createBusPublisher, type BusPublish } from './bus-publisher.js';
import type { IngestConfig } from './config.js';
import { createEmbeddedBroker, type EmbeddedBroker } from './embedded-broker.js';
import { healthRoutes, type ReadinessCheck } from './http/health-routes.js';
import { readingsRoutes } from './http/readings-routes.js';
import { createInfluxWriter } from './influx-writer.js';
import { createIngestService, type IngestService } from './ingest.js';
import { createIngestMetrics } from './metrics.js';
import { createMqttConsumer, type MqttConsumer } from './mqtt-consumer.js';
import { createSqliteSpool } from './spool/sqlite-spool.js';
import { createWorkerSpool } from './spool/worker-spool.js';
import { BUS_CONSUMER, INFLUX_CONSUMER, type Spool } from './spool/spool.js';

const DEDUP_PRUNE_INTERVAL_MS = 3_600_000;

export interface IngestorDeps {
  config: IngestConfig;
  logger: Logger;
  registry: Registry;
  devices: DeviceRepository;
  influx: InfluxTarget;
  now?: () => number;
}

export interface Ingestor {
  spool: Spool;
  ingest: IngestService;
  /** Fastify plugin with `/v1/readings`. */
  routes: FastifyPluginAsync;
  /** Fastify plugin with `/healthz`, `/readyz`, `/metrics`. */
  healthRoutes: FastifyPluginAsync;
  readinessChecks: ReadinessCheck[];
  /** False while InfluxDB writes are failing. */
  writerHealthy(): boolean;
  /** Broker URL and login for other in-process parts (bus subscribers), known after start(). */
  busConnection(): { url: string; username?: string; password?: string };
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Everything between a sensor and InfluxDB, built but not started: spool, authentication,
 * validation, HTTP routes, the MQTT path (embedded broker or external consumer), the InfluxDB
 * writer and the bus publisher.
 */
export function buildIngestor(deps: IngestorDeps): Ingestor {
  const { config, logger, registry, devices } = deps;
  const spoolOptions = { path: join(config.DATA_DIR, 'spool.db'), consumers: [INFLUX_CONSUMER, BUS_CONSUMER] };
  const spool = config.SPOOL_IN_WORKER ? createWorkerSpool(spoolOptions) : createSqliteSpool(spoolOptions);
  // Read at scrape time; the consumer is built further down.
  const metrics = createIngestMetrics(registry, {
    spool: () => spool,
    mqttLastMessageAgeMs: () => consumer?.lastMessageAgeMs() ?? -1,
  });
  const auth = createAuthenticator(devices);
  const writer = createInfluxWriter(
    { spool, influx: createInfluxClient(deps.influx), org: deps.influx.org, bucket: deps.influx.bucket, logger, metrics },
    {
      batchLines: config.INFLUX_BATCH_LINES,
      gzipThresholdBytes: config.INFLUX_GZIP_THRESHOLD_BYTES,
      retryMinMs: config.INFLUX_RETRY_MIN_MS,
      retryMaxMs: config.INFLUX_RETRY_MAX_MS,
    },
  );
  const ingest = createIngestService({
    spool,
    devices,
    metrics,
    logger,
    rules: {
      quantities: buildQuantityTable(config.INGEST_EXTRA_QUANTITIES),
      maxFutureMs: config.INGEST_MAX_FUTURE_MS,
      maxAgeMs: config.INGEST_MAX_AGE_MS,
    },
    limits: {
      highWaterBytes: config.SPOOL_HIGH_WATER_BYTES,
      budgetBytes: config.SPOOL_BUDGET_BYTES,
      retryAfterS: config.SPOOL_RETRY_AFTER_S,
    },
    downstreamHealthy: () => writer.healthy(),
    ...(deps.now ? { now: deps.now } : {}),
  });

  const tls =
    config.TLS_CERT_FILE && config.TLS_KEY_FILE
      ? { cert: readFileSync(config.TLS_CERT_FILE), key: readFileSync(config.TLS_KEY_FILE) }
      : undefined;
  const broker: EmbeddedBroker | undefined = config.MQTT_URL
    ? undefined
    : createEmbeddedBroker(
        { auth, ingest, logger, metrics },
        {
          host: config.MQTT_LISTEN_HOST,
          port: config.MQTT_LISTEN_PORT,
          ...(tls ? { tls: { port: config.MQTT_TLS_PORT, options: tls } } : {}),
        },
      );
  const consumer: MqttConsumer | undefined = config.MQTT_URL
    ? createMqttConsumer(
        { ingest, devices, logger, metrics },
        {
          url: config.MQTT_URL,
          protocolVersion: config.MQTT_PROTOCOL_VERSION,
          group: config.MQTT_GROUP,
          clientIdPrefix: config.MQTT_CLIENT_ID_PREFIX,
          connections: config.MQTT_CONNECTIONS,
          ...(config.MQTT_USERNAME ? { username: config.MQTT_USERNAME } : {}),
          ...(config.MQTT_PASSWORD ? { password: config.MQTT_PASSWORD } : {}),
        },
      )
    : undefined;

  let busClient: MqttClient | undefined;
  let pruneTimer: NodeJS.Timeout | undefined;
  let started = false;
  let busPublisher: ReturnType<typeof createBusPublisher> | undefined;
  const busConnection = () =>
    broker
      ? { url: broker.internalUrl(), ...broker.internalCredentials() }
      : {
          url: config.MQTT_URL!,
          ...(config.MQTT_USERNAME ? { username: config.MQTT_USERNAME } : {}),
          ...(config.MQTT_PASSWORD ? { password: config.MQTT_PASSWORD } : {}),
        };

  const readinessChecks: ReadinessCheck[] = [
    {
      name: 'influxdb',
      check: async () => ({
        ok: await pingInflux(deps.influx.url, 1_000),
        detail: { writing: writer.healthy(), lastWriteAt: writer.lastSuccessAt() ? new Date(writer.lastSuccessAt()).toISOString() : null },
      }),
    },
    {
      name: 'spool',
      check: async () => {
        const usage = await spool.usage();
        return { ok: ingest.pressure() === 'ok', detail: { ...usage, pressure: ingest.pressure() } };
      },
    },
    {
      name: 'mqtt',
      check: async () => ({
        ok: broker ? started : busClient?.connected === true && consumer?.connected() === true,
        detail: consumer ? { lastMessageAgeMs: consumer.lastMessageAgeMs() } : {},
      }),
    },
  ];

  return {
    spool,
    ingest,
    readinessChecks,
    busConnection,
    writerHealthy: () => writer.healthy(),
    routes: async (app) => {
      await app.register(readingsRoutes, {
        ingest,
        auth,
        bodyLimitBytes: config.INGEST_BODY_LIMIT_BYTES,
        maxBatchItems: config.INGEST_MAX_BATCH,
        rateLimitPerMinute: config.INGEST_RATE_LIMIT_PER_MINUTE,
      });
    },
    healthRoutes: async (app) => {
      await app.register(healthRoutes, { registry, checks: readinessChecks });
    },
    async start() {
      await broker?.listen();
      let publish: BusPublish;
      if (broker) {
        publish = (topic, payload) => broker.publish(topic, payload);
      } else {
        const bus = busConnection();
        busClient = connect(bus.url, {
          clientId: `fieldhook-bus-${process.pid}`,
          reconnectPeriod: 1_000,
          ...(bus.username ? { username: bus.username } : {}),
          ...(bus.password ? { password: bus.password } : {}),
        });
        const client = busClient;
        publish = (topic, payload) => client.publishAsync(topic, payload, { qos: 1 });
      }
      busPublisher = createBusPublisher({ spool, publish, logger, metrics });
      writer.start();
      busPublisher.start();
      await consumer?.start();
      pruneTimer = setInterval(() => {
        void spool.pruneDedup(config.DEDUP_WINDOW_MS).catch((err: unknown) => logger.warn({ err }, 'dedup prune failed'));
      }, DEDUP_PRUNE_INTERVAL_MS);
      pruneTimer.unref();
      started = true;
    },
    async stop() {
      clearInterval(pruneTimer);
      await consumer?.stop();
      // Ending the bus client first releases a publisher waiting on an unreachable broker.
      const publisherStopped = busPublisher?.stop();
      await busClient?.endAsync(true);
      await publisherStopped;
      await writer.stop();
      await broker?.close();
      spool.close();
    },
  };
}
