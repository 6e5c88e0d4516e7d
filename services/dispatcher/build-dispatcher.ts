import type { FastifyPluginAsync } from 'fastify';
import { Registry } from 'prom-client';
import { endSubscribers, type BusConnection, type Subscriber } from '../shared/bus/index.js';
import { systemClock, type Clock } from '../shared/clock.js';
import type { Component, LeaveOptions } from '../shared/component.js';
import type { Logger } from '../shared/logger.js';
import { createBusConsumer } from './bus-consumer.js';
import { dispatchDbPath, type DispatchConfig } from './config.js';
import { createDeliveryLoop } from './delivery-loop.js';
import { DEFAULT_DELIVERY_PRUNER_OPTIONS, createDeliveryPruner } from './delivery-pruner.js';
import { createDispatchService, type DispatchService } from './dispatch-service.js';
import { createEndpointLimiter } from './endpoint-limiter.js';
import type { PublishInput, PublishResult } from './events.js';
import { createGuardCache } from './guard-cache.js';
import { createHttpTransport, type Transport } from './http-transport.js';
import { createDispatchMetrics } from './metrics.js';
import { createOperationalEvents } from './operational-events.js';
import { requireAdminToken } from './routes/auth.js';
import { deliveryRoutes } from './routes/deliveries.js';
import { eventRoutes } from './routes/events.js';
import { deliverySchema, subscriptionSchema } from './routes/schemas.js';
import { subscriptionRoutes } from './routes/subscriptions.js';
import { FORMAT_NAMES } from './formats/index.js';
import { createSmtpMailer, type Mailer } from './formats/mailer.js';
import { createSigner } from './signer.js';
import type { Resolver } from './ssrf-guard.js';
import { createDispatchStore } from './store/open-store.js';
import type { DispatchStore } from './store/types.js';
import { closeControlPlane, createControlPlane, type ControlPlane } from '../shared/database/control-plane.js';
import { Errors } from '../shared/error-catalog.js';
import { instanceClientId, resolveInstanceId } from '../shared/instance.js';

export interface BuildDispatcherOptions {
  config: DispatchConfig;
  logger: Logger;
  clock?: Clock;
  /**
   * Defaults to the control plane's backend: SQLite at `DISPATCH_DB_PATH` (or
   * `<DATA_DIR>/dispatch.sqlite`), or PostgreSQL when `DATABASE_URL` is set.
   */
  store?: DispatchStore;
  /**
   * Where the default store lives: the process's control plane (its pool shared with the other
   * stores, opened and closed by the host). Without one the dispatcher makes its own from the
   * config and closes it when it stops (the standalone dispatcher).
   */
  plane?: ControlPlane;
  /** Defaults to undici through the SSRF-guarded agents. */
  transport?: Transport;
  /** DNS resolver used by the SSRF guard (tests simulate hostile DNS). */
  resolver?: Resolver;
  /** Jitter source, [0, 1). */
  random?: () => number;
  /** Sends `email` deliveries; defaults to nodemailer on `SMTP_URL`, none when that is unset. */
  mailer?: Mailer;
  /**
   * Consume `EVENTS_TOPIC` from this broker (e.g. the embedded one, with the process's internal
   * login), read when the dispatcher starts. Defaults to `DISPATCH_MQTT_*` from the config; no
   * consumer when neither.
   */
  bus?: () => BusConnection;
}

export interface FieldhookDispatcher extends Component {
  service: DispatchService;
  store: DispatchStore;
  /** The dispatcher's metrics (served by the host). */
  metrics: Registry;
  /** Commit an event to the outbox and fan it out; resolves once it is durable. */
  publish(event: PublishInput): Promise<PublishResult>;
  publishMany(events: PublishInput[]): Promise<PublishResult[]>;
}

/** The bus a standalone dispatcher consumes, from its `DISPATCH_MQTT_*` settings. */
function configuredBus(config: DispatchConfig): BusConnection | undefined {
  if (!config.DISPATCH_MQTT_URL) return undefined;
  return {
    url: config.DISPATCH_MQTT_URL,
    // mqtt.js's default protocol, as before; Mosquitto 2 shares subscriptions for 3.1.1 too.
    protocolVersion: 4,
    sharedSubscriptions: true,
    ...(config.DISPATCH_MQTT_USERNAME ? { username: config.DISPATCH_MQTT_USERNAME } : {}),
    ...(config.DISPATCH_MQTT_PASSWORD ? { password: config.DISPATCH_MQTT_PASSWORD } : {}),
  };
}

/**
 * Compose the dispatcher from its config and dependencies: wiring only. Nothing runs until
 * `start()`; tests serve its routes with the host's `buildHostApp([dispatcher])` and `inject()`.
 */
