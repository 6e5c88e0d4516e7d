/**
 * Stopping the dispatcher while a pass of its delivery loop waits on the store: the stop waits for
 * that pass, which leases nothing more, so nothing touches the store once it is closed. (On
 * PostgreSQL the host ends the shared pool right after: a pass still running logged "Cannot use a
 * pool after calling end on the pool", and a delivery it had leased waited out its lease.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { buildDispatcher, type FieldhookDispatcher } from '../../../services/dispatcher/build-dispatcher.js';
import { createDispatchConfig } from '../../../services/dispatcher/config.js';
import type { Transport } from '../../../services/dispatcher/http-transport.js';
import { createSqliteStore } from '../../../services/dispatcher/store/sqlite-store.js';
import type { DeliveryRecord, DispatchStore } from '../../../services/dispatcher/store/types.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { eventually } from '../../helpers/eventually.js';
import { createManualClock } from '../../helpers/manual-clock.js';

const H = 3_600_000;

/** One turn of the event loop: every continuation that is ready (no I/O here) has run. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

interface Gate {
  reached: Promise<void>;
  release(): void;
}

/**
 * The real SQLite store, with every call recorded (and whether the store was closed by then) and
 * one method that can be held: its next call waits until the test releases it.
 */
function observedStore() {
  const inner = createSqliteStore(':memory:');
  const calls: { method: string; afterClose: boolean }[] = [];
  const gates = new Map<string, { arrive: () => void; released: Promise<void> }>();
  let closed = false;
  const wrap = <T extends object>(part: string, target: T): T =>
    new Proxy(target, {
      get(obj, key, receiver) {
        const value = Reflect.get(obj, key, receiver) as unknown;
        if (typeof value !== 'function') return value;
        const method = `${part}.${String(key)}`;
        return async (...args: unknown[]) => {
          calls.push({ method, afterClose: closed });
          const gate = gates.get(method);
          if (gate) {
            gates.delete(method);
            gate.arrive();
            await gate.released;
          }
          return (value as (...a: unknown[]) => unknown).apply(obj, args);
        };
      },
    });
  /** The deliveries as the store held them when it was closed. */
  let atClose: DeliveryRecord[] = [];
  const store: DispatchStore = {
    subscriptions: wrap('subscriptions', inner.subscriptions),
    outbox: wrap('outbox', inner.outbox),
    close: async () => {
      closed = true;
      atClose = await inner.outbox.listDeliveries({ limit: 100 });
      await inner.close();
    },
  };
  /** Hold the next call of `method` (e.g. `outbox.claim`). */
  const hold = (method: string): Gate => {
    let arrive!: () => void;
    let release!: () => void;
    const reached = new Promise<void>((resolve) => (arrive = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    gates.set(method, { arrive, released });
    return { reached, release };
  };
  return { store, calls, hold, deliveriesAtClose: () => atClose };
}

describe('stopping the dispatcher while its delivery loop waits on the store', () => {
  let d: FieldhookDispatcher | undefined;
  afterEach(async () => {
    await d?.stop();
    d = undefined;
  });

  /** A started dispatcher with one subscription, its loop asleep until the next poll. */
  async function running() {
    const clock = createManualClock(Date.parse('2026-07-06T00:00:00Z'));
    const observed = observedStore();
    const sent: string[] = [];
    const transport: Transport = async (req) => {
      sent.push(String(req.headers['webhook-id']));
      return { statusCode: 200, headers: {}, snippet: '' };
    };
    const config = createDispatchConfig({ ADMIN_TOKEN: 'test-admin-token-0123456789', DISPATCH_DB_PATH: ':memory:', DISPATCH_POLL_INTERVAL_MS: H });
    d = buildDispatcher({ config, logger: silentLogger(), store: observed.store, transport, clock });
    await d.start();
    await d.service.createSubscription({ url: 'https://hooks.example.com/a', events: ['irrigation.recommended'] });
    await eventually(() => clock.pending() > 0, { what: 'the loop asleep' });
    return { ...observed, sent };
  }

  /** Stop while the call held by `gate` waits; resolves with whether the stop was over before the gate opened. */
  async function stopDuring(gate: Gate): Promise<boolean> {
    let stopped = false;
    const stopping = d!.stop().then(() => (stopped = true));
    await turn();
    const early = stopped;
    gate.release();
    await stopping;
    return early;
  }

  it('waits for a pass that has not leased yet, which then leases nothing, and leaves the store alone once closed', async () => {
    const { calls, hold, sent, deliveriesAtClose } = await running();
    // The first thing a pass asks the store (publishing does not).
    const expiring = hold('outbox.expireDue');
    const event = await d!.publish({ type: 'irrigation.recommended', data: { farm: 'f1' } });
    await expiring.reached;
    const claimsBefore = calls.filter((c) => c.method === 'outbox.claim').length;

    expect(await stopDuring(expiring), 'stopped while a pass still used the store').toBe(false);
    expect(calls.filter((c) => c.afterClose)).toEqual([]);
    // Not leased: the next start (of any instance) attempts it at once, no lease to wait out.
    expect(calls.filter((c) => c.method === 'outbox.claim')).toHaveLength(claimsBefore);
    expect(sent).toEqual([]);
    expect(deliveriesAtClose()).toEqual([expect.objectContaining({ eventId: event.id, status: 'pending', attempts: 0 })]);
  });

  it('waits for a pass that already leased a delivery: it is attempted and recorded before the store closes', async () => {
    const { calls, hold, sent, deliveriesAtClose } = await running();
    const secrets = hold('subscriptions.activeSecrets');
    const event = await d!.publish({ type: 'irrigation.recommended', data: { farm: 'f1' } });
    await secrets.reached;

    expect(await stopDuring(secrets), 'stopped while a pass still used the store').toBe(false);
    expect(calls.filter((c) => c.afterClose)).toEqual([]);
    expect(sent).toEqual([event.id]);
    expect(deliveriesAtClose()).toEqual([expect.objectContaining({ eventId: event.id, status: 'succeeded', attempts: 1 })]);
  });
});
