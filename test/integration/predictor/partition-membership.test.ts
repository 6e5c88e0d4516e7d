/**
 * Automatic predictor partitions on a real PostgreSQL, every member on a manual clock of its
 * own: members join and leave, every partition is held by exactly one live member in balanced
 * shares, a stopped member's partitions are taken at once, a crashed one's when its leases
 * expire, and a partition changes hands only after its holder let go (no overlap).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPartitionMembership, DEFAULT_MEMBERSHIP_OPTIONS, type PartitionMembership } from '../../../services/predictor/partition-membership.js';
import { AUTO_PARTITIONS } from '../../../services/predictor/partition-assignment.js';
import { createPostgresPartitionLeases, type PartitionLeases } from '../../../services/predictor/postgres-partition-leases.js';
import { closeControlPlane, createControlPlane, type PostgresPlane } from '../../../services/shared/database/control-plane.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { eventually } from '../../helpers/eventually.js';
import { createManualClock, type ManualClock } from '../../helpers/manual-clock.js';
import { createTestDatabase } from '../../helpers/postgres-database.js';

const T0 = 1_800_000_000_000;
const { leaseMs, heartbeatMs, marginMs } = DEFAULT_MEMBERSHIP_OPTIONS;
/** The members' own timers are set a day out: the tests beat for them, at the times they choose. */
const TIMER_MS = 86_400_000;

interface Member {
  id: string;
  clock: ManualClock;
  membership: PartitionMembership;
  /** The partitions this member's predictor evaluates (gained and not lost since). */
  evaluating: Set<number>;
  /** Set by a test to hold the next `lose` hook open. */
  blockLose?: Promise<void>;
  plane: PostgresPlane;
}

