import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import { Registry } from 'prom-client';
import type { Dispatcher as UndiciDispatcher } from 'undici';
import { installErrorHandler } from '../shared/http-errors.js';
import type { Logger } from '../shared/logger.js';
import { createBusConsumer, type BusConsumer } from './bus-consumer.js';
import { systemClock, type Clock } from './clock.js';
import { dispatchDbPath, type DispatchConfig } from './config.js';
import { createDeliveryLoop, type DeliveryLoop } from './delivery-loop.js';
import { createDispatchService, type DispatchService } from './dispatch-service.js';
import { createEndpointLimiter } from './endpoint-limiter.js';
import { OPERATIONAL_EVENT_TYPES, TEST_EVENT_TYPE, type PublishInput, type PublishResult } from './events.js';
import { createHttpTransport, type Transport } from './http-transport.js';
import { WebhookStopped } from './errors.js';
import { createDispatchMetrics } from './metrics.js';
import { createSigner } from './signer.js';
import { createAddressGuard, createGuardedAgent, policyFor, type AddressGuard, type Resolver } from './ssrf-guard.js';
import { createSqliteStore } from './store/sqlite-store.js';
import type { DispatchStore, SubscriptionRecord } from './store/types.js';
import { deliveryRoutes } from './routes/deliveries.js';
import { eventRoutes } from './routes/events.js';
import { subscriptionRoutes } from './routes/subscriptions.js';
import { requireAdminToken } from './routes/auth.js';
import { registerOpenApi } from './routes/documentation.js';
import { deliverySchema, subscriptionSchema } from './routes/schemas.js';

/**
 * Scheme, host and port of a URL. Chat platforms put secrets in webhook paths and queries, so
 * logs and operational events name the endpoint by its origin only.
 */
export function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid url)';
  }
}

/** How often finished deliveries past retention are pruned, ms. */
export const PRUNE_INTERVAL_MS = 3_600_000;

export interface BuildDispatcherOptions {
  config: DispatchConfig;
  logger: Logger;
  /** Shared Prometheus registry; a private one when absent. */
  registry?: Registry;
  clock?: Clock;
  /** Defaults to SQLite at `DISPATCH_DB_PATH` (or `<DATA_DIR>/dispatch.sqlite`). */
  store?: DispatchStore;
  /** Defaults to undici through the SSRF-guarded agent. */
  transport?: Transport;
  /** DNS resolver used by the SSRF guard (tests simulate hostile DNS). */
  resolver?: Resolver;
  /** Jitter source, [0, 1). */
  random?: () => number;
  /** Serve `/metrics` from `app` (turn off when the host process serves one for all). Default true. */
  serveMetrics?: boolean;
  /**
   * Consume `fieldhook/v1/events` from this broker (e.g. the embedded one, with the process's
   * internal login). Defaults to `DISPATCH_MQTT_*` from the config; no consumer when neither.
   */
  bus?: { url: string; username?: string; password?: string };
}

export interface FieldhookDispatcher {
  /** Standalone Fastify app: the API, `/documentation/json`, and `/metrics`. Not listening. */
  app: FastifyInstance;
  /**
   * The API routes alone (`/v1/subscriptions`, `/v1/deliveries`, `/v1/events`), for a host app;
   * call `registerOpenApi(host)` first for them to appear in its OpenAPI document.
   */
  routes: FastifyPluginAsync;
  service: DispatchService;
  store: DispatchStore;
  registry: Registry;
  /** Commit an event to the outbox and fan it out; resolves once it is durable. */
  publish(event: PublishInput): Promise<PublishResult>;
  publishMany(events: PublishInput[]): Promise<PublishResult[]>;
  /** Start the delivery loop (and the bus consumer when configured). */
  start(): Promise<void>;
  /** Stop taking work, finish attempts in flight, close the store and the app. */
  stop(): Promise<void>;
}

/**
 * Compose the dispatcher from its config and dependencies. Nothing runs until `start()`; tests
 * call `app.inject()` without listening.
 */
