import { describe, expect, it } from 'vitest';
import { toOutboxEvent } from '../../../../services/dispatcher/events.js';
import { createSqliteStore } from '../../../../services/dispatcher/store/sqlite-store.js';
import type { AttemptResult } from '../../../../services/dispatcher/store/types.js';

const T0 = Date.parse('2026-07-06T00:00:00Z');

async function storeWithSub() {
  const store = createSqliteStore(':memory:');
  await store.subscriptions.create(
    { id: 'sub_a', url: 'https://a.example.com/', description: '', events: ['*'], farms: [], fields: [], enabled: true, rateLimitPerSecond: null },
    'whsec_x',
    T0,
  );
  return store;
}

const event = (id: string, at: number, extra: { collapse_key?: string } = {}) =>
  toOutboxEvent({ type: 'irrigation.recommended', data: { farm: 'f1' }, ...extra }, id, at);

function failed(deliveryId: string, at: number, next: number): AttemptResult {
  return {
    deliveryId,
    subscriptionId: 'sub_a',
    attempt: { attempt: 1, startedAt: at, statusCode: 500, latencyMs: 3, responseSnippet: null, error: null, outcome: 'failure' },
    status: 'pending',
    nextAttemptAt: next,
    firstAttemptAt: at,
  };
}

describe('SQLite outbox', () => {
  it('does not retry an in-flight delivery that a newer event with the same collapse key overtook', async () => {
    const store = await storeWithSub();
    await store.outbox.append([{ event: event('evt_1', T0, { collapse_key: 'k' }), subscriptionIds: ['sub_a'] }], T0);
    const [inFlight] = await store.outbox.claim([{ subscriptionId: 'sub_a', limit: 10 }], T0, T0 + 60_000, 10);
    // Published while evt_1 is leased: it cannot be superseded yet.
    await store.outbox.append([{ event: event('evt_2', T0 + 1, { collapse_key: 'k' }), subscriptionIds: ['sub_a'] }], T0 + 1);
    expect((await store.outbox.getDelivery(inFlight!.id))!.status).toBe('pending');
    const out = await store.outbox.recordResults([failed(inFlight!.id, T0, T0 + 5_000)], T0 + 2);
    expect(out.superseded).toBe(1);
    expect((await store.outbox.getDelivery(inFlight!.id))!.status).toBe('superseded');
    const due = await store.outbox.claim([{ subscriptionId: 'sub_a', limit: 10 }], T0 + 10_000, T0 + 70_000, 10);
    expect(due.map((d) => d.eventId)).toEqual(['evt_2']);
  });

  it('tracks the failure streak, re-queues leases on restart, and prunes past retention', async () => {
    const store = await storeWithSub();
    await store.outbox.append([{ event: event('evt_1', T0), subscriptionIds: ['sub_a'] }, { event: event('evt_2', T0), subscriptionIds: ['sub_a'] }], T0);
    const claimed = await store.outbox.claim([{ subscriptionId: 'sub_a', limit: 1 }], T0, T0 + 60_000, 10);
    expect(claimed).toHaveLength(1);
    // A second pass cannot take the leased one, only the other.
    expect((await store.outbox.claim([{ subscriptionId: 'sub_a', limit: 5 }], T0, T0 + 60_000, 10)).map((c) => c.eventId)).toEqual(['evt_2']);
    expect(await store.outbox.releaseLeases()).toBe(2);
    expect(await store.outbox.claim([{ subscriptionId: 'sub_a', limit: 5 }], T0, T0 + 60_000, 10)).toHaveLength(2);

    const out = await store.outbox.recordResults([failed(claimed[0]!.id, T0 + 10, T0 + 5_000)], T0 + 10);
    expect(out.failingSince.get('sub_a')).toBe(T0 + 10);
    const second = await store.outbox.recordResults([failed(claimed[0]!.id, T0 + 99, T0 + 5_000)], T0 + 99);
    expect(second.failingSince.get('sub_a')).toBe(T0 + 10);

    const ok: AttemptResult = { ...failed(claimed[0]!.id, T0 + 200, 0), status: 'succeeded', nextAttemptAt: null };
    ok.attempt = { ...ok.attempt, statusCode: 200, outcome: 'success' };
    await store.outbox.recordResults([ok], T0 + 200);
    expect((await store.subscriptions.get('sub_a'))!.failingSince).toBeNull();
    expect(await store.outbox.listAttempts(claimed[0]!.id)).toHaveLength(3);

    expect(await store.outbox.prune(T0 + 100)).toBe(0);
    expect(await store.outbox.prune(T0 + 201)).toBe(1);
    expect(await store.outbox.getDelivery(claimed[0]!.id)).toBeNull();
    expect(await store.outbox.listDeliveries({ subscriptionId: 'sub_a', limit: 10 })).toHaveLength(1);
  });

  it('records nothing, and fails nothing else, for an attempt whose subscription was deleted meanwhile', async () => {
    const store = await storeWithSub();
    await store.subscriptions.create(
      { id: 'sub_b', url: 'https://b.example.com/', description: '', events: ['*'], farms: [], fields: [], enabled: true, rateLimitPerSecond: null },
      'whsec_y',
      T0,
    );
    await store.outbox.append([{ event: event('evt_1', T0), subscriptionIds: ['sub_a', 'sub_b'] }], T0);
    const claimed = await store.outbox.claim([{ subscriptionId: 'sub_a', limit: 1 }, { subscriptionId: 'sub_b', limit: 1 }], T0, T0 + 60_000, 10);
    expect(claimed).toHaveLength(2);
    await store.subscriptions.remove('sub_a');
    const a = claimed.find((c) => c.subscriptionId === 'sub_a')!;
    const b = claimed.find((c) => c.subscriptionId === 'sub_b')!;
    await store.outbox.recordResults([failed(a.id, T0, T0 + 5_000), { ...failed(b.id, T0, T0 + 5_000), subscriptionId: 'sub_b' }], T0 + 1);
    expect(await store.outbox.getDelivery(a.id)).toBeNull();
    expect((await store.outbox.getDelivery(b.id))!.attempts).toBe(1);
  });

  it('caps a pass at the global room', async () => {
    const store = await storeWithSub();
    await store.outbox.append(
      Array.from({ length: 20 }, (_, i) => ({ event: event(`evt_${i}`, T0), subscriptionIds: ['sub_a'] })),
      T0,
    );
    expect(await store.outbox.claim([{ subscriptionId: 'sub_a', limit: 10 }], T0, T0 + 60_000, 4)).toHaveLength(4);
  });
});
