import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, statSync, unlinkSync, utimesSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { processExists } from './child-process.js';
import { createWhole, ensurePrivateDir } from './data-dir.js';
import { Errors } from './error-catalog.js';

/** The lock file in the data folder. */
export const INSTANCE_LOCK_FILE = 'instance.lock';

export interface InstanceLockOptions {
  /** How often the holder touches the lock file, ms: the sign of life another host can see. */
  refreshMs: number;
  /**
   * A lock written on another host (a shared volume) whose file was not touched for this long is
   * taken over, ms. On the same host the holder's pid decides at once.
   */
  staleMs: number;
}

export const DEFAULT_INSTANCE_LOCK_OPTIONS: InstanceLockOptions = { refreshMs: 10_000, staleMs: 60_000 };

/** What the lock file says about its holder. */
export interface LockHolder {
  pid: number;
  host: string;
  instance: string;
  startedAt: string;
  /** The holder's start time in clock ticks since boot (Linux), so a reused pid is not mistaken for it. */
  processStart?: string;
  token: string;
}

export interface InstanceLock {
  readonly path: string;
  readonly holder: LockHolder;
  /** Let go of the data folder (the file is removed if it is still this lock's). Idempotent. */
  release(): void;
}

/** Locks this process holds, by path: a second start in the same process is refused like any other. */
const heldHere = new Set<string>();

/**
 * Take `DATA_DIR/instance.lock` for the life of the process, or throw FH_ERR_INSTANCE_LOCKED
 * naming the holder. One data folder is one instance's: its spool, its cursors, its local
 * InfluxDB and its broker sessions cannot be shared by two processes without double deliveries.
 *
 * The file appears whole (written aside, then hard-linked into place). A lock is stale, and is taken over, when its holder is gone:
 * on the same host, its pid no longer runs (or runs another program: the recorded start time
 * differs, or it is a zombie), or it is this very pid without this process holding it (a
 * container restarted as pid 1); on another host, its file has not been touched for `staleMs`.
 * Taking over renames the stale file aside and removes it only if it is still the one judged
 * stale, so two processes taking over at once do not both win.
 */
export function acquireInstanceLock(dataDir: string, instanceId: string, options: Partial<InstanceLockOptions> = {}): InstanceLock {
  const opts = { ...DEFAULT_INSTANCE_LOCK_OPTIONS, ...options };
  ensurePrivateDir(dataDir);
  const path = join(dataDir, INSTANCE_LOCK_FILE);
  const key = resolve(path);
  const start = processStart(process.pid);
  const holder: LockHolder = {
    pid: process.pid,
    host: hostname(),
    instance: instanceId,
    startedAt: new Date().toISOString(),
    ...(start ? { processStart: start } : {}),
    token: randomBytes(8).toString('hex'),
  };
  const content = `${JSON.stringify(holder)}\n`;

  for (let attempt = 0; ; attempt++) {
    if (createWhole(path, content)) break;
    const found = readLock(path);
    if (found === undefined) continue; // removed in between: try again
    const other = parseHolder(found.text);
    if (attempt >= 3 || heldHere.has(key) || !isStale(other, found.mtimeMs, opts.staleMs)) {
      throw Errors.instanceLocked(describeHolder(path, other), other ? { pid: other.pid, host: other.host, instance: other.instance } : {});
    }
    takeOver(path, found.text, holder.token);
  }

  heldHere.add(key);
  const refresh = setInterval(() => {
    try {
      const now = new Date();
      utimesSync(path, now, now);
    } catch {
      // Gone (released, or removed by hand): nothing to refresh.
    }
  }, opts.refreshMs);
  refresh.unref();

  let released = false;
  return {
    path,
    holder,
    release() {
      if (released) return;
      released = true;
      clearInterval(refresh);
      heldHere.delete(key);
      const current = readLock(path);
      if (current && parseHolder(current.text)?.token === holder.token) unlinkSync(path);
    },
  };
}

function readLock(path: string): { text: string; mtimeMs: number } | undefined {
  try {
    const mtimeMs = statSync(path).mtimeMs;
    return { text: readFileSync(path, 'utf8'), mtimeMs };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const parsed = JSON.parse(text) as Partial<LockHolder>;
    if (typeof parsed.pid === 'number' && typeof parsed.host === 'string' && typeof parsed.token === 'string') return parsed as LockHolder;
  } catch {
    // Damaged (or written by hand): judged by its age alone.
  }
  return undefined;
}

function isStale(holder: LockHolder | undefined, mtimeMs: number, staleMs: number): boolean {
  if (holder && holder.host === hostname()) {
    if (holder.pid === process.pid) return true;
    return !runs(holder.pid, holder.processStart);
  }
  return Date.now() - mtimeMs > staleMs;
}

/** Whether `pid` is a live process, and the same one when its start time was recorded. */
function runs(pid: number, recordedStart: string | undefined): boolean {
  const stat = procStat(pid);
  if (stat === null) return false;
  if (stat !== undefined) {
    if (stat.state === 'Z' || stat.state === 'X') return false;
    return recordedStart === undefined || stat.start === recordedStart;
  }
  // No /proc (not Linux): the pid alone.
  return processExists(pid);
}

/** State and start time of a process from /proc: `null` when it does not exist, `undefined` without /proc. */
function procStat(pid: number): { state: string; start: string } | null | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return undefined;
    try {
      statSync('/proc/self/stat');
    } catch {
      return undefined;
    }
    return null;
  }
  // `pid (comm) state …`: comm may hold spaces and parentheses, so split after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // Field 3 is the state, field 22 the start time (proc(5)); `fields` begins at field 3.
  return { state: fields[0] ?? '', start: fields[19] ?? '' };
}

function processStart(pid: number): string | undefined {
  return procStat(pid)?.start || undefined;
}

function takeOver(path: string, judged: string, token: string): void {
  const aside = `${path}.stale-${token}`;
  try {
    renameSync(path, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  let moved: string;
  try {
    moved = readFileSync(aside, 'utf8');
  } catch {
    return;
  }
  if (moved !== judged) {
    // Another process took it over first and this moved its fresh lock: put it back.
    // Unless yet another one holds the path already: the next attempt reports them.
    createWhole(path, moved);
  }
  unlinkSync(aside);
}

function describeHolder(path: string, holder: LockHolder | undefined): string {
  if (!holder) return `${path} is held by another fieldhook instance (the file is unreadable): give each instance its own FIELDHOOK_DATA_DIR`;
  return (
    `${path} is held by fieldhook instance ${holder.instance} (pid ${holder.pid} on ${holder.host}, since ${holder.startedAt}): ` +
    'give each instance its own FIELDHOOK_DATA_DIR; a lock whose process has died is taken over at start'
  );
}
