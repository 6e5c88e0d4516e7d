import { parentPort, workerData } from 'node:worker_threads';
import { createGroupCommit } from './group-commit.js';
import { createSpoolStore, type SpoolStore, type SpoolStoreOptions } from './spool-store.js';
import type { EncodedAppend } from './spool-store.js';

/** A request from the worker spool on the main thread: one store method and its arguments. */
export interface WorkerRequest {
  id: number;
  op: Exclude<keyof SpoolStore, 'appendBatch' | 'close' | 'pendingBytes'> | 'append' | 'close';
  args: unknown[];
}

/** The answer: a result or an error message, and the spool's pending bytes after the operation. */
export interface WorkerReply {
  id: number;
  result?: unknown;
  error?: string;
  pendingBytes: number;
}

// Runs the SQLite spool off the main thread, so a commit's fsync never stalls HTTP or MQTT.
const store = createSpoolStore(workerData as SpoolStoreOptions);
const group = createGroupCommit((batch) => store.appendBatch(batch));
const port = parentPort!;

function reply(id: number, outcome: { result?: unknown; error?: string }): void {
  port.postMessage({ id, ...outcome, pendingBytes: store.pendingBytes() } satisfies WorkerReply);
}

port.on('message', (message: WorkerRequest) => {
  const { id, op, args } = message;
  if (op === 'append') {
    group.append(args[0] as EncodedAppend).then(
      (result) => reply(id, { result }),
      (err: unknown) => reply(id, { error: (err as Error).message }),
    );
    return;
  }
  if (op === 'close') {
    group.flushNow();
    store.close();
    reply(id, {});
    port.close();
    return;
  }
  try {
    const method = store[op] as (...a: unknown[]) => unknown;
    reply(id, { result: method(...args) });
  } catch (err) {
    reply(id, { error: (err as Error).message });
  }
});
