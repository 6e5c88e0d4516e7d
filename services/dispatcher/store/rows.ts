import type { AttemptRecord, ClaimedDelivery, DeliveryRecord } from './types.js';

/**
 * Reading the dispatcher's rows back, the same for both backends: their outbox columns are alike.
 * Only how a subscription's lists and flags are stored differs (JSON text in SQLite, arrays and
 * booleans in PostgreSQL), so each store maps those itself.
 */
export type Row = Record<string, unknown>;

// PostgreSQL's BIGINT comes back as a string (it may exceed 2^53); epoch ms never do.
export const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
export const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

export function toDelivery(r: Row): DeliveryRecord {
  return {
    id: String(r.id),
    eventId: String(r.event_id),
    eventType: String(r.event_type),
    subscriptionId: String(r.subscription_id),
    status: String(r.status) as DeliveryRecord['status'],
    attempts: Number(r.attempts),
    nextAttemptAt: r.status === 'pending' ? num(r.next_attempt_at) : null,
    firstAttemptAt: num(r.first_attempt_at),
    lastAttemptAt: num(r.last_attempt_at),
    lastStatusCode: num(r.last_status_code),
    lastError: str(r.last_error),
    collapseKey: str(r.collapse_key),
    validUntil: num(r.valid_until),
    createdAt: Number(r.created_at),
    finishedAt: num(r.finished_at),
  };
}

export function toClaimed(r: Row): ClaimedDelivery {
  return {
    id: String(r.id),
    subscriptionId: String(r.subscription_id),
    eventId: String(r.event_id),
    eventType: String(r.event_type),
    body: String(r.body),
    attempts: Number(r.attempts),
    firstAttemptAt: num(r.first_attempt_at),
    validUntil: num(r.valid_until),
    correlationId: str(r.correlation_id),
  };
}

export function toAttempt(r: Row): AttemptRecord {
  return {
    attempt: Number(r.attempt),
    startedAt: Number(r.started_at),
    statusCode: num(r.status_code),
    latencyMs: Number(r.latency_ms),
    responseSnippet: str(r.response_snippet),
    error: str(r.error),
    outcome: String(r.outcome) as AttemptRecord['outcome'],
  };
}
