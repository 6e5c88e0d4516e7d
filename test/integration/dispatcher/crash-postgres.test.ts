/**
 * Two standalone dispatcher processes (`services/dispatcher/main.ts`) sharing one outbox in the
 * run's real PostgreSQL; one is killed with SIGKILL while it has deliveries in flight. The other
 * takes those over once their leases expire (request timeout + 30 s), and every accepted event
 * reaches the receiver at least once.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually } from '../../helpers/eventually.js';
import { createTestDatabase } from '../../helpers/postgres-database.js';
import { startReceiver, type Receiver } from './helpers.js';
import { adminApi, spawnDispatcher, type StandaloneDispatcher } from './standalone.js';

const TIMEOUT_MS = 1_000;

const dir = mkdtempSync(join(tmpdir(), 'fh-crash-pg-'));
const children: ChildProcess[] = [];
let receiver: Receiver | undefined;
let sql: pg.Client | undefined;
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await receiver?.close();
  await sql?.end();
  rmSync(dir, { recursive: true, force: true });
});

/** A standalone dispatcher on `databaseUrl` as instance `id`. */
async function startChild(databaseUrl: string, id: string): Promise<StandaloneDispatcher> {
  const run = await spawnDispatcher({
    FIELDHOOK_DATABASE_URL: databaseUrl,
    FIELDHOOK_INSTANCE_ID: id,
    FIELDHOOK_DATA_DIR: join(dir, id),
    FIELDHOOK_WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS),
  });
  children.push(run.child);
  return run;
}

const api = (base: string, path: string, body: unknown) => adminApi(base, 'POST', path, body);

describe('two standalone dispatchers on PostgreSQL, one killed', () => {
  it('delivers every accepted event at least once after SIGKILL of the instance holding deliveries', async () => {
    const url = await createTestDatabase('crash_dispatchers');
    sql = new pg.Client({ connectionString: url });
    await sql.connect();
    const count = async (query: string, params: unknown[] = []) => Number((await sql!.query<{ n: string }>(query, params)).rows[0]!.n);
    // A slow receiver keeps attempts in flight when the process dies.
    receiver = await startReceiver(() => ({ status: 204, delayMs: 150 }));
    const one = await startChild(url, 'dsp-1');
    const two = await startChild(url, 'dsp-2');
    expect((await api(one.base, '/v1/subscriptions', { url: receiver.url, events: ['irrigation.*'] })).status).toBe(201);

    const accepted: string[] = [];
    for (let n = 0; n < 150; n += 5) {
      const base = n % 10 === 0 ? one.base : two.base;
      const res = await api(base, '/v1/events', Array.from({ length: 5 }, (_, i) => ({ type: 'irrigation.recommended', data: { farm: 'f1', n: n + i } })));
      expect(res.status).toBe(202);
      for (const r of res.json as { id: string }[]) accepted.push(r.id);
    }
    await eventually(async () => receiver!.received.length >= 20 && (await count("SELECT COUNT(*) AS n FROM dispatch_deliveries WHERE leased_by = 'dsp-1'")) > 0, {
      what: 'dsp-1 delivering',
    });
    one.child.kill('SIGKILL');
    await new Promise((r) => one.child.once('exit', r));
    const orphaned = await count("SELECT COUNT(*) AS n FROM dispatch_deliveries WHERE leased_by = 'dsp-1'");

    // dsp-2 takes dsp-1's deliveries over once their leases expire.
    await eventually(async () => (await count("SELECT COUNT(*) AS n FROM dispatch_deliveries WHERE status = 'succeeded'")) === accepted.length, {
      timeoutMs: TIMEOUT_MS + 30_000 + 30_000,
      what: 'every delivery succeeded',
    });
    const received = new Map<string, number>();
    for (const r of receiver.received) received.set(String(r.headers['webhook-id']), (received.get(String(r.headers['webhook-id'])) ?? 0) + 1);
    expect(accepted.filter((id) => !received.has(id))).toEqual([]);
    const { rows } = await sql.query<{ instance: string; n: string }>("SELECT instance, COUNT(*) AS n FROM dispatch_attempts WHERE outcome = 'success' GROUP BY instance ORDER BY instance");
    const split = Object.fromEntries(rows.map((r) => [r.instance, Number(r.n)]));
    const twice = [...received.values()].filter((n) => n > 1).length;
    console.log(
      `standalone dispatchers, SIGKILL of dsp-1: ${accepted.length} events accepted, ${receiver.received.length} requests received, ` +
        `${orphaned} deliveries leased by dsp-1 at the kill, ${twice} events received more than once, recorded successes ${JSON.stringify(split)}`,
    );
    expect(orphaned).toBeGreaterThan(0);
    expect(split['dsp-2']).toBeGreaterThanOrEqual(orphaned);
    expect((split['dsp-1'] ?? 0) + split['dsp-2']!).toBe(accepted.length);
    expect(twice).toBeLessThanOrEqual(orphaned);
    two.child.kill('SIGTERM');
    await new Promise((r) => two.child.once('exit', r));
  }, 120_000);
});