export function buildDispatcher(options: BuildDispatcherOptions): FieldhookDispatcher {
  const { config, logger } = options;
  const log = logger.child({ service: 'dispatcher' });
  const clock = options.clock ?? systemClock;
  const registry = options.registry ?? new Registry();
  const store = options.store ?? createSqliteStore(dispatchDbPath(config));
  const transport = options.transport ?? createHttpTransport(clock);
  const limiter = createEndpointLimiter(clock, {
    concurrency: config.WEBHOOK_ENDPOINT_CONCURRENCY,
    failureThreshold: config.WEBHOOK_BREAKER_FAILURE_THRESHOLD,
    cooldownMs: config.WEBHOOK_BREAKER_COOLDOWN_MS,
  });

  // One guard and agent per distinct policy: most subscriptions share the global one.
  const guards = new Map<string, { guard: AddressGuard; agent: UndiciDispatcher | undefined }>();
  const admitted = new Set<string>();
  const guardFor = (farms: readonly string[]) => {
    const policy = policyFor(config.WEBHOOK_ALLOW_CIDRS, farms, config.WEBHOOK_HTTPS_ONLY);
    const key = JSON.stringify(policy);
    let entry = guards.get(key);
    if (!entry) {
      const guard = createAddressGuard(policy);
      const agent = options.transport
        ? undefined
        : createGuardedAgent(guard, {
            // Several subscriptions may share an origin (one chat platform, many hooks): the
            // limiter bounds attempts per subscription, the pool only must not be the bottleneck.
            connections: config.WEBHOOK_GLOBAL_CONCURRENCY,
            ...(options.resolver ? { resolver: options.resolver } : {}),
            onAllowListed: ({ hostname, address, cidr }) => {
              const k = `${key}|${hostname}|${address}`;
              if (admitted.has(k)) return;
              admitted.add(k);
              // Audited: every private destination reached, once per policy and address.
              log.warn({ hostname, address, cidr, farms }, 'allow-list admitted a private webhook destination');
            },
          });
      entry = { guard, agent };
      guards.set(key, entry);
    }
    return entry;
  };

  const metrics = createDispatchMetrics(registry, {
    backlog: () => store.outbox.backlog(),
    disabledEndpoints: async () => (await store.subscriptions.list()).filter((s) => !s.enabled).length,
    now: () => clock.now(),
  });

  let loop: DeliveryLoop;
  const service = createDispatchService({
    store,
    clock,
    logger: log,
    guardForFarms: (farms) => guardFor(farms).guard,
    wake: () => loop.wake(),
    resetEndpoint: (id) => limiter.reset(id),
    secretRotationOverlapMs: config.WEBHOOK_SECRET_ROTATION_OVERLAP_MS,
    onAccepted: (n) => metrics.eventAccepted(n),
  });

  const emitOperational = async (type: (typeof OPERATIONAL_EVENT_TYPES)[number], sub: SubscriptionRecord, data: Record<string, unknown>) => {
    try {
      await service.publish({
        type,
        data: { subscription_id: sub.id, endpoint: originOf(sub.url), farms: sub.farms, ...data },
        ...(sub.farms.length === 1 ? { farm: sub.farms[0]! } : {}),
      });
    } catch (err) {
      log.error({ err, type }, 'could not publish operational event');
    }
  };

  loop = createDeliveryLoop(
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
      logger: log,
      metrics,
      guardFor: (sub) => guardFor(sub.farms),
      ...(options.random ? { random: options.random } : {}),
      async onDisabled(sub, reason) {
        log.warn({ subscription: sub.id, reason }, 'subscription disabled; its backlog is kept until it is re-enabled');
        await emitOperational('endpoint.disabled', sub, { reason, disabled_at: new Date(clock.now()).toISOString() });
      },
      async onExhausted(delivery, sub, last) {
        log.warn({ subscription: sub.id, delivery: delivery.id, event: delivery.eventId }, 'delivery exhausted its retries');
        const operational: readonly string[] = [...OPERATIONAL_EVENT_TYPES, TEST_EVENT_TYPE];
        if (operational.includes(delivery.eventType)) return;
        await emitOperational('delivery.exhausted', sub, {
          delivery_id: delivery.id,
          event_id: delivery.eventId,
          event_type: delivery.eventType,
          attempts: last.attempt.attempt,
          last_status_code: last.attempt.statusCode,
          last_error: last.attempt.error,
        });
      },
    },
  );

  const routes: FastifyPluginAsync = async (scope) => {
    scope.addSchema(subscriptionSchema);
    scope.addSchema(deliverySchema);
    requireAdminToken(scope, config.ADMIN_TOKEN);
    await scope.register(subscriptionRoutes, { service });
    await scope.register(deliveryRoutes, { service });
    await scope.register(eventRoutes, { service });
  };

  const app: FastifyInstance = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    // Nullable fields are written as type unions (`["string", "null"]`), as OpenAPI 3.1 does; an
    // unknown property is refused rather than silently dropped, so a typo (`event` for `events`)
    // does not create a subscription to everything.
    ajv: { customOptions: { allowUnionTypes: true, removeAdditional: false } },
  });
  installErrorHandler(app);
  registerOpenApi(app);
  void app.register(routes);
  if (options.serveMetrics !== false) {
    app.get('/metrics', { schema: { hide: true } }, async (_request, reply) =>
      reply.type(registry.contentType).send(await registry.metrics()),
    );
  }

  let bus: BusConsumer | null = null;
  let closed = false;
  let pruneTimer: unknown = null;
  const prune = async () => {
    try {
      const n = await store.outbox.prune(clock.now() - config.DELIVERY_RETENTION_MS);
      if (n > 0) log.info({ pruned: n }, 'pruned finished deliveries past retention');
    } catch (err) {
      log.error({ err }, 'pruning the delivery log failed');
    }
    pruneTimer = clock.setTimeout(() => void prune(), PRUNE_INTERVAL_MS);
  };

  return {
    app,
    routes,
    service,
    store,
    registry,
    publish: async (event) => {
      if (closed) throw WebhookStopped();
      return service.publish(event);
    },
    publishMany: async (events) => {
      if (closed) throw WebhookStopped();
      return service.publishMany(events);
    },
    async start() {
      if (!config.ADMIN_TOKEN) log.warn('ADMIN_TOKEN is not set: the subscriptions and deliveries API refuses every request');
      await loop.start();
      void prune();
      const busOptions =
        options.bus ??
        (config.DISPATCH_MQTT_URL
          ? {
              url: config.DISPATCH_MQTT_URL,
              ...(config.DISPATCH_MQTT_USERNAME ? { username: config.DISPATCH_MQTT_USERNAME } : {}),
              ...(config.DISPATCH_MQTT_PASSWORD ? { password: config.DISPATCH_MQTT_PASSWORD } : {}),
            }
          : undefined);
      if (busOptions) {
        bus = createBusConsumer(busOptions, { publish: (e) => service.publish(e), logger: log });
        await bus.start();
      }
    },
    async stop() {
      if (closed) return;
      closed = true;
      if (pruneTimer !== null) clock.clearTimeout(pruneTimer);
      await bus?.stop();
      await loop.stop();
      await app.close();
      await Promise.all([...guards.values()].map((g) => (g.agent as { close?: () => Promise<void> } | undefined)?.close?.()));
      await store.close();
    },
  };
}
