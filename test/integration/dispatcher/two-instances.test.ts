/**
 * Two dispatchers (distinct instance ids, a pool each) sharing one outbox in the run's real
 * PostgreSQL, delivering to one local receiver: every event delivered once while both run, the
 * work split between them, and after one of them crashes with deliveries leased (its pool gone,
 * its leases never released) the other takes those over once the leases expire, so every event
 * is still delivered at least once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDispatcher, type FieldhookDispatcher } from '../../../services/dispatcher/build-dispatcher.js';
import { createDispatchConfig } from '../../../services/dispatcher/config.js';
import { LEASE_MARGIN_MS } from '../../../services/dispatcher/delivery-loop.js';
import { systemClock, type Clock } from '../../../services/shared/clock.js';
import { closeControlPlane, createControlPlane, type ControlPlane } from '../../../services/shared/database/control-plane.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { eventually } from '../../helpers/eventually.js';
import { createTestDatabase } from '../../helpers/postgres-database.js';
import { ADMIN_TOKEN } from './helpers.js';

const TIMEOUT_MS = 20_000;
/** How long a lease lasts in this configuration: the request timeout and the loop's margin. */
const LEASE_MS = TIMEOUT_MS + LEASE_MARGIN_MS;
/** Attempts in flight to the endpoint, across both instances: room for every event of a round. */
const CONCURRENCY = 100;

/** Real time, moved forward by the test to let leases expire without waiting for them. */
function skippingClock(): Clock & { skip(ms: number): void } {
  let offset = 0;
  return { ...systemClock, now: () => Date.now() + offset, skip: (ms) => void (offset += ms) };
}

/**
 * A webhook receiver on 127.0.0.1 that counts every request by `webhook-id`; while `hold` is on
 * it answers nothing until `letGo()`, so deliveries stay in flight (and leased) as long as the
 * test needs.
 */
