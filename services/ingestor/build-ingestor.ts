import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import { Registry } from 'prom-client';
import type { DeviceRepository } from '../registry/device.js';
import { connectPublisher, type BusConnection, type BusPrincipal, type Publisher } from '../shared/bus/index.js';
import type { LocalReadings } from '../shared/bus/local-readings.js';
import { instanceClientId } from '../shared/instance.js';
import { every, systemClock, type Clock } from '../shared/clock.js';
import type { Component, LeaveOptions, ReadinessCheck } from '../shared/component.js';
import type { InfluxTarget } from '../shared/influx.js';
import { createInfluxClient } from '../shared/influx.js';
import { Errors } from '../shared/error-catalog.js';
import type { Logger } from '../shared/logger.js';
import { buildQuantityTable } from '../shared/quantities.js';
import { createAuthenticator } from './auth.js';
import { createCredentialCache } from './credential-cache.js';
import { createBusPublisher, type BusPublish } from './bus-publisher.js';
import type { IngestConfig } from './config.js';
import { createEmbeddedBroker, type DeviceTopicHandler, type EmbeddedBroker } from './embedded-broker.js';
import { readingsRoutes } from './http/readings-routes.js';
import { createInfluxWriter } from './influx-writer.js';
import { createIngestService, type IngestService } from './ingest.js';
import { createIngestMetrics } from './metrics.js';
import { createMqttBatcher } from './mqtt-batch.js';
import { createMqttConsumer, type MqttConsumer } from './mqtt-consumer.js';
import { ingestorReadiness } from './readiness.js';
import { createSqliteSpool } from './spool/sqlite-spool.js';
import { createWorkerSpool } from './spool/worker-spool.js';
import { BUS_CONSUMER, INFLUX_CONSUMER, type Spool, type SpoolUsage } from './spool/spool.js';
import { loadProfiles, type ProfileSet } from './profiles/load.js';

/** De-duplication keys past the window are pruned hourly: the table stays as small as the window. */
const DEDUP_PRUNE_INTERVAL_MS = 3_600_000;

export interface IngestorDeps {
  config: IngestConfig;
  logger: Logger;
  devices: DeviceRepository;
  influx: InfluxTarget;
  clock?: Clock;
  /** Device profiles for LoRaWAN uplinks; default: the shipped ones and those of `PROFILES_DIR`, loaded now. */
  profiles?: ProfileSet;
  /** Other device topics the embedded broker takes, acknowledged once stored (irrigation reports). */
  deviceTopics?: readonly DeviceTopicHandler[];
  /**
   * The predictor of this process, when it runs here, read at start: the spool's bus cursor feeds
   * it the fields it evaluates directly, and the broker carries only the others.
   */
  localReadings?: () => LocalReadings | undefined;
}

export interface Ingestor extends Component {
  spool: Spool;
  ingest: IngestService;
  /** The ingest API (`/v1/readings`, uplinks, line protocol). */
  routes: FastifyPluginAsync;
  readiness: ReadinessCheck[];
  metrics: Registry;
  /** False while InfluxDB writes are failing. */
  writerHealthy(): boolean;
  /** A read-only snapshot for the status page. */
  status(): Promise<IngestorStatus>;
  /**
   * How a part of the process reaches the bus, known after start(): on the embedded broker with
   * that part's own internal login; on an external broker with the configured one.
   */
  busConnection(principal: BusPrincipal): BusConnection;
  /**
   * Scaling in (`fieldhook leave`): leaves the devices' readings group (what its sessions held
   * comes into the spool first), then resolves, with the spool's usage, once the InfluxDB writer
   * and the bus have taken every stored reading. Aborted first, it rejects with
   * `FH_ERR_INSTANCE_LEAVE_INCOMPLETE` naming what is left; the spool keeps it.
   */
  handOver(options?: LeaveOptions): Promise<SpoolUsage>;
}

/** How often `handOver` looks at the spool's cursors, ms. */
export const HAND_OVER_POLL_MS = 200;

/** Spool depth and age per consumer, dead letters, and whether InfluxDB writes succeed. */
export interface IngestorStatus {
  spool: SpoolUsage;
  writer: { healthy: boolean; /** Epoch ms of the last successful write, null before the first. */ lastSuccessAt: number | null };
}

