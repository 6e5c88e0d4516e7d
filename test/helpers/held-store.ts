import type { DeliveryRecord, DispatchStore } from '../../services/dispatcher/store/types.js';

/** A call held by {@link heldStore}: `reached` once it is made, and it goes on when released. */
export interface Gate {
  reached: Promise<void>;
  release(): void;
}

/**
 * A real dispatcher store (SQLite or PostgreSQL), with every call recorded (and whether the store
 * was closed by then) and any method's next call held until the test releases it: a test stops
 * the dispatcher while its delivery loop is at a chosen point of a pass.
 */
export function heldStore(inner: DispatchStore) {
  const calls: { method: string; afterClose: boolean }[] = [];
  const gates = new Map<string, { arrive: () => void; released: Promise<void> }>();
  let closed = false;
  /** The deliveries as the store held them when it was closed. */
  let atClose: DeliveryRecord[] = [];
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

/**
 * Run `stop` while the call `gate` holds waits, then release it. Resolves with whether the stop
 * was over before the release: after a few turns of the event loop a stop that does not wait for
 * the held pass has finished (and whatever its caller does next has begun), one that waits has not.
 */
export async function stopDuring(stop: () => Promise<unknown>, gate: Gate): Promise<boolean> {
  let stopped = false;
  const stopping = stop().then(() => (stopped = true));
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  const early = stopped;
  gate.release();
  await stopping;
  return early;
}
