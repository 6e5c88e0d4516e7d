/**
 * The dispatcher's store on both control-plane backends, by one suite: SQLite (a file in a
 * throw-away folder) and PostgreSQL (the run's real server, one database for this file, emptied
 * before each test). Then what only PostgreSQL promises, with two instances on one database:
 * one claimer per delivery, leases taken over after expiry, a late result not recorded twice,
 * shared per-endpoint concurrency, and idempotent publish.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { toOutboxEvent } from '../../../services/dispatcher/events.js';
import { createDispatchStore, type OpenableDispatchStore } from '../../../services/dispatcher/store/open-store.js';
import type { AttemptResult } from '../../../services/dispatcher/store/types.js';
import { closeControlPlane, createControlPlane, type ControlPlane } from '../../../services/shared/database/control-plane.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { createTestDatabase } from '../../helpers/postgres-database.js';

type Backend = 'sqlite' | 'postgres';

const T0 = Date.parse('2026-07-06T00:00:00Z');
const LEASE = 60_000;

let databaseUrl: string;
beforeAll(async () => {
  databaseUrl = await createTestDatabase('dispatch_store');
});

/** One store (a data folder, or the file's database emptied) and the instances a test opens on it. */
function storeFixture(backend: Backend) {
  const dir = mkdtempSync(join(tmpdir(), 'fh-dispatch-store-'));
  const opened: { plane: ControlPlane; store: OpenableDispatchStore }[] = [];
  return {
    /** The store as instance `instanceId` opens it. */
    async open(instanceId = 'dsp-a'): Promise<OpenableDispatchStore> {
      const plane = createControlPlane({ DATA_DIR: dir, ...(backend === 'postgres' ? { DATABASE_URL: databaseUrl } : {}), INSTANCE_ID: instanceId }, silentLogger());
      const store = createDispatchStore(plane, join(dir, 'dispatch.sqlite'), instanceId);
      opened.push({ plane, store });
      await store.open();
      return store;
    },
    async close() {
      for (const { plane, store } of opened) {
        await store.close();
        await closeControlPlane(plane);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function emptyDatabase(): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query("SELECT to_regclass('dispatch_events') AS t");
    if (rows[0].t) await client.query('TRUNCATE dispatch_subscriptions, dispatch_events CASCADE');
  } finally {
    await client.end();
  }
}

async function withSub(store: OpenableDispatchStore, id = 'sub_a') {
  await store.subscriptions.create(
    { id, url: `https://${id}.example.com/`, description: '', events: ['*'], farms: [], fields: [], enabled: true, rateLimitPerSecond: null },
    'whsec_x',
    T0,
  );
  return store;
}

const event = (id: string, at: number, extra: { collapse_key?: string } = {}) =>
  toOutboxEvent({ type: 'irrigation.recommended', data: { farm: 'f1' }, ...extra }, id, at);

function failed(deliveryId: string, at: number, next: number, attempt = 1): AttemptResult {
  return {
    deliveryId,
    subscriptionId: 'sub_a',
    attempt: { attempt, startedAt: at, statusCode: 500, latencyMs: 3, responseSnippet: null, error: null, outcome: 'failure' },
    status: 'pending',
    nextAttemptAt: next,
    firstAttemptAt: at,
  };
}

function succeeded(deliveryId: string, at: number, attempt = 1): AttemptResult {
  const r = { ...failed(deliveryId, at, 0, attempt), status: 'succeeded' as const, nextAttemptAt: null };
  r.attempt = { ...r.attempt, statusCode: 200, outcome: 'success' };
  return r;
}

const claimAll = (store: OpenableDispatchStore, now: number, limit = 10, total = 100) =>
  store.outbox.claim([{ subscriptionId: 'sub_a', limit }], now, now + LEASE, total);

describe.each<Backend>(['sqlite', 'postgres'])('dispatcher store on %s', (backend) => {
  let fixture: ReturnType<typeof storeFixture>;
  let store: OpenableDispatchStore;

  beforeEach(async () => {
    if (backend === 'postgres') await emptyDatabase();
    fixture = storeFixture(backend);
    store = await withSub(await fixture.open());
  });
  afterEach(() => fixture.close());

  it('does not retry an in-flight delivery that a newer event with the same collapse key overtook', async () => {
    await store.outbox.append([{ event: event('evt_1', T0, { collapse_key: 'k' }), subscriptionIds: ['sub_a'] }], T0);
    const [inFlight] = await claimAll(store, T0);
    // Published while evt_1 is leased: it cannot be superseded yet.
    await store.outbox.append([{ event: event('evt_2', T0 + 1, { collapse_key: 'k' }), subscriptionIds: ['sub_a'] }], T0 + 1);
    expect((await store.outbox.getDelivery(inFlight!.id))!.status).toBe('pending');
    const out = await store.outbox.recordResults([failed(inFlight!.id, T0, T0 + 5_000)], T0 + 2);
    expect(out.superseded).toBe(1);
    expect((await store.outbox.getDelivery(inFlight!.id))!.status).toBe('superseded');
    const due = await claimAll(store, T0 + 10_000);
    expect(due.map((d) => d.eventId)).toEqual(['evt_2']);
  });

  it('tracks the failure streak, re-queues leases on restart, and prunes past retention', async () => {
    await store.outbox.append([{ event: event('evt_1', T0), subscriptionIds: ['sub_a'] }, { event: event('evt_2', T0), subscriptionIds: ['sub_a'] }], T0);
    const claimed = await claimAll(store, T0, 1);
    expect(claimed).toHaveLength(1);
    // A second pass cannot take the leased one, only the other.
    expect((await claimAll(store, T0, 5)).map((c) => c.eventId)).toEqual(['evt_2']);
    expect(await store.outbox.releaseLeases()).toBe(2);
    expect(await claimAll(store, T0, 5)).toHaveLength(2);
    const id = claimed[0]!.id;

    const out = await store.outbox.recordResults([failed(id, T0 + 10, T0 + 5_000)], T0 + 10);
    expect(out.failingSince.get('sub_a')).toBe(T0 + 10);
    expect((await claimAll(store, T0 + 5_000)).map((c) => c.id)).toEqual([id]);
    const second = await store.outbox.recordResults([failed(id, T0 + 5_000, T0 + 10_000, 2)], T0 + 5_001);
    expect(second.failingSince.get('sub_a')).toBe(T0 + 10);

    expect((await claimAll(store, T0 + 10_000)).map((c) => c.id)).toEqual([id]);
    await store.outbox.recordResults([succeeded(id, T0 + 10_000, 3)], T0 + 10_000);
    expect((await store.subscriptions.get('sub_a'))!.failingSince).toBeNull();
    expect((await store.outbox.listAttempts(id)).map((a) => [a.attempt, a.outcome])).toEqual([
      [1, 'failure'],
      [2, 'failure'],
      [3, 'success'],
    ]);
    expect(await store.outbox.getDelivery(id)).toMatchObject({ status: 'succeeded', attempts: 3, firstAttemptAt: T0 + 10, finishedAt: T0 + 10_000 });

    expect(await store.outbox.prune(T0 + 100)).toBe(0);
    expect(await store.outbox.prune(T0 + 10_001)).toBe(1);
    expect(await store.outbox.getDelivery(id)).toBeNull();
    expect(await store.outbox.listDeliveries({ subscriptionId: 'sub_a', limit: 10 })).toHaveLength(1);
  });

  it('records nothing, and fails nothing else, for an attempt whose subscription was deleted meanwhile', async () => {
    await withSub(store, 'sub_b');
    await store.outbox.append([{ event: event('evt_1', T0), subscriptionIds: ['sub_a', 'sub_b'] }], T0);
    const claimed = await store.outbox.claim([{ subscriptionId: 'sub_a', limit: 1 }, { subscriptionId: 'sub_b', limit: 1 }], T0, T0 + LEASE, 10);
    expect(claimed).toHaveLength(2);
    await store.subscriptions.remove('sub_a');
    const a = claimed.find((c) => c.subscriptionId === 'sub_a')!;
    const b = claimed.find((c) => c.subscriptionId === 'sub_b')!;
    await store.outbox.recordResults([failed(a.id, T0, T0 + 5_000), { ...failed(b.id, T0, T0 + 5_000), subscriptionId: 'sub_b' }], T0 + 1);
    expect(await store.outbox.getDelivery(a.id)).toBeNull();
    expect((await store.outbox.getDelivery(b.id))!.attempts).toBe(1);
  });

  it('keeps an event whose subscription was deleted after the publisher listed it: the other subscribers still get it', async () => {
    await withSub(store, 'sub_b');
    await store.subscriptions.remove('sub_a');
    // Listed before the delete: the event names a subscription that is gone by the append.
    const [result] = await store.outbox.append([{ event: event('evt_1', T0), subscriptionIds: ['sub_a', 'sub_b'] }], T0);
    expect(result).toEqual({ id: 'evt_1', deliveries: 1, duplicate: false });
    const claimed = await store.outbox.claim([{ subscriptionId: 'sub_a', limit: 1 }, { subscriptionId: 'sub_b', limit: 1 }], T0, T0 + LEASE, 10);
    expect(claimed.map((c) => c.subscriptionId)).toEqual(['sub_b']);
  });

  it('collapses and de-duplicates within one batch as across batches', async () => {
    await store.outbox.append([{ event: event('evt_0', T0, { collapse_key: 'k' }), subscriptionIds: ['sub_a'] }], T0);
    const out = await store.outbox.append(
      [
        { event: event('evt_1', T0 + 1, { collapse_key: 'k' }), subscriptionIds: ['sub_a'] },
        { event: event('evt_2', T0 + 1, { collapse_key: 'k' }), subscriptionIds: ['sub_a'] },
        { event: event('evt_1', T0 + 1, { collapse_key: 'k' }), subscriptionIds: ['sub_a'] },
        { event: event('evt_3', T0 + 1), subscriptionIds: ['sub_a'] },
      ],
      T0 + 1,
    );
    expect(out.map((r) => [r.id, r.deliveries, r.duplicate])).toEqual([
      ['evt_1', 1, false],
      ['evt_2', 1, false],
      ['evt_1', 0, true],
      ['evt_3', 1, false],
    ]);
    const status = async (eventId: string) => (await store.outbox.listDeliveries({ eventId, limit: 10 })).map((d) => d.status);
    expect([await status('evt_0'), await status('evt_1'), await status('evt_2'), await status('evt_3')]).toEqual([['superseded'], ['superseded'], ['pending'], ['pending']]);
    expect((await claimAll(store, T0 + 2)).map((c) => c.eventId).sort()).toEqual(['evt_2', 'evt_3']);
  });

  it('caps a pass at the global room', async () => {
    await store.outbox.append(
      Array.from({ length: 20 }, (_, i) => ({ event: event(`evt_${i}`, T0), subscriptionIds: ['sub_a'] })),
      T0,
    );
    expect(await store.outbox.claim([{ subscriptionId: 'sub_a', limit: 10 }], T0, T0 + LEASE, 4)).toHaveLength(4);
  });

  it('accepts an event id once, and keeps subscriptions, secrets and the backlog', async () => {
    const first = await store.outbox.append([{ event: event('evt_1', T0), subscriptionIds: ['sub_a'] }], T0);
    const again = await store.outbox.append([{ event: event('evt_1', T0 + 5), subscriptionIds: ['sub_a'] }], T0 + 5);
    expect(first).toEqual([{ id: 'evt_1', deliveries: 1, duplicate: false }]);
    expect(again).toEqual([{ id: 'evt_1', deliveries: 0, duplicate: true }]);
    expect(await store.outbox.backlog()).toEqual([{ subscriptionId: 'sub_a', pending: 1, oldestCreatedAt: T0 }]);

    const patched = await store.subscriptions.update('sub_a', { format: 'slack', locale: 'he', timeZone: 'Asia/Jerusalem', settings: { a: 1 }, farms: ['f1'] }, T0 + 1);
    expect(patched).toMatchObject({ format: 'slack', locale: 'he', timeZone: 'Asia/Jerusalem', settings: { a: 1 }, farms: ['f1'], events: ['*'], updatedAt: T0 + 1 });
    expect(await store.subscriptions.rotateSecret('sub_a', 'whsec_y', T0 + 2, 1_000)).toBe(true);
    expect(await store.subscriptions.activeSecrets('sub_a', T0 + 3)).toEqual(['whsec_y', 'whsec_x']);
    expect(await store.subscriptions.activeSecrets('sub_a', T0 + 1_002)).toEqual(['whsec_y']);
    expect(await store.subscriptions.disable('sub_a', 'gone', T0 + 4)).toBe(true);
    expect(await store.subscriptions.get('sub_a')).toMatchObject({ enabled: false, disabledReason: 'gone', disabledAt: T0 + 4 });
    expect(await store.subscriptions.update('ghost', { description: 'x' }, T0)).toBeNull();
  });
});

describe('dispatcher store on postgres, two instances', () => {
  let fixture: ReturnType<typeof storeFixture>;
  let a: OpenableDispatchStore;
  let b: OpenableDispatchStore;

  beforeEach(async () => {
    await emptyDatabase();
    fixture = storeFixture('postgres');
    a = await withSub(await fixture.open('dsp-a'));
    b = await fixture.open('dsp-b');
  });
  afterEach(() => fixture.close());

  it('never leases one delivery to both, however their claims interleave', async () => {
    await a.outbox.append(
      Array.from({ length: 60 }, (_, i) => ({ event: event(`evt_${i}`, T0), subscriptionIds: ['sub_a'] })),
      T0,
    );
    const passes = await Promise.all(Array.from({ length: 12 }, (_, i) => claimAll(i % 2 ? b : a, T0, 100, 7)));
    const ids = passes.flat().map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('shares an endpoint\'s concurrency: the other instance\'s attempts in flight use it up', async () => {
    await a.outbox.append(
      Array.from({ length: 10 }, (_, i) => ({ event: event(`evt_${i}`, T0), subscriptionIds: ['sub_a'] })),
      T0,
    );
    expect(await claimAll(a, T0, 3)).toHaveLength(3);
    // b's limiter sees 5 free slots of its own; 3 are in flight at a.
    expect(await claimAll(b, T0, 5)).toHaveLength(2);
    // Next pass: b's limiter has 3 left, all used up at a.
    expect(await claimAll(b, T0, 3)).toHaveLength(0);
  });

  it('releases only its own leases at start-up; a crashed instance\'s are taken over once they expire', async () => {
    await a.outbox.append([{ event: event('evt_1', T0), subscriptionIds: ['sub_a'] }, { event: event('evt_2', T0), subscriptionIds: ['sub_a'] }], T0);
    const atA = await claimAll(a, T0, 1);
    // b's limiter has 2 slots; one is in flight at a.
    const atB = await claimAll(b, T0, 2);
    expect([...atA, ...atB].map((c) => c.eventId).sort()).toEqual(['evt_1', 'evt_2']);
    // b restarts: its own lease goes, a's stays (a is making that attempt now).
    expect(await b.outbox.releaseLeases()).toBe(1);
    expect((await claimAll(b, T0, 2)).map((c) => c.id)).toEqual([atB[0]!.id]);
    await b.outbox.recordResults([succeeded(atB[0]!.id, T0)], T0 + 1);
    // a crashes: nobody releases its lease; b takes the delivery once the lease has expired.
    expect(await claimAll(b, T0 + LEASE - 1, 10)).toEqual([]);
    expect((await claimAll(b, T0 + LEASE, 10)).map((c) => c.id)).toEqual([atA[0]!.id]);
  });

  it('records a late result only if no other instance took the delivery over', async () => {
    await a.outbox.append([{ event: event('evt_1', T0), subscriptionIds: ['sub_a'] }, { event: event('evt_2', T0), subscriptionIds: ['sub_a'] }], T0);
    const [first, second] = await claimAll(a, T0, 2);
    // The first lease expires and b takes it over and succeeds; the second expires unclaimed.
    expect((await b.outbox.claim([{ subscriptionId: 'sub_a', limit: 1 }], T0 + LEASE, T0 + 2 * LEASE, 1)).map((c) => c.id)).toEqual([first!.id]);
    await b.outbox.recordResults([succeeded(first!.id, T0 + LEASE)], T0 + LEASE + 1);
    // a's results arrive late: the taken-over one is not recorded again, the other one is.
    await a.outbox.recordResults([succeeded(first!.id, T0 + 5), succeeded(second!.id, T0 + 5)], T0 + LEASE + 2);
    expect((await a.outbox.listAttempts(first!.id)).map((x) => x.startedAt)).toEqual([T0 + LEASE]);
    expect(await a.outbox.getDelivery(first!.id)).toMatchObject({ status: 'succeeded', attempts: 1, lastAttemptAt: T0 + LEASE });
    expect(await a.outbox.getDelivery(second!.id)).toMatchObject({ status: 'succeeded', attempts: 1, lastAttemptAt: T0 + 5 });
  });

  it('accepts an event published through both at once exactly once', async () => {
    const results = await Promise.all([a, b, a, b].map((s) => s.outbox.append([{ event: event('evt_1', T0), subscriptionIds: ['sub_a'] }], T0)));
    expect(results.flat().filter((r) => !r.duplicate)).toHaveLength(1);
    expect(await a.outbox.listDeliveries({ eventId: 'evt_1', limit: 10 })).toHaveLength(1);
  });
});
