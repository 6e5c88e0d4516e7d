import type { Dispatcher } from 'undici';
import type { Logger } from '../shared/logger.js';
import { Errors } from '../shared/error-catalog.js';
import { isFieldhookError } from '../shared/errors.js';
import type { Clock } from '../shared/clock.js';
import type { EndpointLimiter } from './endpoint-limiter.js';
import type { DispatchMetrics } from './metrics.js';
import {
  ABORT_HEADER,
  ABORT_VALUE,
  GONE_STATUS,
  RETRY_AFTER_STATUSES,
  nextAttemptAt,
  parseRetryAfter,
  DEFAULT_RETRY_POLICY,
  type RetryPolicyOptions,
} from './retry-policy.js';
import type { Signer } from './signer.js';
import { checkUrl, type AddressGuard } from './ssrf-guard.js';
import type { Transport, TransportResponse } from './http-transport.js';
import type { EventEnvelope } from './events.js';
import { formatOf, type Delivery } from './formats/index.js';
import type { Mailer } from './formats/mailer.js';
import type {
  AttemptOutcome,
  AttemptResult,
  ClaimedDelivery,
  DeliveryStatus,
  DispatchStore,
  SubscriptionRecord,
} from './store/types.js';

/** Extra lease beyond the request timeout before another loop may take a delivery over, ms. */
export const LEASE_MARGIN_MS = 30_000;

export const USER_AGENT = 'fieldhook-webhooks/0.1';

/** Shortest sleep between two passes that found nothing to do, ms: never spin. */
export const MIN_SLEEP_MS = 5;

export interface DeliveryLoopOptions {
  timeoutMs: number;
  retry: RetryPolicyOptions;
  /** Continuous-failure time after which a subscription is disabled, ms. */
  disableAfterMs: number;
  globalConcurrency: number;
  pollIntervalMs: number;
}

export const DEFAULT_DELIVERY_LOOP_OPTIONS: Readonly<DeliveryLoopOptions> = Object.freeze({
  /** Whole-request timeout of one attempt, ms: 15 s. */
  timeoutMs: 15_000,
  retry: DEFAULT_RETRY_POLICY,
  /** A subscription failing continuously this long is disabled, ms: 5 days. */
  disableAfterMs: 5 * 24 * 3_600_000,
  /** Attempts in flight across all subscriptions. */
  globalConcurrency: 512,
  /** Longest sleep between looks at the outbox, ms. */
  pollIntervalMs: 1_000,
});

export interface DeliveryLoopDeps {
  store: DispatchStore;
  signer: Signer;
  transport: Transport;
  limiter: EndpointLimiter;
  clock: Clock;
  logger: Logger;
  metrics: DispatchMetrics;
  /** The guard and agent that enforce a subscription's SSRF policy. */
  guardFor(sub: SubscriptionRecord): { guard: AddressGuard; agent: Dispatcher | undefined };
  onDisabled(sub: SubscriptionRecord, reason: string): Promise<void>;
  onExhausted(delivery: ClaimedDelivery, sub: SubscriptionRecord, last: AttemptResult): Promise<void>;
  random?: () => number;
  /** The SMTP relay of `email` subscriptions; without one their attempts fail. */
  mailer?: Mailer;
}

export interface DeliveryLoop {
  start(): Promise<void>;
  /**
   * Stop claiming, wait for the pass under way and the attempts in flight, and record them:
   * once it resolves the loop touches the store no more (its owner may close it).
   */
  stop(): Promise<void>;
  /** Look at the outbox now (new events, re-enabled subscription, manual retry). */
  wake(): void;
  inFlight(): number;
}

/** A destination refused by the SSRF guard: retrying cannot help, unlike a network failure. */
const BLOCKED_CODES: ReadonlySet<string> = new Set([Errors.webhookSsrfBlocked.code, Errors.subscriptionInvalidUrl.code]);

