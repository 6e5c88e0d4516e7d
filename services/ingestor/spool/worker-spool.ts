import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { createAppendWaiters } from './group-commit.js';
import type { Spool } from './spool.js';
import { encodeAppend, type SpoolStoreOptions } from './spool-store.js';
import type { WorkerOpenFailure, WorkerReply, WorkerRequest } from './spool-worker.js';
import { Errors } from '../../shared/error-catalog.js';

/**
 * The compiled worker next to this file; when running from TypeScript sources (tests, tsx), a
 * small bootstrap that registers tsx in the worker first, since loader hooks do not reach it.
 */
function startWorker(workerData: unknown): Worker {
  // The worker holds only requests in flight: a small heap keeps the process's memory flat.
  const resourceLimits = { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 8 };
  const compiled = new URL('./spool-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(compiled))) return new Worker(compiled, { workerData, resourceLimits });
  const source = new URL('./spool-worker.ts', import.meta.url).href;
  const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(source)}); });`;
  return new Worker(bootstrap, { eval: true, workerData, resourceLimits });
}

/** The worker's open failure as this thread's error, with its catalog code when it had one. */
function openFailure(message: WorkerOpenFailure): Error {
  const known = Object.values(Errors).find((e) => e.code === message.code);
  return known ? known(message.openError) : Errors.internal(`spool not opened: ${message.openError}`);
}

/**
 * The spool in a worker thread (what `fieldhook start` uses). SQLite and its fsyncs run there;
 * this thread only posts requests. Appends posted while the worker is busy commit together, so
 * group commit happens by itself under load. `pendingBytes` is mirrored from every reply, so
 * the per-request pressure check stays synchronous and cheap.
 */
export function createWorkerSpool(options: Omit<SpoolStoreOptions, 'now'>): Spool {
  const worker = startWorker(options);
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const waiters = createAppendWaiters();
  let nextId = 1;
  let pendingBytes = 0;
  let failure: Error | undefined;

  worker.on('message', (message: WorkerReply | WorkerOpenFailure) => {
    if ('openError' in message) return failAll(openFailure(message));
    pendingBytes = message.pendingBytes;
    const call = pending.get(message.id);
    pending.delete(message.id);
    if (message.error !== undefined) call?.reject(new Error(message.error));
    else call?.resolve(message.result);
  });
  const failAll = (err: Error) => {
    // The first failure is the reason: the worker's exit that follows an open failure says less.
    failure ??= err;
    err = failure;
    for (const call of pending.values()) call.reject(err);
    pending.clear();
  };
  worker.on('error', failAll);
  worker.on('exit', (code) => failAll(new Error(`spool worker exited (${code})`)));

  function call<T>(op: WorkerRequest['op'], ...args: unknown[]): Promise<T> {
    if (failure) return Promise.reject(failure);
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.postMessage({ id, op, args } satisfies WorkerRequest);
    });
  }

  return {
    // Not an async function: its argument (every reading of the append) would be held until the
    // commit, through the young-generation collections meanwhile; only the encoded copy crosses.
    append(request) {
      let encoded: ReturnType<typeof encodeAppend>;
      try {
        encoded = encodeAppend(request);
      } catch (err) {
        return Promise.reject(err as Error);
      }
      return call<Awaited<ReturnType<Spool['append']>>>('append', encoded).then((result) => {
        waiters.wakeAll();
        return result;
      });
    },
    read: (consumer, maxReadings) => call('read', consumer, maxReadings),
    pinUnwrittenBus: () => call('pinUnwrittenBus'),
    readBusRange: (afterSeq, untilSeq, maxReadings) => call('readBusRange', afterSeq, untilSeq, maxReadings),
    unpin: () => call('unpin'),
    readingsOf: (seq) => call('readingsOf', seq),
    commit: (consumer, seq) => call('commit', consumer, seq),
    pendingBytes: () => pendingBytes,
    usage: () => call('usage'),
    addDeadLetters: (letters) => call('addDeadLetters', letters),
    listDeadLetters: (limit) => call('listDeadLetters', limit),
    requeueDeadLetters: (ids) => call('requeueDeadLetters', ids),
    pruneDedup: (olderThanMs) => call('pruneDedup', olderThanMs),
    waitForAppend: (timeoutMs) => waiters.wait(timeoutMs),
    close() {
      waiters.wakeAll();
      void call('close')
        .catch(() => undefined)
        .finally(() => void worker.terminate());
    },
  };
}
