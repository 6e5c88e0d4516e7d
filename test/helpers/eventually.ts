// Captured at load, before any test installs fake timers: polling must keep real time even while
// the code under test runs on a fake clock.
const realSetTimeout = globalThis.setTimeout;
const realNow = performance.now.bind(performance);

export interface EventuallyOptions {
  /** Give up after this long, ms. Default 15 000. */
  timeoutMs?: number;
  /** Pause between two probes, ms. Default 20. */
  intervalMs?: number;
  /** What is awaited, for the failure message. */
  what?: string;
}

/**
 * Poll `probe` until it returns (or resolves to) a truthy value without throwing, and return
 * that value. For effects that happen asynchronously downstream (a row committed, a request
 * received, a point queryable). An assertion can be the probe: a throw counts as "not yet", and
 * on timeout the last error is part of the failure message.
 */
export async function eventually<T>(probe: () => T | Promise<T>, options: EventuallyOptions = {}): Promise<NonNullable<T>> {
  const { timeoutMs = 15_000, intervalMs = 20, what = 'condition' } = options;
  const deadline = realNow() + timeoutMs;
  let attempts = 0;
  let lastError: unknown;
  let lastValue: unknown;
  for (;;) {
    attempts++;
    try {
      const value = await probe();
      if (value) return value as NonNullable<T>;
      lastError = undefined;
      lastValue = value;
    } catch (err) {
      lastError = err;
    }
    if (realNow() >= deadline) {
      const last =
        lastError !== undefined
          ? `last error: ${lastError instanceof Error ? lastError.message : String(lastError)}`
          : `last value: ${describe(lastValue)}`;
      throw new Error(`timed out after ${timeoutMs} ms (${attempts} probes) waiting for ${what}; ${last}`, {
        ...(lastError !== undefined ? { cause: lastError } : {}),
      });
    }
    await new Promise((resolve) => realSetTimeout(resolve, intervalMs));
  }
}

function describe(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
