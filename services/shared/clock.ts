/**
 * The one time source of fieldhook. Everything that reads the time or schedules (ingest age
 * checks, the predictor's rounds, retries, breakers, pruning) goes through a `Clock` injected by
 * its builder, so tests drive hours of schedule with fake timers in milliseconds.
 */
export interface Clock {
  /** Epoch ms. */
  now(): number;
  /** Run `fn` once after `ms`; the timer does not keep the process alive. */
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

// Looked up on every call rather than bound once, so vi.useFakeTimers() after construction works.
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = globalThis.setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (handle) => globalThis.clearTimeout(handle as NodeJS.Timeout),
};

/** Run `fn` every `ms` on `clock` until the returned function is called. */
export function every(clock: Clock, ms: number, fn: () => void): () => void {
  let handle: unknown;
  let stopped = false;
  const tick = () => {
    if (stopped) return;
    fn();
    handle = clock.setTimeout(tick, ms);
  };
  handle = clock.setTimeout(tick, ms);
  return () => {
    stopped = true;
    clock.clearTimeout(handle);
  };
}
