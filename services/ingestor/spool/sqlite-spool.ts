import { createAppendWaiters, createGroupCommit } from './group-commit.js';
import type { Spool } from './spool.js';
import { createSpoolStore, encodeAppend, type SpoolStoreOptions } from './spool-store.js';

export type SqliteSpoolOptions = SpoolStoreOptions;

/**
 * The spool on this thread: for the command line and tests. A commit's fsync blocks the event
 * loop here; `fieldhook start` uses the worker-thread spool instead.
 */
export function createSqliteSpool(options: SqliteSpoolOptions): Spool {
  const store = createSpoolStore(options);
  const waiters = createAppendWaiters();
  const group = createGroupCommit((batch) => store.appendBatch(batch), () => waiters.wakeAll());
  return {
    append: (request) => group.append(encodeAppend(request)),
    read: async (consumer, maxReadings) => store.read(consumer, maxReadings),
    pinUnwrittenBus: async () => store.pinUnwrittenBus(),
    readBusRange: async (afterSeq, untilSeq, maxReadings) => store.readBusRange(afterSeq, untilSeq, maxReadings),
    unpin: async () => store.unpin(),
    readingsOf: async (seq) => store.readingsOf(seq),
    commit: async (consumer, seq) => store.commit(consumer, seq),
    pendingBytes: () => store.pendingBytes(),
    usage: async () => store.usage(),
    addDeadLetters: async (letters) => store.addDeadLetters(letters),
    listDeadLetters: async (limit) => store.listDeadLetters(limit),
    requeueDeadLetters: async (ids) => store.requeueDeadLetters(ids),
    pruneDedup: async (olderThanMs) => store.pruneDedup(olderThanMs),
    waitForAppend: (timeoutMs) => waiters.wait(timeoutMs),
    close() {
      group.flushNow();
      waiters.wakeAll();
      store.close();
    },
  };
}
