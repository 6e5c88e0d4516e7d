import { abortable, sleep } from '../../shared/abortable.js';
import type { Logger } from '../../shared/logger.js';
import type { Spool } from './spool.js';

export interface ConsumerLoopOptions {
  /** Idle wait when a round found nothing, ms (an append wakes it sooner). */
  idlePollMs: number;
  /** Wait after a round threw, ms. */
  retryDelayMs: number;
  /** Log message when a round throws. */
  failureMessage: string;
}

export interface ConsumerLoop {
  start(): void;
  /** Abort waits and stop after the round in flight. */
  stop(): Promise<void>;
  /** Aborted when `stop()` is called: rounds pass it to anything they wait on. */
  readonly signal: AbortSignal;
}

/**
 * The loop every spool consumer runs: a round takes what is behind its cursor (returning false
 * when there was nothing), sleeps until the next append when idle, and survives a failing round.
 */
export function createConsumerLoop(
  deps: { spool: Spool; logger: Logger },
  options: ConsumerLoopOptions,
  round: (signal: AbortSignal) => Promise<boolean>,
): ConsumerLoop {
  let loop: Promise<void> | undefined;
  let stopping = new AbortController();

  async function run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        if (!(await round(signal))) await abortable(deps.spool.waitForAppend(options.idlePollMs), signal);
      } catch (err) {
        if (signal.aborted) break;
        deps.logger.warn({ err }, options.failureMessage);
        await sleep(options.retryDelayMs, signal);
      }
    }
  }

  return {
    start() {
      if (loop) return;
      stopping = new AbortController();
      loop = run(stopping.signal);
    },
    async stop() {
      stopping.abort(new Error('spool consumer stopped'));
      await loop;
      loop = undefined;
    },
    get signal() {
      return stopping.signal;
    },
  };
}
