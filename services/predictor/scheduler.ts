import type { Clock } from '../shared/clock.js';
import { every } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';

export interface SchedulerOptions {
  /** Every field is evaluated this often even without readings, ms: silence must be noticed. */
  intervalMs: number;
  /** Fields with readings arriving within this delay are evaluated in one round, ms. */
  debounceMs: number;
}

export const DEFAULT_SCHEDULER_OPTIONS: Readonly<SchedulerOptions> = Object.freeze({
  /** 15 min: a sensor that falls silent is noticed within a quarter of an hour of its threshold. */
  intervalMs: 15 * 60_000,
  /** 20 ms: a gateway's burst of readings becomes one round. */
  debounceMs: 20,
});

/**
 * Why a round runs. Only a `scheduled` round (every field, every `intervalMs`) judges silence:
 * a `readings` round (the debounced one, for fields whose readings just arrived) may hold only a
 * back-fill's oldest readings, and readings arriving are the opposite of silence. `explicit`
 * rounds (asked for by the predictor: its start, partitions gained, `evaluate`) judge as scheduled.
 */
export type RoundTrigger = 'scheduled' | 'readings' | 'explicit';

export interface RoundRunner<R> {
  /** Evaluate the given field keys, or every field when undefined, for the reason `trigger`. */
  run(keys: readonly string[] | undefined, trigger: RoundTrigger): Promise<R>;
  /** Before every scheduled round (e.g. re-read the field profiles). */
  beforeScheduledRound(): Promise<void>;
}

export interface Scheduler<R> {
  /** Run an `explicit` round now, after the ones already queued. */
  enqueue(keys: readonly string[] | undefined): Promise<R>;
  /** Run `fn` between rounds, never during one (fields moving in or out of this instance). */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  /** A field has new readings: evaluate it in the next debounced round. */
  touch(key: string): void;
  /** Start the interval. */
  start(): void;
  /**
   * Stop scheduling; resolves when the round in progress (and a scheduled one being prepared) has
   * finished: none runs afterwards, so the predictor's stores may close.
   */
  stop(): Promise<void>;
  /** Resolves when every round scheduled so far has finished (tests). */
  idle(): Promise<void>;
}

/**
 * When the predictor evaluates: one round at a time (a field's decision state is never stepped
 * twice at once), fields with new readings batched over `debounceMs`, and every field every
 * `intervalMs`. All timing is on the injected clock.
 */
export function createScheduler<R>(runner: RoundRunner<R>, deps: { clock: Clock; logger: Logger }, options: SchedulerOptions): Scheduler<R> {
  const { clock, logger } = deps;
  const dirty = new Set<string>();
  let chain: Promise<unknown> = Promise.resolve();
  let debounce: unknown;
  let stopInterval: (() => void) | undefined;
  let stopped = false;
  /** The scheduled round being prepared (`beforeScheduledRound`), then queued. */
  let scheduled: Promise<unknown> = Promise.resolve();
  let preparing = false;

  function exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = chain.then(fn);
    chain = run.catch(() => {});
    return run;
  }

  function queue(keys: readonly string[] | undefined, trigger: RoundTrigger): Promise<R> {
    return exclusive(() => runner.run(keys, trigger));
  }

  function enqueue(keys: readonly string[] | undefined): Promise<R> {
    return queue(keys, 'explicit');
  }

  function flush(): void {
    debounce = undefined;
    const keys = [...dirty];
    dirty.clear();
    queue(keys, 'readings').catch((err: unknown) => logger.error({ err }, 'evaluation round failed'));
  }

  return {
    enqueue,
    exclusive,
    touch(key) {
      dirty.add(key);
      if (debounce === undefined) debounce = clock.setTimeout(flush, options.debounceMs);
    },
    start() {
      stopped = false;
      stopInterval = every(clock, options.intervalMs, () => {
        // One scheduled round at a time: a tick while the last is still prepared or run is skipped
        // (the next covers every field anyway), so `stop` has only that one to wait for.
        if (preparing) return;
        preparing = true;
        scheduled = runner
          .beforeScheduledRound()
          // Stopped meanwhile: the round is not queued behind the stop's back.
          .then(() => (stopped ? undefined : queue(undefined, 'scheduled')))
          .catch((err: unknown) => logger.error({ err }, 'scheduled evaluation failed'))
          .finally(() => (preparing = false));
      });
    },
    async stop() {
      stopped = true;
      stopInterval?.();
      stopInterval = undefined;
      if (debounce !== undefined) clock.clearTimeout(debounce);
      debounce = undefined;
      dirty.clear();
      await scheduled;
      await chain;
    },
    async idle() {
      // A pending debounce is flushed now rather than waited for: the same round, sooner.
      if (debounce !== undefined) {
        clock.clearTimeout(debounce);
        flush();
      }
      await chain;
    },
  };
}
