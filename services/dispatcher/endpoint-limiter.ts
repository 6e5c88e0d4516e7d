import type { Clock } from '../shared/clock.js';

export interface EndpointLimiterOptions {
  /** Attempts in flight per subscription. Default 10. */
  concurrency: number;
  /** Consecutive failures that open the breaker. Default 5. */
  failureThreshold: number;
  /** First open period, ms; doubles per failed probe up to 16x. Default 30000. */
  cooldownMs: number;
}

export const DEFAULT_ENDPOINT_LIMITER: EndpointLimiterOptions = Object.freeze({
  concurrency: 10,
  failureThreshold: 5,
  cooldownMs: 30_000,
});

export type BreakerState = 'closed' | 'open' | 'half-open';

interface Endpoint {
  inFlight: number;
  consecutiveFailures: number;
  openUntil: number;
  openings: number;
  probing: boolean;
  /** Token bucket for the optional per-subscription rate limit. */
  tokens: number;
  refilledAt: number;
}

/**
 * Per-subscription isolation: a concurrency cap, an optional rate limit and a circuit breaker.
 * A dead endpoint holds at most `concurrency` slots and, once its breaker opens, none at all
 * except one probe per cooldown, so the delivery loop's capacity goes to healthy endpoints.
 * State is in memory: after a restart every breaker starts closed, which costs a few probes.
 */
export interface EndpointLimiter {
  /** Slots available now for `id` (0 when full, open, or out of rate tokens). */
  available(id: string, rateLimitPerSecond: number | null): number;
  acquire(id: string): void;
  release(id: string, success: boolean): void;
  state(id: string): BreakerState;
  /** Epoch ms when an open breaker lets a probe through, or null. */
  openUntil(id: string): number | null;
  reset(id: string): void;
}

export function createEndpointLimiter(clock: Clock, options: Partial<EndpointLimiterOptions> = {}): EndpointLimiter {
  const opts = { ...DEFAULT_ENDPOINT_LIMITER, ...options };
  const endpoints = new Map<string, Endpoint>();
  const get = (id: string): Endpoint => {
    let e = endpoints.get(id);
    if (!e) {
      e = { inFlight: 0, consecutiveFailures: 0, openUntil: 0, openings: 0, probing: false, tokens: Number.NaN, refilledAt: 0 };
      endpoints.set(id, e);
    }
    return e;
  };
  const stateOf = (e: Endpoint, now: number): BreakerState => {
    if (e.consecutiveFailures < opts.failureThreshold) return 'closed';
    return now < e.openUntil ? 'open' : 'half-open';
  };
  return {
    available(id, rate) {
      const e = get(id);
      const now = clock.now();
      const state = stateOf(e, now);
      if (state === 'open') return 0;
      let free = state === 'half-open' ? (e.probing || e.inFlight > 0 ? 0 : 1) : opts.concurrency - e.inFlight;
      if (rate !== null && rate > 0) {
        if (Number.isNaN(e.tokens)) (e.tokens = rate), (e.refilledAt = now);
        e.tokens = Math.min(rate, e.tokens + ((now - e.refilledAt) / 1000) * rate);
        e.refilledAt = now;
        free = Math.min(free, Math.floor(e.tokens));
      }
      return Math.max(0, free);
    },
    acquire(id) {
      const e = get(id);
      e.inFlight++;
      if (!Number.isNaN(e.tokens)) e.tokens -= 1;
      if (stateOf(e, clock.now()) === 'half-open') e.probing = true;
    },
    release(id, success) {
      const e = get(id);
      e.inFlight = Math.max(0, e.inFlight - 1);
      const wasProbe = e.probing;
      e.probing = false;
      if (success) {
        e.consecutiveFailures = 0;
        e.openings = 0;
        e.openUntil = 0;
        return;
      }
      e.consecutiveFailures++;
      if (e.consecutiveFailures >= opts.failureThreshold && (wasProbe || e.openUntil === 0 || e.consecutiveFailures === opts.failureThreshold)) {
        e.openUntil = clock.now() + opts.cooldownMs * 2 ** Math.min(e.openings, 4);
        e.openings++;
      }
    },
    state(id) {
      return stateOf(get(id), clock.now());
    },
    openUntil(id) {
      const e = get(id);
      return stateOf(e, clock.now()) === 'open' ? e.openUntil : null;
    },
    reset(id) {
      endpoints.delete(id);
    },
  };
}
