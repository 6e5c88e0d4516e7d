/**
 * Time source of the dispatcher. Everything that schedules (retries, breakers, timeouts) goes
 * through it, so tests can drive a day of retries with fake timers in milliseconds.
 */
export interface Clock {
  now(): number;
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
