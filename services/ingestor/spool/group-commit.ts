import type { AppendResult } from './spool.js';
import type { EncodedAppend } from './spool-store.js';

/**
 * Group commit: appends requested during one event-loop turn are applied together by `apply`
 * (one transaction, one fsync), then each caller gets its own result.
 */
export function createGroupCommit(apply: (batch: EncodedAppend[]) => AppendResult[], onCommitted: () => void = () => undefined) {
  let queue: { request: EncodedAppend; resolve: (r: AppendResult) => void; reject: (e: unknown) => void }[] = [];
  let scheduled = false;

  function flush(): void {
    scheduled = false;
    const batch = queue;
    queue = [];
    let results: AppendResult[];
    try {
      results = apply(batch.map((p) => p.request));
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    batch.forEach((p, i) => p.resolve(results[i]!));
    onCommitted();
  }

  return {
    append(request: EncodedAppend): Promise<AppendResult> {
      return new Promise((resolve, reject) => {
        queue.push({ request, resolve, reject });
        if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      });
    },
    /** Apply whatever is queued now (before closing). */
    flushNow(): void {
      if (queue.length > 0) flush();
    },
  };
}

/** Consumers sleeping until the next append (or a timeout). */
export function createAppendWaiters() {
  let waiters: (() => void)[] = [];
  return {
    wait(timeoutMs: number): Promise<void> {
      return new Promise((resolve) => {
        const timer = setTimeout(done, timeoutMs);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        waiters.push(done);
      });
    },
    wakeAll(): void {
      const woken = waiters;
      waiters = [];
      for (const wake of woken) wake();
    },
  };
}
