import { Errors } from '../shared/error-catalog.js';

/**
 * Delay before each attempt, in ms: the first is immediate, the rest back off to a total of
 * 27 h 35 min, so a receiver that is down over a night and a day still gets every event.
 * Index i is the wait before attempt i + 1, counted from the previous attempt.
 */
export const DEFAULT_RETRY_SCHEDULE_MS: readonly number[] = Object.freeze([
  0,
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  5 * 3_600_000,
  10 * 3_600_000,
  10 * 3_600_000,
]);

export interface RetryPolicyOptions {
  /** Delay before each attempt, ms. Default {@link DEFAULT_RETRY_SCHEDULE_MS}. */
  scheduleMs: readonly number[];
  /** Relative jitter on each delay: 0.2 = ±20 %. Default 0.2. */
  jitter: number;
  /** The last attempt is never earlier than this after the first, ms. Default 24 h. */
  minHorizonMs: number;
  /** Cap on a receiver's `Retry-After`, ms. Default 10 h. */
  retryAfterMaxMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicyOptions = Object.freeze({
  scheduleMs: DEFAULT_RETRY_SCHEDULE_MS,
  jitter: 0.2,
  minHorizonMs: 24 * 3_600_000,
  retryAfterMaxMs: 10 * 3_600_000,
});

/** Statuses whose `Retry-After` header is honoured instead of the schedule. */
export const RETRY_AFTER_STATUSES: ReadonlySet<number> = new Set([429, 503]);

/** A receiver that answers 410 Gone no longer wants anything: the subscription is disabled. */
export const GONE_STATUS = 410;

/** `webhook-delivery: abort-message` on any non-2xx response stops retries of that message. */
export const ABORT_HEADER = 'webhook-delivery';
export const ABORT_VALUE = 'abort-message';

/**
 * Network error codes that are worth another attempt. Anything not listed (TLS certificate
 * errors, for instance) is still retried on the schedule, because a receiver can fix it within
 * the day; the table exists so that the log can tell transient from configuration failures.
 */
export const TRANSIENT_NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
  Errors.webhookTimeout.code,
]);

/** How many attempts the schedule allows in total. */
export function maxAttempts(policy: RetryPolicyOptions): number {
  return policy.scheduleMs.length;
}

/**
 * When to make attempt number `attemptsDone + 1`, given that `attemptsDone` attempts failed and
 * the first one was at `firstAttemptAt`; null when the schedule is exhausted. A receiver's
 * `retryAfterMs` (already capped) replaces the schedule's delay for this attempt, but takes its
 * slot: the schedule's length is the number of attempts either way.
 * `random` returns [0, 1) and is injectable for tests.
 */
export function nextAttemptAt(
  policy: RetryPolicyOptions,
  attemptsDone: number,
  lastAttemptAt: number,
  firstAttemptAt: number,
  random: () => number = Math.random,
  retryAfterMs: number | null = null,
): number | null {
  const base = policy.scheduleMs[attemptsDone];
  if (base === undefined) return null;
  let at = retryAfterMs !== null ? lastAttemptAt + retryAfterMs : lastAttemptAt + Math.round(base * (1 + policy.jitter * (2 * random() - 1)));
  // Jitter, or a receiver asking again and again to come back in a few seconds, could pull the
  // whole series under the promised horizon: pin the last attempt.
  if (attemptsDone === policy.scheduleMs.length - 1) at = Math.max(at, firstAttemptAt + policy.minHorizonMs);
  return at;
}

/**
 * Parse `Retry-After` (seconds or an HTTP date) into a delay in ms, capped; null when absent or
 * malformed, in which case the schedule applies.
 */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number, maxMs: number): number | null {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined || raw.trim() === '') return null;
  const text = raw.trim();
  let delay: number;
  if (/^\d+$/.test(text)) delay = Number(text) * 1000;
  else {
    const at = Date.parse(text);
    if (Number.isNaN(at)) return null;
    delay = at - nowMs;
  }
  return Math.min(Math.max(0, delay), maxMs);
}
