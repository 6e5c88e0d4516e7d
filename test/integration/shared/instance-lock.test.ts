/**
 * One data folder, one instance: the lock `fieldhook start` takes on DATA_DIR refuses a second
 * holder, in this process or another, and takes over a lock its holder left behind.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { INSTANCE_LOCK_FILE, acquireInstanceLock, type InstanceLock, type LockHolder } from '../../../services/shared/instance-lock.js';
import { eventually } from '../../helpers/eventually.js';

const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return err as { code: string; message: string; details?: Record<string, unknown> };
  }
  throw new Error('not refused');
};

describe('instance lock on a data folder', () => {
  let dir: string;
  let held: InstanceLock[];
  let child: ChildProcess | undefined;
  const acquire = (id: string, options = {}) => {
    const lock = acquireInstanceLock(dir, id, options);
    held.push(lock);
    return lock;
  };
  const lockPath = () => join(dir, INSTANCE_LOCK_FILE);
  const writeHolder = (holder: Partial<LockHolder>) =>
    writeFileSync(lockPath(), JSON.stringify({ host: hostname(), instance: 'old', startedAt: '2026-01-01T00:00:00.000Z', token: 'old-token', ...holder }));

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fh-lock-'));
    held = [];
  });
  afterEach(async () => {
    for (const lock of held) lock.release();
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    child = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('is held until released, refusing a second holder in the same process with FH_ERR_INSTANCE_LOCKED', () => {
    const lock = acquire('first');
    expect(JSON.parse(readFileSync(lockPath(), 'utf8'))).toMatchObject({ pid: process.pid, host: hostname(), instance: 'first' });
    // Written aside and linked into place: nothing else is left in the folder.
    expect(readdirSync(dir)).toEqual([INSTANCE_LOCK_FILE]);
    const err = refusal(() => acquire('second'));
    expect(err.code).toBe('FH_ERR_INSTANCE_LOCKED');
    expect(err.message).toContain(`instance first (pid ${process.pid} on ${hostname()}`);
    expect(err.message).toContain('FIELDHOOK_DATA_DIR');
    lock.release();
    expect(existsSync(lockPath())).toBe(false);
    expect(acquire('second').holder.instance).toBe('second');
  });

  it('refuses while another live process holds it, and takes it over once that process was killed', async () => {
    child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/hold-instance-lock.ts', dir, 'other'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await eventually(() => out.includes('locked'), { what: 'the other process holding the lock' });

    const err = refusal(() => acquire('mine'));
    expect(err.code).toBe('FH_ERR_INSTANCE_LOCKED');
    expect(err.details).toMatchObject({ pid: child.pid, instance: 'other' });

    child.kill('SIGKILL');
    await once(child, 'exit');
    // The killed process's file is still there: it is judged by its pid, at once.
    expect(existsSync(lockPath())).toBe(true);
    expect(acquire('mine').holder.instance).toBe('mine');
    expect(JSON.parse(readFileSync(lockPath(), 'utf8'))).toMatchObject({ pid: process.pid, instance: 'mine' });
  }, 30_000);

  it('takes over a lock whose pid has exited, or now belongs to another program (a different start time)', () => {
    const exited = spawnSync('true').pid!;
    writeHolder({ pid: exited });
    expect(acquire('a').holder.instance).toBe('a');
    held.pop()!.release();

    // A pid reused by another program: alive, but not started when the lock says.
    writeHolder({ pid: process.ppid, processStart: '1' });
    expect(acquire('b').holder.instance).toBe('b');
  });

  it('takes over a lock with its own pid that this process does not hold (a container restarted as the same pid)', () => {
    writeHolder({ pid: process.pid });
    expect(acquire('again').holder.instance).toBe('again');
  });

  it('judges a lock from another host by its age: refused while touched recently, taken over once older than staleMs', () => {
    writeHolder({ pid: 1, host: 'elsewhere.example' });
    const err = refusal(() => acquire('here', { staleMs: 60_000 }));
    expect(err.code).toBe('FH_ERR_INSTANCE_LOCKED');
    expect(err.message).toContain('on elsewhere.example');

    const old = new Date(Date.now() - 120_000);
    utimesSync(lockPath(), old, old);
    expect(acquire('here', { staleMs: 60_000 }).holder.instance).toBe('here');
  });

  it('refuses a fresh lock file it cannot read instead of guessing, and names the file', () => {
    writeFileSync(lockPath(), '');
    const err = refusal(() => acquire('x'));
    expect(err.code).toBe('FH_ERR_INSTANCE_LOCKED');
    expect(err.message).toContain(`${lockPath()} is held by another fieldhook instance (the file is unreadable)`);
  });

  it('leaves a lock that is no longer its own in place when released', () => {
    const lock = acquire('first');
    writeHolder({ pid: 1, host: 'elsewhere.example', token: 'someone-else' });
    lock.release();
    expect(JSON.parse(readFileSync(lockPath(), 'utf8'))).toMatchObject({ token: 'someone-else' });
  });
});
