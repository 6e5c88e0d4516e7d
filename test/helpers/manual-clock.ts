const realSetImmediate = globalThis.setImmediate;

interface Timer {
  due: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/**
 * A clock for code that takes one (`buildDispatcher({ clock })`): time stands still until the
 * test moves it. Zero-delay timers ("do this next") run on the real event loop, so work the code
 * hands itself proceeds with real I/O; anything later waits for `advance()`. Only the code under
 * test sees this time: sockets, the test's own waiting and the receivers keep real time.
 */
export interface ManualClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** Move time forward by `ms`, running the timers that fall due in order, each at its due time. */
  advance(ms: number): Promise<void>;
  /** Timers waiting for the clock to move. */
  pending(): number;
}

export function createManualClock(start = Date.now()): ManualClock {
  let now = start;
  let seq = 0;
  const waiting = new Set<Timer>();

  const nextDue = (until: number): Timer | undefined => {
    let next: Timer | undefined;
    for (const t of waiting) if (t.due <= until && (!next || t.due < next.due || (t.due === next.due && t.seq < next.seq))) next = t;
    return next;
  };

  return {
    now: () => now,
    setTimeout(fn, ms) {
      const timer: Timer = { due: now + Math.max(0, ms), seq: seq++, fn, cancelled: false };
      if (ms <= 0) {
        realSetImmediate(() => {
          if (!timer.cancelled) fn();
        });
      } else {
        waiting.add(timer);
      }
      return timer;
    },
    clearTimeout(handle) {
      const timer = handle as Timer | null | undefined;
      if (!timer) return;
      timer.cancelled = true;
      waiting.delete(timer);
    },
    async advance(ms) {
      const until = now + ms;
      for (let t = nextDue(until); t; t = nextDue(until)) {
        waiting.delete(t);
        now = Math.max(now, t.due);
        t.fn();
        // Let what the timer started (promise chains, zero-delay follow-ups) run before the next.
        await new Promise<void>((resolve) => realSetImmediate(resolve));
      }
      now = until;
    },
    pending: () => waiting.size,
  };
}