/**
 * Everything between a sensor and InfluxDB, built but not started: spool, authentication,
 * validation, HTTP routes, the MQTT path (embedded broker or external consumer), the InfluxDB
 * writer and the bus publisher.
 */
export function buildIngestor(deps: IngestorDeps): Ingestor {
  const { config, logger } = deps;
  // Every credential the ingest path checks comes from memory, kept current on registry changes.
  const devices = createCredentialCache(deps.devices);
  const clock = deps.clock ?? systemClock;
  // Before anything opens: a bad profile file stops the start (FH_ERR_PROFILE_INVALID, file and path named).
  const profiles = deps.profiles ?? loadProfiles(config.PROFILES_DIR ? { extraDir: config.PROFILES_DIR } : {});
  // One table for every path: a quantity the configuration declares arrives by any format. Made
  // before the spool's worker starts, which a refusal thrown later would leave running.
  const quantities = buildQuantityTable(config.INGEST_EXTRA_QUANTITIES);
  const registry = new Registry();
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
      quantities,
      maxFutureMs: config.INGEST_MAX_FUTURE_MS,
      maxAgeMs: config.INGEST_MAX_AGE_MS,
    },
    limits: {
      highWaterBytes: config.SPOOL_HIGH_WATER_BYTES,
      budgetBytes: config.SPOOL_BUDGET_BYTES,
      retryAfterS: config.SPOOL_RETRY_AFTER_S,
    },
    downstreamHealthy: () => writer.healthy(),
    now: () => clock.now(),
  });

  // One message over MQTT is held to the same limits as one HTTP request.
  const limits = { maxPayloadBytes: config.INGEST_BODY_LIMIT_BYTES, maxBatchItems: config.INGEST_MAX_BATCH };
  // MQTT messages, from the embedded broker or an external one, are appended in batches.
  const batcher = createMqttBatcher({ ingest, metrics, limits, logger });
  const tls =
    config.TLS_CERT_FILE && config.TLS_KEY_FILE
      ? { cert: readFileSync(config.TLS_CERT_FILE), key: readFileSync(config.TLS_KEY_FILE) }
      : undefined;
  const broker: EmbeddedBroker | undefined = config.MQTT_URL
    ? undefined
    : createEmbeddedBroker(
        { auth, devices, ingest, batcher, logger, metrics, ...(deps.deviceTopics ? { deviceTopics: deps.deviceTopics } : {}) },
        {
          host: config.MQTT_LISTEN_HOST,
          port: config.MQTT_LISTEN_PORT,
          limits,
          ...(tls ? { tls: { port: config.MQTT_TLS_PORT, options: tls } } : {}),
        },
      );
  const consumer: MqttConsumer | undefined = config.MQTT_URL
    ? createMqttConsumer({ ingest, devices, logger, metrics, limits, batcher, now: () => clock.now() }, externalBus(config), {
        group: config.MQTT_GROUP,
        clientIdPrefix: config.MQTT_CLIENT_ID_PREFIX,
        connections: config.MQTT_CONNECTIONS,
      })
    : undefined;

  let busClient: Publisher | undefined;
  let stopPruning: (() => void) | undefined;
  let started = false;
  let busPublisher: ReturnType<typeof createBusPublisher> | undefined;
  const busConnection = (principal: BusPrincipal): BusConnection =>
    // The embedded broker speaks 3.1.1 without shared subscriptions; one instance runs there anyway.
    broker
      ? { url: broker.internalUrl(), ...broker.internalCredentials(principal), protocolVersion: 4, sharedSubscriptions: false }
      : externalBus(config);

  const readiness = ingestorReadiness({
    influxUrl: deps.influx.url,
    influxToken: deps.influx.token,
    writer,
    spool,
    ingest,
    mqtt: () => ({
      ok: broker ? started : busClient?.connected() === true && consumer?.connected() === true,
      detail: consumer ? { lastMessageAgeMs: consumer.lastMessageAgeMs() } : {},
    }),
  });

  return {
    name: 'ingestor',
    metrics: registry,
    readiness,
    spool,
    ingest,
    busConnection,
    writerHealthy: () => writer.healthy(),
    status: async () => ({ spool: await spool.usage(), writer: { healthy: writer.healthy(), lastSuccessAt: writer.lastSuccessAt() || null } }),
    routes: async (app) => {
      await app.register(readingsRoutes, {
        ingest,
        auth,
        bodyLimitBytes: config.INGEST_BODY_LIMIT_BYTES,
        maxBatchItems: config.INGEST_MAX_BATCH,
        rateLimitPerMinute: config.INGEST_RATE_LIMIT_PER_MINUTE,
        quantities,
        profiles,
        deviceProfileOf: async (device) => (await devices.get(device))?.deviceProfile,
        refused: (code) => metrics.refused.inc({ code }),
      });
    },
    async start() {
      // The spool answers before anything is taken: one it cannot open (a file a newer fieldhook
      // migrated) fails the start with its reason instead of every later append.
      await spool.usage();
      await broker?.listen();
      let publish: BusPublish;
      if (broker) {
        publish = (topic, payload) => broker.publish(topic, payload);
      } else {
        const client = (busClient = connectPublisher(busConnection('bus'), instanceClientId('fieldhook-bus', config.INSTANCE_ID ?? String(process.pid)), logger));
        publish = (topic, payload) => client.publish(topic, payload);
      }
      busPublisher = createBusPublisher({ spool, publish, local: deps.localReadings?.(), logger, metrics });
      await busPublisher.prepare();
      writer.start();
      busPublisher.start();
      await consumer?.start();
      stopPruning = every(clock, DEDUP_PRUNE_INTERVAL_MS, () => {
        void spool.pruneDedup(config.DEDUP_WINDOW_MS).catch((err: unknown) => logger.warn({ err }, 'dedup prune failed'));
      });
      started = true;
    },
    stop: () => close(),
    leave: (leaving) => close(leaving ?? {}),
    async handOver(leaving = {}) {
      await consumer?.leave(leaving);
      const { signal } = leaving;
      for (;;) {
        const usage = await spool.usage();
        const left = [INFLUX_CONSUMER, BUS_CONSUMER].filter((c) => (usage.consumers[c]?.pendingReadings ?? 0) > 0);
        if (left.length === 0) return usage;
        if (signal?.aborted) {
          const what = left.map((c) => `${usage.consumers[c]!.pendingReadings} for ${c === INFLUX_CONSUMER ? 'InfluxDB' : 'the bus'}`).join(', ');
          throw Errors.instanceLeaveIncomplete(`the spool still holds readings (${what}); they stay in ${join(config.DATA_DIR, 'spool.db')}`, { pending: Object.fromEntries(left.map((c) => [c, usage.consumers[c]!.pendingReadings])) });
        }
        await new Promise<void>((resolve) => {
          const timer = clock.setTimeout(done, HAND_OVER_POLL_MS);
          signal?.addEventListener('abort', done, { once: true });
          function done() {
            clock.clearTimeout(timer);
            signal?.removeEventListener('abort', done);
            resolve();
          }
        });
      }
    },
  };

  /** Stops, or with `leaving` leaves the devices' readings group for good; the rest closes either way. */
  async function close(leaving?: LeaveOptions): Promise<void> {
    stopPruning?.();
    try {
      await (leaving ? consumer?.leave(leaving) : consumer?.stop());
    } finally {
      // Ending the bus client first releases a publisher waiting on an unreachable broker.
      const publisherStopped = busPublisher?.stop();
      await busClient?.stop();
      await publisherStopped;
      await writer.stop();
      await broker?.close();
      spool.close();
    }
  }
}

/** The external broker of `MQTT_URL`, with the ingestor's login. */
export function externalBus(config: IngestConfig): BusConnection {
  return {
    url: config.MQTT_URL!,
    protocolVersion: config.MQTT_PROTOCOL_VERSION,
    // Mosquitto 2 and EMQX split `$share/…` subscriptions, for 3.1.1 clients too.
    sharedSubscriptions: true,
    ...(config.MQTT_USERNAME ? { username: config.MQTT_USERNAME } : {}),
    ...(config.MQTT_PASSWORD ? { password: config.MQTT_PASSWORD } : {}),
  };
}