export function buildDispatcher(options: BuildDispatcherOptions): FieldhookDispatcher {
  const { config } = options;
  const logger = options.logger.child({ service: 'dispatcher' });
  const clock = options.clock ?? systemClock;
  const registry = new Registry();
  const ownPlane = options.store || options.plane ? undefined : createControlPlane(config, logger);
  const plane = options.plane ?? ownPlane;
  // On PostgreSQL the instance id names this instance's leases in the shared outbox: stable
  // across restarts (the default kept in DATA_DIR), so a restart releases its own leases at once.
  const opened = options.store
    ? undefined
    : createDispatchStore(plane!, dispatchDbPath(config), config.INSTANCE_ID ?? (plane!.kind === 'postgres' ? resolveInstanceId(config.DATA_DIR) : 'local'));
  const store: DispatchStore = options.store ?? opened!;
  const transport = options.transport ?? createHttpTransport(clock);
  const limiter = createEndpointLimiter(clock, {
    concurrency: config.WEBHOOK_ENDPOINT_CONCURRENCY,
    failureThreshold: config.WEBHOOK_BREAKER_FAILURE_THRESHOLD,
    cooldownMs: config.WEBHOOK_BREAKER_COOLDOWN_MS,
  });
  const guards = createGuardCache(
    {
      allowCidrs: config.WEBHOOK_ALLOW_CIDRS,
      httpsOnly: config.WEBHOOK_HTTPS_ONLY,
      connections: config.WEBHOOK_GLOBAL_CONCURRENCY,
      withoutAgents: options.transport !== undefined,
      ...(options.resolver ? { resolver: options.resolver } : {}),
    },
    logger,
  );
  const mailer =
    options.mailer ?? (config.SMTP_URL ? createSmtpMailer({ url: config.SMTP_URL, from: config.SMTP_FROM, timeoutMs: config.WEBHOOK_TIMEOUT_MS }) : undefined);
  // E-mail is offered (and documented) only where a relay can send it.
  const availableFormats = FORMAT_NAMES.filter((f) => f !== 'email' || mailer !== undefined);
  const metrics = createDispatchMetrics(registry, {
    backlog: () => store.outbox.backlog(),
    disabledEndpoints: async () => (await store.subscriptions.list()).filter((s) => !s.enabled).length,
    now: () => clock.now(),
  });
  const service = createDispatchService({
    store,
    clock,
    logger,
    guardForFarms: (farms) => guards.guardFor(farms).guard,
    wake: () => loop.wake(),
    resetEndpoint: (id) => limiter.reset(id),
    secretRotationOverlapMs: config.WEBHOOK_SECRET_ROTATION_OVERLAP_MS,
    onAccepted: (n) => metrics.eventAccepted(n),
    availableFormats,
  });
  const loop = createDeliveryLoop(
    {
      timeoutMs: config.WEBHOOK_TIMEOUT_MS,
      retry: {
        scheduleMs: config.WEBHOOK_RETRY_SCHEDULE_MS,
        jitter: config.WEBHOOK_RETRY_JITTER,
        minHorizonMs: config.WEBHOOK_RETRY_MIN_HORIZON_MS,
        retryAfterMaxMs: config.WEBHOOK_RETRY_AFTER_MAX_MS,
      },
      disableAfterMs: config.WEBHOOK_DISABLE_AFTER_MS,
      globalConcurrency: config.WEBHOOK_GLOBAL_CONCURRENCY,
      pollIntervalMs: config.DISPATCH_POLL_INTERVAL_MS,
    },
    {
      store,
      signer: createSigner(),
      transport,
      limiter,
      clock,
      logger,
      metrics,
      guardFor: (sub) => guards.guardFor(sub.farms),
      ...createOperationalEvents({ publish: (event) => service.publish(event), clock, logger }),
      ...(options.random ? { random: options.random } : {}),
      ...(mailer ? { mailer } : {}),
    },
  );
  const pruner = createDeliveryPruner({ store, clock, logger }, { retentionMs: config.DELIVERY_RETENTION_MS, intervalMs: DEFAULT_DELIVERY_PRUNER_OPTIONS.intervalMs });
  const busConnection = options.bus ?? (() => configuredBus(config));

  const routes: FastifyPluginAsync = async (scope) => {
    scope.addSchema(subscriptionSchema);
    scope.addSchema(deliverySchema);
    requireAdminToken(scope, config.ADMIN_TOKEN);
    await scope.register(subscriptionRoutes, { service, formats: availableFormats });
    await scope.register(deliveryRoutes, { service });
    await scope.register(eventRoutes, { service });
  };

  let bus: Subscriber | undefined;
  let running = false;
  let closed = false;
  const open = () => {
    if (closed) throw Errors.webhookStopped();
  };

  return {
    name: 'dispatcher',
    routes,
    metrics: registry,
    readiness: [
      {
        name: 'dispatcher',
        check: async () => ({
          // The outbox answers (the backlog query touches the store) and the loop is running.
          ok: running && (bus === undefined || bus.connected()),
          detail: { pending: (await store.outbox.backlog()).reduce((n, row) => n + row.pending, 0), ...(bus ? { bus: bus.connected() } : {}) },
        }),
      },
    ],
    service,
    store,
    publish: async (event) => (open(), service.publish(event)),
    publishMany: async (events) => (open(), service.publishMany(events)),
    async start() {
      if (!config.ADMIN_TOKEN) logger.warn('ADMIN_TOKEN is not set: the subscriptions and deliveries API refuses every request');
      await opened?.open();
      await loop.start();
      pruner.start();
      running = true;
      const connection = busConnection();
      if (connection) {
        bus = createBusConsumer(
          connection,
          { publish: (e) => service.publish(e), logger },
          config.INSTANCE_ID ? { clientId: instanceClientId('fieldhook-dispatcher', config.INSTANCE_ID) } : {},
        );
        await bus.start();
      }
    },
    stop: () => close(),
    leave: (leaving) => close(leaving ?? {}),
  };

  /** Stops, or with `leaving` leaves the events group for good; the rest closes either way. */
  async function close(leaving?: LeaveOptions): Promise<void> {
    if (closed) return;
    closed = true;
    running = false;
    const pruned = pruner.stop();
    try {
      // Still open while leaving: the events its session held go into the outbox.
      await endSubscribers([bus], leaving);
    } finally {
      // Both done with the store before it closes (and the control plane's pool after it).
      await loop.stop();
      await pruned;
      await guards.close();
      // A mailer passed in is its owner's to close.
      if (!options.mailer) mailer?.close();
      await store.close();
      if (ownPlane) await closeControlPlane(ownPlane);
    }
  }
}
