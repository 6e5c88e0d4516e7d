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

/** Why the spool could not be opened (id 0, the worker ends after it): its message and catalog code. */
export interface WorkerOpenFailure {
  id: 0;
  openError: string;
  code?: string;
  pendingBytes: 0;
}

// Runs the SQLite spool off the main thread, so a commit's fsync never stalls HTTP or MQTT.
const port = parentPort!;
let opened: SpoolStore;
try {
  opened = createSpoolStore(workerData as SpoolStoreOptions);
} catch (err) {
  // Said before the worker ends, so the start fails with the reason (a file a newer fieldhook
  // migrated, one that is not a database) rather than with the worker's exit code.
  port.postMessage({ id: 0, openError: (err as Error).message, code: (err as { code?: string }).code, pendingBytes: 0 } satisfies WorkerOpenFailure);
  throw err;
}
const store = opened;
const group = createGroupCommit((batch) => store.appendBatch(batch));

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