function errorCode(err: unknown): string {
  const e = err as { code?: unknown; cause?: { code?: unknown } };
  if (typeof e.code === 'string') return e.code;
  if (e.cause && typeof e.cause.code === 'string') return e.cause.code;
  return 'UNKNOWN';
}

/**
 * The loop that turns the outbox into HTTP attempts. Each pass expires stale deliveries, then,
 * per subscription with due work, leases as many as that endpoint's limiter allows; results
 * are recorded in batched transactions. A crash loses at most the record of attempts in
 * flight, so those are re-sent after the restart (at-least-once, same `webhook-id`).
 */
export function createDeliveryLoop(options: DeliveryLoopOptions, deps: DeliveryLoopDeps): DeliveryLoop {
  const { store, clock, limiter, logger, metrics } = deps;
  const random = deps.random ?? Math.random;
  let stopped = true;
  let timer: unknown = null;
  let ticking = false;
  /** The last pass started: stop() waits for it, so none reaches the store after the loop stopped. */
  let passing: Promise<void> = Promise.resolve();
  let wakeAgain = false;
  let inFlight = 0;
  let rotation = 0;
  const running = new Set<Promise<void>>();
  let pending: { result: AttemptResult; claimed: ClaimedDelivery; sub: SubscriptionRecord }[] = [];
  let flushScheduled = false;
  let flushing: Promise<void> = Promise.resolve();

  const schedule = (ms: number) => {
    if (stopped) return;
    if (timer !== null) clock.clearTimeout(timer);
    timer = clock.setTimeout(() => {
      timer = null;
      tick();
    }, Math.max(0, ms));
  };

  const wake = () => {
    if (stopped) return;
    if (ticking) wakeAgain = true;
    else schedule(0);
  };

  /** Start a pass over the outbox, unless one runs or the loop stopped. */
  function tick(): void {
    if (stopped || ticking) return;
    passing = pass();
  }

  async function pass(): Promise<void> {
    ticking = true;
    wakeAgain = false;
    let sleep = options.pollIntervalMs;
    try {
      const now = clock.now();
      metrics.delivery('expired', await store.outbox.expireDue(now));
      const subs = (await store.subscriptions.list()).filter((s) => s.enabled);
      // Rotate the starting point so that, when the global cap binds, no subscription always
      // comes last.
      rotation = subs.length > 0 ? (rotation + 1) % subs.length : 0;
      const ordered = [...subs.slice(rotation), ...subs.slice(0, rotation)];
      const wants: { subscriptionId: string; limit: number }[] = [];
      for (const sub of ordered) {
        const free = limiter.available(sub.id, sub.rateLimitPerSecond);
        if (free > 0) {
          wants.push({ subscriptionId: sub.id, limit: free });
          continue;
        }
        // A full endpoint is woken by its own completions; an open breaker or an empty token
        // bucket by time.
        const openUntil = limiter.openUntil(sub.id);
        if (openUntil !== null) sleep = Math.min(sleep, openUntil - now);
        else if (sub.rateLimitPerSecond) sleep = Math.min(sleep, Math.ceil(1000 / sub.rateLimitPerSecond));
      }
      // Stopping: nothing more is leased (a lease nobody attempts waits out its expiry), but what
      // this pass already leased is attempted, and stop() waits for it.
      const room = stopped ? 0 : options.globalConcurrency - inFlight;
      const claims = room > 0 && wants.length > 0 ? await store.outbox.claim(wants, now, now + options.timeoutMs + LEASE_MARGIN_MS, room) : [];
      const byId = new Map(subs.map((s) => [s.id, s]));
      const claimedPer = new Map<string, number>();
      const secretsOf = new Map<string, string[]>();
      for (const c of claims) {
        const sub = byId.get(c.subscriptionId)!;
        claimedPer.set(sub.id, (claimedPer.get(sub.id) ?? 0) + 1);
        let secrets = secretsOf.get(sub.id);
        if (!secrets) {
          secrets = await store.subscriptions.activeSecrets(sub.id, now);
          secretsOf.set(sub.id, secrets);
        }
        limiter.acquire(sub.id);
        inFlight++;
        const p = attempt(c, sub, secrets).finally(() => running.delete(p));
        running.add(p);
      }
      // Subscriptions that got less than they could take have nothing more due now: sleep until
      // the first of their next retries (deliveries in flight wake the loop when they finish).
      const drained = wants.filter((w) => (claimedPer.get(w.subscriptionId) ?? 0) < w.limit).map((w) => w.subscriptionId);
      if (room > 0 && drained.length > 0) {
        const next = await store.outbox.nextDueAt(drained, now);
        if (next !== null) sleep = Math.min(sleep, next - now);
      }
    } catch (err) {
      logger.error({ err }, 'delivery loop pass failed');
    } finally {
      ticking = false;
    }
    if (wakeAgain) schedule(0);
    else schedule(Math.max(sleep, MIN_SLEEP_MS));
  }

  /**
   * Send what a format rendered: an HTTP request through the subscription's SSRF guard, or an
   * e-mail through the configured relay. Both answer a status and a snippet for the log.
   */
  async function send(delivery: Delivery, sub: SubscriptionRecord): Promise<TransportResponse> {
    if (delivery.kind === 'mail') {
      if (!deps.mailer) throw Errors.subscriptionFormatUnavailable('No SMTP relay is configured (SMTP_URL)');
      return deps.mailer.send(delivery);
    }
    const { guard, agent } = deps.guardFor(sub);
    // Literal-IP hosts never reach the lookup hook; the agent checks them again once connected.
    checkUrl(delivery.url, guard);
    const headers = { ...delivery.headers, 'user-agent': USER_AGENT };
    return deps.transport({ url: delivery.url, headers, body: delivery.body, timeoutMs: options.timeoutMs, dispatcher: agent });
  }

  async function attempt(c: ClaimedDelivery, sub: SubscriptionRecord, secrets: string[]): Promise<void> {
    const startedAt = clock.now();
    const attemptNo = c.attempts + 1;
    const firstAttemptAt = c.firstAttemptAt ?? startedAt;
    const t0 = performance.now();
    let statusCode: number | null = null;
    let snippet: string | null = null;
    let error: string | null = null;
    let outcome: AttemptOutcome;
    let retryAfterMs: number | null = null;
    const format = formatOf(sub.format);
    try {
      const delivery = format.render({
        body: c.body,
        event: JSON.parse(c.body) as EventEnvelope,
        subscription: sub,
        signatureHeaders: () => ({ ...deps.signer.sign(c.eventId, startedAt, c.body, secrets) }),
      });
      const res = await send(delivery, sub);
      statusCode = res.statusCode;
      snippet = res.snippet;
      if (statusCode >= 200 && statusCode < 300) outcome = 'success';
      else if (String(res.headers[ABORT_HEADER] ?? '').toLowerCase() === ABORT_VALUE) outcome = 'aborted';
      else if (statusCode === GONE_STATUS) outcome = 'gone';
      else {
        outcome = 'failure';
        if (RETRY_AFTER_STATUSES.has(statusCode)) {
          const asked = format.retryAfterMs?.(res) ?? null;
          retryAfterMs =
            asked !== null
              ? Math.min(asked, options.retry.retryAfterMaxMs)
              : parseRetryAfter(res.headers['retry-after'], clock.now(), options.retry.retryAfterMaxMs);
        }
      }
    } catch (err) {
      const code = errorCode(err);
      error = `${code}: ${(err as Error).message}`.slice(0, 500);
      outcome = BLOCKED_CODES.has(code) ? 'blocked' : code === Errors.webhookTimeout.code ? 'timeout' : 'network';
      if (!isFieldhookError(err) && code === 'UNKNOWN') logger.warn({ err, delivery: c.id }, 'unexpected delivery error');
    }
    const latencyMs = performance.now() - t0;
    const now = clock.now();
    let status: DeliveryStatus;
    let next: number | null = null;
    let disableReason: string | undefined;
    if (outcome === 'success') status = 'succeeded';
    else if (outcome === 'aborted') status = 'aborted';
    else if (outcome === 'gone') {
      // Kept pending: the receiver said it is gone, not that this event is unwanted; if someone
      // re-enables the subscription the backlog, this one first, goes out.
      status = 'pending';
      next = now;
      disableReason = 'gone';
    } else {
      next = nextAttemptAt(options.retry, attemptNo, now, firstAttemptAt, random, retryAfterMs);
      if (next === null) status = 'failed';
      else if (c.validUntil !== null && next >= c.validUntil) status = 'expired';
      else status = 'pending';
      if (status !== 'pending') next = null;
    }
    metrics.attempt(outcome, latencyMs);
    const result: AttemptResult = {
      deliveryId: c.id,
      subscriptionId: sub.id,
      attempt: { attempt: attemptNo, startedAt, statusCode, latencyMs, responseSnippet: snippet, error, outcome },
      status,
      nextAttemptAt: next,
      firstAttemptAt,
      ...(disableReason ? { disableReason } : {}),
    };
    logger.debug(
      { delivery: c.id, event: c.eventId, subscription: sub.id, correlationId: c.correlationId, attempt: attemptNo, statusCode, outcome, latencyMs },
      'webhook attempt',
    );
    limiter.release(sub.id, outcome === 'success');
    inFlight--;
    pending.push({ result, claimed: c, sub });
    scheduleFlush();
  }

  function scheduleFlush(): void {
    if (flushScheduled) return;
    flushScheduled = true;
    // Batch the records of attempts finishing together into one commit: at-least-once only needs
    // them eventually, and one fsync per attempt would cap throughput at the disk's sync rate.
    clock.setTimeout(() => {
      flushScheduled = false;
      flushing = flushing.then(flush);
    }, 0);
  }

  async function flush(): Promise<void> {
    const batch = pending;
    pending = [];
    if (batch.length === 0) return;
    try {
      const now = clock.now();
      const out = await store.outbox.recordResults(
        batch.map((b) => b.result),
        now,
      );
      for (const b of batch) if (b.result.status !== 'pending') metrics.delivery(b.result.status as Exclude<DeliveryStatus, 'pending'>);
      metrics.delivery('superseded', out.superseded);
      const subs = new Map(batch.map((b) => [b.sub.id, b.sub]));
      for (const id of out.disabled) await deps.onDisabled(subs.get(id)!, 'gone');
      for (const [id, since] of out.failingSince) {
        if (now - since >= options.disableAfterMs && (await store.subscriptions.disable(id, 'failing', now))) {
          await deps.onDisabled(subs.get(id)!, 'failing');
        }
      }
      for (const b of batch) if (b.result.status === 'failed') await deps.onExhausted(b.claimed, b.sub, b.result);
    } catch (err) {
      // The leases expire and the deliveries are attempted again: a duplicate, never a loss.
      logger.error({ err, count: batch.length }, 'recording delivery attempts failed');
    }
    wake();
  }

  return {
    async start() {
      if (!stopped) return;
      stopped = false;
      // Whatever this instance's previous run had leased was never recorded (other instances'
      // leases stay theirs: see OutboxRepository.releaseLeases).
      const released = await store.outbox.releaseLeases();
      if (released > 0) logger.info({ released }, 're-queued deliveries in flight at the last stop');
      schedule(0);
    },
    async stop() {
      stopped = true;
      if (timer !== null) clock.clearTimeout(timer);
      timer = null;
      // The pass under way first: it may still start attempts, which join `running`.
      await passing;
      await Promise.allSettled([...running]);
      await flushing;
      await flush();
    },
    wake,
    inFlight: () => inFlight,
  };
}
