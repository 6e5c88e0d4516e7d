import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AttemptOutcome, BacklogRow, DeliveryStatus } from './store/types.js';

export interface DispatchMetricsSource {
  backlog(): Promise<BacklogRow[]>;
  disabledEndpoints(): Promise<number>;
  now(): number;
}

export interface DispatchMetrics {
  registry: Registry;
  eventAccepted(n: number): void;
  attempt(outcome: AttemptOutcome, latencyMs: number): void;
  delivery(status: Exclude<DeliveryStatus, 'pending'>, n?: number): void;
}

/**
 * Prometheus metrics of the dispatcher on an injected registry, so one process serves a single
 * `/metrics` for all services. Backlog figures are read from the store at scrape time.
 */
export function createDispatchMetrics(registry: Registry, source: DispatchMetricsSource): DispatchMetrics {
  const accepted = new Counter({
    name: 'fieldhook_webhook_events_accepted_total',
    help: 'Events committed to the outbox.',
    registers: [registry],
  });
  const attempts = new Counter({
    name: 'fieldhook_webhook_attempts_total',
    help: 'Delivery attempts by outcome (success, failure, timeout, network, blocked, gone, aborted).',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const deliveries = new Counter({
    name: 'fieldhook_webhook_deliveries_total',
    help: 'Deliveries that reached a final state, by outcome (succeeded, failed, aborted, expired, superseded).',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'fieldhook_webhook_attempt_duration_seconds',
    help: 'Duration of one delivery attempt, until the response head and snippet are read.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30],
    registers: [registry],
  });
  new Gauge({
    name: 'fieldhook_webhook_backlog',
    help: 'Pending deliveries per subscription.',
    labelNames: ['subscription'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const row of await source.backlog()) this.set({ subscription: row.subscriptionId }, row.pending);
    },
  });
  new Gauge({
    name: 'fieldhook_webhook_oldest_pending_age_seconds',
    help: 'Age of the oldest pending delivery per subscription.',
    labelNames: ['subscription'],
    registers: [registry],
    async collect() {
      this.reset();
      const now = source.now();
      for (const row of await source.backlog()) {
        if (row.oldestCreatedAt !== null) this.set({ subscription: row.subscriptionId }, (now - row.oldestCreatedAt) / 1000);
      }
    },
  });
  new Gauge({
    name: 'fieldhook_webhook_endpoints_disabled',
    help: 'Subscriptions currently disabled (410 Gone, continuous failure, or by hand).',
    registers: [registry],
    async collect() {
      this.set(await source.disabledEndpoints());
    },
  });
  return {
    registry,
    eventAccepted: (n) => accepted.inc(n),
    attempt: (outcome, ms) => {
      attempts.inc({ outcome });
      latency.observe(ms / 1000);
    },
    delivery: (status, n = 1) => {
      if (n > 0) deliveries.inc({ outcome: status }, n);
    },
  };
}
