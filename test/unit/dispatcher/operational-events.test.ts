import { describe, expect, it } from 'vitest';
import type { PublishInput } from '../../../services/dispatcher/events.js';
import { createOperationalEvents, originOf } from '../../../services/dispatcher/operational-events.js';
import type { AttemptResult, ClaimedDelivery, SubscriptionRecord } from '../../../services/dispatcher/store/types.js';
import { silentLogger } from '../../../services/shared/logger.js';

const T = Date.parse('2026-07-06T10:00:00Z');
const sub = (farms: string[]): SubscriptionRecord => ({
  id: 'sub_1', url: 'https://hooks.example.com/services/T000/B000/secret-token?x=1', description: '', events: ['*'], farms, fields: [],
  enabled: false, disabledReason: 'failing', disabledAt: T, rateLimitPerSecond: null, format: 'standard-webhooks', locale: 'en', timeZone: 'UTC', settings: {}, failingSince: T - 1, createdAt: T, updatedAt: T,
});
const delivery = (eventType: string): ClaimedDelivery => ({
  id: 'dlv_1', subscriptionId: 'sub_1', eventId: 'evt_1', eventType, body: '{}', attempts: 8, firstAttemptAt: T, validUntil: null, correlationId: null,
});
const last: AttemptResult = {
  deliveryId: 'dlv_1', subscriptionId: 'sub_1', status: 'failed', nextAttemptAt: null, firstAttemptAt: T,
  attempt: { attempt: 8, startedAt: T, statusCode: 500, latencyMs: 3, responseSnippet: null, error: 'HTTP 500', outcome: 'failure' },
};

function setup(fail = false) {
  const published: PublishInput[] = [];
  const events = createOperationalEvents({
    publish: async (e) => {
      if (fail) throw new Error('outbox down');
      published.push(e);
    },
    clock: { now: () => T, setTimeout: () => 0, clearTimeout: () => {} },
    logger: silentLogger(),
  });
  return { events, published };
}

describe('operational events', () => {
  it('names the endpoint by its origin only: chat platforms put secrets in paths and queries', () => {
    expect(originOf('https://hooks.example.com/services/T000/B000/secret-token?x=1')).toBe('https://hooks.example.com');
    expect(originOf('not a url')).toBe('(invalid url)');
  });

  it('publishes endpoint.disabled with the reason and time, routed to the farm of a one-farm subscription', async () => {
    const { events, published } = setup();
    await events.onDisabled(sub(['f1']), 'gone');
    expect(published).toEqual([
      {
        type: 'endpoint.disabled',
        farm: 'f1',
        data: { subscription_id: 'sub_1', endpoint: 'https://hooks.example.com', farms: ['f1'], reason: 'gone', disabled_at: '2026-07-06T10:00:00.000Z' },
      },
    ]);
    expect(JSON.stringify(published)).not.toContain('secret-token');
  });

  it('publishes delivery.exhausted with the last attempt, but not for operational or test deliveries', async () => {
    const { events, published } = setup();
    await events.onExhausted(delivery('irrigation.recommended'), sub([]), last);
    await events.onExhausted(delivery('delivery.exhausted'), sub([]), last);
    await events.onExhausted(delivery('endpoint.disabled'), sub([]), last);
    await events.onExhausted(delivery('webhook.test'), sub([]), last);
    expect(published).toEqual([
      {
        type: 'delivery.exhausted',
        data: {
          subscription_id: 'sub_1', endpoint: 'https://hooks.example.com', farms: [], delivery_id: 'dlv_1', event_id: 'evt_1',
          event_type: 'irrigation.recommended', attempts: 8, last_status_code: 500, last_error: 'HTTP 500',
        },
      },
    ]);
  });

  it('never throws into the delivery loop when the event cannot be stored', async () => {
    const { events } = setup(true);
    await expect(events.onDisabled(sub([]), 'failing')).resolves.toBeUndefined();
    await expect(events.onExhausted(delivery('sensor.stale'), sub([]), last)).resolves.toBeUndefined();
  });
});
