import type { AttemptRecord, DeliveryRecord, SubscriptionRecord } from '../store/types.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The API's view of a subscription (never its secrets). */
export function presentSubscription(s: SubscriptionRecord) {
  return {
    id: s.id,
    url: s.url,
    description: s.description,
    events: s.events,
    farms: s.farms,
    fields: s.fields,
    enabled: s.enabled,
    disabled_reason: s.disabledReason,
    disabled_at: iso(s.disabledAt),
    rate_limit_per_second: s.rateLimitPerSecond,
    format: s.format,
    locale: s.locale,
    timezone: s.timeZone,
    settings: s.settings,
    failing_since: iso(s.failingSince),
    created_at: iso(s.createdAt)!,
    updated_at: iso(s.updatedAt)!,
  };
}

export function presentDelivery(d: DeliveryRecord, attempts?: AttemptRecord[]) {
  return {
    id: d.id,
    event_id: d.eventId,
    event_type: d.eventType,
    subscription_id: d.subscriptionId,
    status: d.status,
    attempts: d.attempts,
    next_attempt_at: iso(d.nextAttemptAt),
    first_attempt_at: iso(d.firstAttemptAt),
    last_attempt_at: iso(d.lastAttemptAt),
    last_status_code: d.lastStatusCode,
    last_error: d.lastError,
    collapse_key: d.collapseKey,
    valid_until: iso(d.validUntil),
    created_at: iso(d.createdAt)!,
    finished_at: iso(d.finishedAt),
    ...(attempts
      ? {
          attempt_log: attempts.map((a) => ({
            attempt: a.attempt,
            started_at: iso(a.startedAt)!,
            status_code: a.statusCode,
            latency_ms: Math.round(a.latencyMs * 10) / 10,
            response_snippet: a.responseSnippet,
            error: a.error,
            outcome: a.outcome,
          })),
        }
      : {}),
  };
}
