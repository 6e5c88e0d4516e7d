import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import { OPERATIONAL_EVENT_TYPES, TEST_EVENT_TYPE, type PublishInput } from './events.js';
import type { AttemptResult, ClaimedDelivery, SubscriptionRecord } from './store/types.js';

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

export interface OperationalEvents {
  /** A subscription was disabled (`gone`: 410; `failing`: failing for too long). */
  onDisabled(sub: SubscriptionRecord, reason: string): Promise<void>;
  /** A delivery used its last attempt. */
  onExhausted(delivery: ClaimedDelivery, sub: SubscriptionRecord, last: AttemptResult): Promise<void>;
}

const OPERATIONAL: readonly string[] = [...OPERATIONAL_EVENT_TYPES, TEST_EVENT_TYPE];

/**
 * Events about delivery itself (`endpoint.disabled`, `delivery.exhausted`), published through the
 * dispatcher's own outbox. An exhausted operational or test delivery raises nothing, so a failing
 * operational endpoint cannot cause a storm of events about itself. Publishing never throws: the
 * delivery loop must go on.
 */
export function createOperationalEvents(deps: { publish(event: PublishInput): Promise<unknown>; clock: Clock; logger: Logger }): OperationalEvents {
  const { publish, clock, logger } = deps;
  const emit = async (type: (typeof OPERATIONAL_EVENT_TYPES)[number], sub: SubscriptionRecord, data: Record<string, unknown>) => {
    try {
      await publish({
        type,
        data: { subscription_id: sub.id, endpoint: originOf(sub.url), farms: sub.farms, ...data },
        ...(sub.farms.length === 1 ? { farm: sub.farms[0]! } : {}),
      });
    } catch (err) {
      logger.error({ err, type }, 'could not publish operational event');
    }
  };
  return {
    async onDisabled(sub, reason) {
      logger.warn({ subscription: sub.id, reason }, 'subscription disabled; its backlog is kept until it is re-enabled');
      await emit('endpoint.disabled', sub, { reason, disabled_at: new Date(clock.now()).toISOString() });
    },
    async onExhausted(delivery, sub, last) {
      logger.warn({ subscription: sub.id, delivery: delivery.id, event: delivery.eventId }, 'delivery exhausted its retries');
      if (OPERATIONAL.includes(delivery.eventType)) return;
      await emit('delivery.exhausted', sub, {
        delivery_id: delivery.id,
        event_id: delivery.eventId,
        event_type: delivery.eventType,
        attempts: last.attempt.attempt,
        last_status_code: last.attempt.statusCode,
        last_error: last.attempt.error,
      });
    },
  };
}