describe('automatic predictor partitions', () => {
  let url: string;
  let members: Member[];
  let observer: PartitionLeases;

  const join = async (id: string, now = T0): Promise<Member> => {
    const plane = createControlPlane({ DATA_DIR: '/nonexistent', DATABASE_URL: url, INSTANCE_ID: id }, silentLogger()) as PostgresPlane;
    const clock = createManualClock(now);
    const member: Member = { id, clock, plane, evaluating: new Set(), membership: undefined as never };
    member.membership = createPartitionMembership({
      leases: createPostgresPartitionLeases(plane),
      instance: id,
      clock,
      logger: silentLogger(),
      hooks: {
        gain: async (ps) => {
          // The partition must be free of every other member's work before it is gained here.
          for (const other of members) if (other !== member) for (const p of ps) expect(other.evaluating.has(p), `${other.id} still evaluates ${p}`).toBe(false);
          for (const p of ps) member.evaluating.add(p);
        },
        lose: async (ps) => {
          await member.blockLose;
          for (const p of ps) member.evaluating.delete(p);
        },
      },
    }, { heartbeatMs: TIMER_MS });
    members.push(member);
    await member.membership.start();
    return member;
  };

  /** Every member moves to `at` and beats once, in list order. */
  const beatAll = async (at: number, who = members) => {
    for (const m of who) {
      await m.clock.advance(at - m.clock.now());
      await m.membership.tick();
    }
  };

  /** Every partition held by exactly one of `live`, no partition evaluated twice, shares balanced. */
  const expectBalanced = async (live: Member[], at: number) => {
    const holders = await observer.holders(at);
    expect(holders.map((h) => h.partition)).toEqual(Array.from({ length: AUTO_PARTITIONS }, (_, p) => p));
    for (const m of live) expect(m.membership.held()).toEqual(holders.filter((h) => h.holder === m.id).map((h) => h.partition));
    for (const m of live) expect([...m.evaluating].sort((a, b) => a - b)).toEqual(m.membership.held());
    const sizes = live.map((m) => m.membership.held().length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(AUTO_PARTITIONS);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
  };

  beforeEach(async () => {
    url = await createTestDatabase('predictor_membership');
    members = [];
    const plane = createControlPlane({ DATA_DIR: '/nonexistent', DATABASE_URL: url, INSTANCE_ID: 'observer' }, silentLogger()) as PostgresPlane;
    observer = createPostgresPartitionLeases(plane);
    await observer.open();
    (observer as unknown as { plane: PostgresPlane }).plane = plane;
  });

  afterEach(async () => {
    for (const m of members) {
      await m.membership.stop().catch(() => {});
      await closeControlPlane(m.plane);
    }
    await closeControlPlane((observer as unknown as { plane: PostgresPlane }).plane);
  });

  it('shares the partitions out as members join: one holds all, two halves, three thirds, never one partition twice', async () => {
    const a = await join('pred-a');
    await expectBalanced([a], T0);
    expect(a.membership.held()).toHaveLength(AUTO_PARTITIONS);

    // b joins: everything is still a's, so b takes nothing yet.
    const b = await join('pred-b');
    expect(b.membership.held()).toEqual([]);
    // a's next heartbeat gives b's share up; b's takes it.
    await beatAll(T0 + heartbeatMs);
    await expectBalanced([a, b], T0 + heartbeatMs);

    const c = await join('pred-c', T0 + heartbeatMs);
    await beatAll(T0 + 2 * heartbeatMs);
    await expectBalanced([a, b, c], T0 + 2 * heartbeatMs);
    expect(c.membership.held().length).toBeGreaterThanOrEqual(21);
  });

  it('hands a stopped member’s partitions over at the others’ next heartbeat, and rebalances over one more', async () => {
    const a = await join('pred-a');
    const b = await join('pred-b');
    const c = await join('pred-c');
    await beatAll(T0 + heartbeatMs);
    await expectBalanced([a, b, c], T0 + heartbeatMs);

    const cShare = c.membership.held();
    await c.membership.stop();
    expect(c.evaluating.size).toBe(0);
    expect((await observer.holders(T0 + heartbeatMs)).filter((h) => h.holder === 'pred-c')).toEqual([]);
    // c's released partitions are free: whoever's share they are in takes them at its next heartbeat.
    await beatAll(T0 + 2 * heartbeatMs, [a, b]);
    const held = new Set((await observer.holders(T0 + 2 * heartbeatMs)).map((h) => h.partition));
    expect(cShare.filter((p) => !held.has(p))).toEqual([]);
    // A partition of a's new share that b held changes hands over one more (b gives it up, a takes it).
    await beatAll(T0 + 3 * heartbeatMs, [a, b]);
    await expectBalanced([a, b], T0 + 3 * heartbeatMs);
  });

  it('takes a crashed member’s partitions once its leases expire, not before', async () => {
    const a = await join('pred-a');
    const b = await join('pred-b');
    await beatAll(T0 + heartbeatMs);
    await expectBalanced([a, b], T0 + heartbeatMs);
    const bShare = b.membership.held();
    // b crashes: no more heartbeats, nothing released. Its last renewal was at T0 + heartbeat.
    await closeControlPlane(b.plane);
    members = [a];
    const lastRenewal = T0 + heartbeatMs;

    await beatAll(lastRenewal + leaseMs - 1, [a]);
    expect(a.membership.held().filter((p) => bShare.includes(p))).toEqual([]);
    await beatAll(lastRenewal + leaseMs, [a]);
    expect(a.membership.held()).toHaveLength(AUTO_PARTITIONS);
    await expectBalanced([a], lastRenewal + leaseMs);
  });

  it('lets go at once of the leases it held before a restart under the same id', async () => {
    const a = await join('pred-a');
    const b = await join('pred-b');
    // a crashes holding every partition, and comes back with the same id a heartbeat later.
    await closeControlPlane(a.plane);
    members = [b];
    const again = await join('pred-a', T0 + heartbeatMs);
    // b takes its share at its next heartbeat, without waiting for a's old leases to expire.
    await beatAll(T0 + heartbeatMs, [b]);
    await expectBalanced([again, b], T0 + heartbeatMs);
  });

  it('gives a partition to the newcomer only after its holder stopped working on it', async () => {
    const a = await join('pred-a');
    const b = await join('pred-b');
    let unblock!: () => void;
    a.blockLose = new Promise((resolve) => (unblock = resolve));
    // a's heartbeat gives b's share up but is held inside its `lose`: the lease is not released yet.
    await a.clock.advance(heartbeatMs);
    const giving = a.membership.tick();
    await b.clock.advance(heartbeatMs);
    await b.membership.tick();
    expect(b.membership.held()).toEqual([]);
    unblock();
    await giving;
    await b.membership.tick();
    await expectBalanced([a, b], T0 + heartbeatMs);
  });

  it('renews the leases it keeps while its work on the partitions it gives up is still ending', async () => {
    const a = await join('pred-a');
    const b = await join('pred-b');
    let unblock!: () => void;
    a.blockLose = new Promise((resolve) => (unblock = resolve));
    const renewedUntil = async (until: number) =>
      (await observer.holders(T0)).filter((h) => h.holder === 'pred-a' && h.expiresAt === until).length === AUTO_PARTITIONS / 2;
    // a gives b's share up, held inside its `lose`; the half it keeps is renewed all the same, heartbeat after heartbeat.
    await a.clock.advance(heartbeatMs);
    const giving = a.membership.tick();
    await eventually(() => renewedUntil(T0 + heartbeatMs + leaseMs), { what: "a's kept leases renewed at its first heartbeat" });
    await a.clock.advance(heartbeatMs);
    const next = a.membership.tick();
    await eventually(() => renewedUntil(T0 + 2 * heartbeatMs + leaseMs), { what: "a's kept leases renewed at its second heartbeat" });
    expect(a.membership.holds(a.membership.held()[0]!)).toBe(true);
    unblock();
    await giving;
    await next;
    await b.clock.advance(2 * heartbeatMs);
    await b.membership.tick();
    await expectBalanced([a, b], T0 + 2 * heartbeatMs);
  });

  it('stops treating a lease as its own a margin before it ends when renewals fail', async () => {
    const a = await join('pred-a');
    expect(a.membership.holds(0)).toBe(true);
    expect(a.membership.healthy()).toBe(true);
    // No heartbeat: the lease written at T0 ends at T0 + lease.
    await a.clock.advance(leaseMs - marginMs - 1);
    expect(a.membership.holds(0)).toBe(true);
    await a.clock.advance(1);
    expect(a.membership.holds(0)).toBe(false);
    // Not ready either; a heartbeat that succeeds renews both.
    expect(a.membership.healthy()).toBe(false);
    await a.membership.tick();
    expect(a.membership.holds(0)).toBe(true);
    expect(a.membership.healthy()).toBe(true);
  });
});
