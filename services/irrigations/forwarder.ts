/**
 * Moves stored records downstream: to InfluxDB (the `irrigation` measurement) and to the bus (the
 * predictor), each behind its own durable cursor in the store. A failed send is retried with
 * backoff and never skipped; a new record wakes the loops at once.
 */
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import type { IrrigationRecord } from './record.js';
import type { ForwardTarget, IrrigationRepository } from './store.js';

export interface ForwarderOptions {
  /** Records per send. Default 500. */
  batch: number;
  /** First and longest wait after a failed send, ms. Defaults 500 and 30 000. */
  retryMinMs: number;
  retryMaxMs: number;
  /** Look for unsent records this often even without a wake-up (another process wrote them), ms. Default 5 000. */
  pollMs: number;
}

export const DEFAULT_FORWARDER_OPTIONS: ForwarderOptions = { batch: 500, retryMinMs: 500, retryMaxMs: 30_000, pollMs: 5_000 };

export interface Forwarder {
  start(): void;
  /** Something was recorded: send it now. */
  wake(): void;
  stop(): Promise<void>;
  /** Records not yet taken by each downstream (readiness, tests). */
  backlog(): Promise<Record<ForwardTarget, number>>;
}

export function createForwarder(
  deps: {
    store: IrrigationRepository;
    send: Record<ForwardTarget, (records: readonly IrrigationRecord[]) => Promise<unknown>>;
    clock: Clock;
    logger: Logger;
  },
  options: Partial<ForwarderOptions> = {},
): Forwarder {
  const opts = { ...DEFAULT_FORWARDER_OPTIONS, ...options };
  const { store, clock, logger } = deps;
  let running = false;

  function loop(target: ForwardTarget) {
    let timer: unknown;
    let busy: Promise<void> | undefined;
    let again = false;
    let delay = opts.retryMinMs;
    const schedule = (ms: number) => {
      clock.clearTimeout(timer);
      // A pass that ends after stop() must not arm a timer that outlives the component.
      if (running) timer = clock.setTimeout(() => kick(), ms);
    };
    async function drain(): Promise<void> {
      for (;;) {
        const records = await store.pending(target, opts.batch);
        if (records.length === 0) return;
        await deps.send[target](records);
        await store.markForwarded(target, records.map((r) => r.id), clock.now());
      }
    }
    function kick(): void {
      if (!running) return;
      if (busy) {
        again = true;
        return;
      }
      busy = drain().then(
        () => {
          delay = opts.retryMinMs;
          schedule(opts.pollMs);
        },
        (err: unknown) => {
          logger.warn({ err, target, retryInMs: delay }, 'irrigation records not forwarded; retrying');
          schedule(delay);
          delay = Math.min(opts.retryMaxMs, delay * 2);
        },
      ).finally(() => {
        busy = undefined;
        if (again && running) {
          again = false;
          kick();
        }
      });
    }
    return {
      kick,
      async stop() {
        clock.clearTimeout(timer);
        await busy;
      },
    };
  }

  const loops = { influx: loop('influx'), bus: loop('bus') };
  return {
    start() {
      running = true;
      loops.influx.kick();
      loops.bus.kick();
    },
    wake() {
      loops.influx.kick();
      loops.bus.kick();
    },
    async stop() {
      running = false;
      await Promise.all([loops.influx.stop(), loops.bus.stop()]);
    },
    async backlog() {
      return { influx: await store.pendingCount('influx'), bus: await store.pendingCount('bus') };
    },
  };
}
