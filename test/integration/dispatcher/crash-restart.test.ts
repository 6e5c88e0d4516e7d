import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startReceiver, verify, type Receiver } from './helpers.js';
import { adminApi, spawnDispatcher } from './standalone.js';
import { eventually } from '../../helpers/eventually.js';

/** The standalone dispatcher on an SQLite outbox at `dbPath`. */
const startChild = (dbPath: string) => spawnDispatcher({ FIELDHOOK_DISPATCH_DB_PATH: dbPath });

/** A promise and the function that resolves it. */
function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const dir = mkdtempSync(join(tmpdir(), 'fh-crash-'));
const children: ChildProcess[] = [];
const receivers: Receiver[] = [];
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  for (const r of receivers) await r.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('crash and restart', () => {
  it('delivers every accepted event at least once to every subscription after SIGKILL mid-delivery', async () => {
    const dbPath = join(dir, 'dispatch.sqlite');
    // Slow receivers keep many attempts in flight when the process dies; one also fails at first.
    for (let i = 0; i < 3; i++) receivers.push(await startReceiver((n) => ({ status: i === 2 && n % 3 === 0 ? 500 : 200, delayMs: 40 })));
    let run = await startChild(dbPath);
    children.push(run.child);
    const subs: { id: string; secret: string }[] = [];
    for (const r of receivers) {
      const res = await adminApi(run.base, 'POST', '/v1/subscriptions', { url: r.url, events: ['irrigation.*'] });
      expect(res.status).toBe(201);
      subs.push(res.json as unknown as { id: string; secret: string });
    }

    const accepted = new Set<string>();
    let publishing = true;
    let refused = 0;
    // Resolved each time a restarted dispatcher listens: a publisher that found it down waits for that.
    let restarted = signal();
    const publisher = (async () => {
      let n = 0;
      while (publishing) {
        const batch = Array.from({ length: 5 }, () => ({ type: 'irrigation.recommended', data: { farm: 'f1', n: n++ } }));
        const base = run.base;
        try {
          const res = await adminApi(base, 'POST', '/v1/events', batch);
          if (res.status === 202) for (const r of res.json as unknown as { id: string }[]) accepted.add(r.id);
        } catch {
          refused++; // the dispatcher is down: not accepted, the publisher retries once it is back
          if (run.base === base) await restarted.promise;
        }
      }
    })();

    for (let crash = 0; crash < 2; crash++) {
      const before = receivers[0]!.received.length;
      await eventually(() => receivers[0]!.received.length >= before + 60, { timeoutMs: 20_000, what: 'deliveries before the crash' });
      const refusedBefore = refused;
      run.child.kill('SIGKILL');
      await new Promise((r) => run.child.once('exit', r));
      await eventually(() => refused > refusedBefore, { what: 'the publisher to find the dispatcher down' });
      run = await startChild(dbPath);
      children.push(run.child);
      restarted.resolve();
      restarted = signal();
    }
    // Events accepted by the last process too, not only by the ones that were killed.
    const acceptedBeforeLastRun = accepted.size;
    await eventually(() => accepted.size >= acceptedBeforeLastRun + 50, { what: 'events accepted after the last restart' });
    publishing = false;
    await publisher;
    expect(accepted.size).toBeGreaterThan(100);

    // Verify each request once, as it arrives at the test's side (verification is pure JS HMAC).
    const verified = receivers.map(() => ({ seen: 0, ids: new Set<string>() }));
    const idsAt = (i: number) => {
      const v = verified[i]!;
      const r = receivers[i]!;
      for (; v.seen < r.received.length; v.seen++) v.ids.add(verify(subs[i]!.secret, r.received[v.seen]!).id);
      return v.ids;
    };
    const missing = () => receivers.map((_r, i) => [...accepted].filter((id) => !idsAt(i).has(id)).length);
    await eventually(() => missing().every((n) => n === 0), { timeoutMs: 30_000, what: 'every accepted event at every receiver' }).catch((e) => {
      throw new Error(`${(e as Error).message}; missing per receiver: ${missing().join(', ')} of ${accepted.size}`);
    });
    expect(missing()).toEqual([0, 0, 0]);
    // At-least-once: re-sent messages carry the same webhook-id, so receivers can de-duplicate.
    // Attempts in flight at the kill had reached the receivers but were never recorded: they are
    // sent again, which proves the kills landed mid-delivery.
    const total = receivers.reduce((a, r) => a + r.received.length, 0);
    expect(total).toBeGreaterThan(accepted.size * 3);
    run.child.kill('SIGTERM');
    await new Promise((r) => run.child.once('exit', r));
  }, 90_000);
});
