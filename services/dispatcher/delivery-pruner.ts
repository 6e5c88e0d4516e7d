import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import type { DispatchStore } from './store/types.js';

export interface DeliveryPrunerOptions {
  /** Finished deliveries older than this are pruned, ms. */
  retentionMs: number;
  /** How often to prune, ms. */
  intervalMs: number;
}

export const DEFAULT_DELIVERY_PRUNER_OPTIONS: Readonly<DeliveryPrunerOptions> = Object.freeze({
  /** 30 days: long enough to answer "was it delivered last month?", short enough to stay small. */
  retentionMs: 30 * 24 * 3_600_000,
  /** Hourly: the delivery log is for recent history, not an archive. */
  intervalMs: 3_600_000,
});

export interface DeliveryPruner {
  /** Prune now, then every `intervalMs`. */
  start(): void;
  /** No more prunes; resolves once the one under way (if any) is done with the store. */
  stop(): Promise<void>;
}

/** Drops finished deliveries, their attempts and events once they are past retention. */
export function createDeliveryPruner(deps: { store: DispatchStore; clock: Clock; logger: Logger }, options: DeliveryPrunerOptions): DeliveryPruner {
  const { store, clock, logger } = deps;
  let timer: unknown = null;
  let stopped = true;
  let pruning: Promise<void> = Promise.resolve();
  const prune = async () => {
    try {
      const n = await store.outbox.prune(clock.now() - options.retentionMs);
      if (n > 0) logger.info({ pruned: n }, 'pruned finished deliveries past retention');
    } catch (err) {
      logger.error({ err }, 'pruning the delivery log failed');
    }
    if (stopped) return;
    timer = clock.setTimeout(() => {
      pruning = prune();
    }, options.intervalMs);
  };
  return {
    start() {
      stopped = false;
      pruning = prune();
    },
    async stop() {
      stopped = true;
      if (timer !== null) clock.clearTimeout(timer);
      timer = null;
      await pruning;
    },
  };
}