async function startReceiver() {
  const received: string[] = [];
  let waiting: ServerResponse[] = [];
  let hold = false;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received.push(String(req.headers['webhook-id']));
      if (hold) waiting.push(res);
      else res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    held: () => waiting.length,
    hold: () => void (hold = true),
    letGo() {
      hold = false;
      for (const res of waiting) if (!res.destroyed) res.writeHead(204).end();
      waiting = [];
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface Instance {
  id: string;
  plane: ControlPlane;
  dispatcher: FieldhookDispatcher;
}

describe('two dispatchers on one PostgreSQL outbox', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fh-two-dispatchers-'));
  const clock = skippingClock();
  let url: string;
  let sql: pg.Client;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let a: Instance;
  let b: Instance;

  function instance(id: string): Instance {
    const config = createDispatchConfig({
      ADMIN_TOKEN,
      DATA_DIR: join(dir, id),
      DATABASE_URL: url,
      INSTANCE_ID: id,
      WEBHOOK_ALLOW_CIDRS: { '*': ['127.0.0.1/32'] },
      WEBHOOK_RETRY_SCHEDULE_MS: [0, 100, 200, 300],
      WEBHOOK_RETRY_JITTER: 0,
      WEBHOOK_RETRY_MIN_HORIZON_MS: 0,
      WEBHOOK_TIMEOUT_MS: TIMEOUT_MS,
      WEBHOOK_ENDPOINT_CONCURRENCY: CONCURRENCY,
      DISPATCH_POLL_INTERVAL_MS: 20,
    });
    const plane = createControlPlane(config, silentLogger());
    return { id, plane, dispatcher: buildDispatcher({ config, logger: silentLogger(), clock, plane }) };
  }

  /** Webhook ids received, with how many times each. */
  const receivedCounts = () => {
    const counts = new Map<string, number>();
    for (const id of receiver.received) counts.set(id, (counts.get(id) ?? 0) + 1);
    return counts;
  };
  const attemptsBy = async () => {
    const { rows } = await sql.query<{ instance: string; n: string }>("SELECT instance, COUNT(*) AS n FROM dispatch_attempts WHERE outcome = 'success' GROUP BY instance");
    return Object.fromEntries(rows.map((r) => [r.instance, Number(r.n)]));
  };
  const succeeded = async () =>
    Number((await sql.query<{ n: string }>("SELECT COUNT(*) AS n FROM dispatch_deliveries WHERE status = 'succeeded'")).rows[0]!.n);
  const leasedBy = async (id: string) =>
    Number((await sql.query<{ n: string }>('SELECT COUNT(*) AS n FROM dispatch_deliveries WHERE leased_by = $1', [id])).rows[0]!.n);
  const publish = (via: Instance, from: number, count: number) =>
    Promise.all(
      Array.from({ length: count }, (_, i) => via.dispatcher.publish({ id: `evt_${from + i}`, type: 'irrigation.recommended', data: { farm: 'f1', n: from + i } })),
    );

  beforeAll(async () => {
    url = await createTestDatabase('two_dispatchers');
    sql = new pg.Client({ connectionString: url });
    await sql.connect();
    receiver = await startReceiver();
    a = instance('dsp-a');
    b = instance('dsp-b');
    await a.dispatcher.start();
    await b.dispatcher.start();
    await a.dispatcher.service.createSubscription({ url: receiver.url, events: ['irrigation.*'] });
  });

  afterAll(async () => {
    for (const x of [a, b]) {
      await x?.dispatcher.stop().catch(() => {});
      await x && closeControlPlane(x.plane);
    }
    await receiver?.close();
    await sql?.end();
    rmSync(dir, { recursive: true, force: true });
  });

  it('delivers every event exactly once while both run, each instance taking part', async () => {
    // Published through both, interleaved: each claims whatever is due, not only its own.
    for (let round = 0; round < 10; round++) {
      await Promise.all([publish(a, round * 20, 10), publish(b, round * 20 + 10, 10)]);
    }
    await eventually(async () => (await succeeded()) === 200, { timeoutMs: 60_000, what: '200 deliveries succeeded' });
    const counts = receivedCounts();
    expect(counts.size).toBe(200);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    const split = await attemptsBy();
    console.log(`two dispatchers, normal operation: 200 events, ${receiver.received.length} requests received, split ${JSON.stringify(split)}`);
    expect(split['dsp-a']).toBeGreaterThan(0);
    expect(split['dsp-b']).toBeGreaterThan(0);
    expect(split['dsp-a']! + split['dsp-b']!).toBe(200);
  });

  it('takes over the deliveries a crashed instance had leased once the leases expire, and delivers every event at least once', async () => {
    const before = receiver.received.length;
    const attemptsBefore = await attemptsBy();
    // Attempts in flight at both: the receiver holds them, so their leases stay taken.
    receiver.hold();
    await Promise.all([publish(a, 1_000, 30), publish(b, 1_030, 30)]);
    await eventually(async () => (await leasedBy('dsp-a')) + (await leasedBy('dsp-b')) === 60 && receiver.held() === 60, {
      what: 'all 60 deliveries in flight',
    });
    // The crash, of whichever holds more: its pool is gone, nothing releases its leases, its
    // loop can record nothing more.
    const [victim, survivor] = (await leasedBy('dsp-a')) >= (await leasedBy('dsp-b')) ? [a, b] : [b, a];
    await closeControlPlane(victim.plane);
    const orphaned = await leasedBy(victim.id);
    receiver.letGo();
    // The survivor records its own attempts; the victim's deliveries stay leased until the leases expire.
    await eventually(async () => (await leasedBy(survivor.id)) === 0 && (await succeeded()) === 260 - orphaned, {
      timeoutMs: 60_000,
      what: 'the survivor done with its own deliveries',
    });
    expect(await leasedBy(victim.id)).toBe(orphaned);
    clock.skip(LEASE_MS + 1_000);
    await eventually(async () => (await succeeded()) === 260, { timeoutMs: 60_000, what: 'all 260 deliveries succeeded' });
    expect(await leasedBy(victim.id)).toBe(0);

    const counts = receivedCounts();
    expect(counts.size).toBe(260);
    for (let i = 1_000; i < 1_060; i++) expect(counts.get(`evt_${i}`)).toBeGreaterThanOrEqual(1);
    // The victim's attempts reached the receiver but were never recorded: those, and only those, twice.
    const twice = [...counts.values()].filter((n) => n === 2).length;
    const after = await attemptsBy();
    const phase = Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (attemptsBefore[k] ?? 0)]));
    console.log(
      `two dispatchers, crash of ${victim.id}: 60 events, ${receiver.received.length - before} requests received, ${orphaned} deliveries leased by ${victim.id} at the crash ` +
        `and taken over by ${survivor.id}, ${twice} events received twice, recorded successes ${JSON.stringify(phase)}`,
    );
    expect(orphaned).toBeGreaterThan(0);
    expect(twice).toBe(orphaned);
    expect([...counts.values()].every((n) => n <= 2)).toBe(true);
    // Every delivery is on record once: the survivor's, for the ones it took over.
    expect(phase[survivor.id]).toBe(60 - (phase[victim.id] ?? 0));
    expect(phase[victim.id] ?? 0).toBe(0);
  });
});
