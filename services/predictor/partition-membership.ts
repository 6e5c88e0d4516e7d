/**
 * Automatic partitions: this predictor's membership among the live predictors and its leases on
 * the partitions it holds (PostgreSQL, postgres-partition-leases.ts).
 *
 * Every `heartbeatMs` a member renews its membership and its leases until `now + leaseMs`, reads
 * the live members, computes its share (partition-assignment.ts: every member computes the same
 * table), gives up what is no longer its share (after its work on them has stopped, so the next
 * holder starts from the last state it saved) and takes what is now its share once free: a
 * partition still leased by another member is taken only after that member released it (it
 * does on its next heartbeat, or when it stops) or its lease expired (it crashed). So two members
 * never hold one partition at once, and a holder treats a lease as its own only until
 * `marginMs` before it ends, so a holder whose renewals fail stops before anyone else may start.
 *
 * Hand-over times with the defaults (lease 20 s, heartbeat 5 s): a member that stops releases at
 * once and the others take its partitions at their next heartbeat (≤ 5 s), the shares even out
 * over one more; a crashed member's partitions are taken ≤ lease + heartbeat after its last
 * renewal (≤ 25 s); a member that joins gets its share within two heartbeats (the holders give
 * up, then it takes).
 */
import type { Clock } from '../shared/clock.js';
import { Errors } from '../shared/error-catalog.js';
import type { Logger } from '../shared/logger.js';
import { AUTO_PARTITIONS, assignPartitions } from './partition-assignment.js';
import type { PartitionLeases } from './postgres-partition-leases.js';

export interface MembershipOptions {
  /** A membership or partition lease lasts this long after its last renewal, ms. Default 20 000. */
  leaseMs: number;
  /** Renew, read the members and rebalance this often, ms. Default 5 000. */
  heartbeatMs: number;
  /**
   * A holder stops evaluating a partition this long before its lease ends (clock skew between
   * instances, a publish in flight), ms. Default 5 000; `membershipOptions` makes it a quarter of
   * a shorter lease.
   */
  marginMs: number;
  /** Partitions shared out. Default {@link AUTO_PARTITIONS}. */
  partitions: number;
}

export const DEFAULT_MEMBERSHIP_OPTIONS: Readonly<MembershipOptions> = Object.freeze({
  leaseMs: 20_000,
  heartbeatMs: 5_000,
  marginMs: 5_000,
  partitions: AUTO_PARTITIONS,
});

/**
 * Options from the settings: `heartbeatMs` at most a third of `leaseMs` (a holder survives a
 * missed heartbeat), the margin 5 s or a quarter of a shorter lease.
 */
export function membershipOptions(leaseMs: number, heartbeatMs: number): MembershipOptions {
  if (heartbeatMs * 3 > leaseMs) {
    throw Errors.predictConfig(`FIELDHOOK_PREDICT_HEARTBEAT_MS (${heartbeatMs}) must be at most a third of FIELDHOOK_PREDICT_LEASE_MS (${leaseMs}): a predictor must outlive a missed heartbeat`);
  }
  return { ...DEFAULT_MEMBERSHIP_OPTIONS, leaseMs, heartbeatMs, marginMs: Math.min(DEFAULT_MEMBERSHIP_OPTIONS.marginMs, Math.floor(leaseMs / 4)) };
}

/** What the predictor does when partitions move: `gain` awaited in the heartbeat, `lose` beside the heartbeats (in order). */
export interface MembershipHooks {
  /** Partitions now leased to this member: load their fields (state, windows) before evaluating them. */
  gain(partitions: number[]): Promise<void>;
  /** Partitions this member gives up or lost: stop evaluating them; resolves when no round touches them any more. */
  lose(partitions: number[]): Promise<void>;
}

export interface PartitionMembership {
  /** Join: the first heartbeat (takes whatever is free of its share), then one every `heartbeatMs`. */
  start(): Promise<void>;
  /** Leave: stop evaluating, release every lease and the membership at once. */
  stop(): Promise<void>;
  /** One heartbeat now (the timer calls it; tests on a manual clock too). */
  tick(): Promise<void>;
  /** True while this member's lease on `partition` is its own with `marginMs` to spare. */
  holds(partition: number): boolean;
  /** True when `partition` is this member's share: held, or to be taken once free. */
  wants(partition: number): boolean;
  /** The epoch of this member's lease on `partition` as taken; undefined when it never took it. */
  epochOf(partition: number): number | undefined;
  /** The partitions leased to this member (sorted). */
  held(): number[];
  /** True while the last heartbeat that succeeded is recent enough for leases to hold (readiness). */
  healthy(): boolean;
  /** Why the last heartbeat failed (e.g. a predictor claims partitions in this database); undefined once one succeeds. */
  problem(): string | undefined;
  readonly partitions: number;
}

export function createPartitionMembership(
  deps: { leases: PartitionLeases; instance: string; clock: Clock; logger: Logger; hooks: MembershipHooks },
  options: Partial<MembershipOptions> = {},
): PartitionMembership {
  const opts = { ...DEFAULT_MEMBERSHIP_OPTIONS, ...options };
  const { leases, instance, clock, hooks } = deps;
  const log = deps.logger.child({ component: 'partition-membership' });
  /** Partition → lease end (epoch ms) as last written by this member. */
  const held = new Map<number, number>();
  /** Partition → epoch of the lease as taken (the fence of this member's writes). */
  const epochs = new Map<number, number>();
  let wanted = new Set<number>();
  let chain: Promise<void> = Promise.resolve();
  let timer: unknown;
  let running = false;
  let lastBeat = Number.NEGATIVE_INFINITY;
  let lastError: string | undefined;
  /** Partitions whose work is being stopped (and their leases released), and that work in order. */
  const handing = new Set<number>();
  let handedOver: Promise<void> = Promise.resolve();

  async function heartbeat(): Promise<void> {
    const now = clock.now();
    const until = now + opts.leaseMs;
    await leases.heartbeat(instance, now, until);
    const members = await leases.members(now);
    if (!members.includes(instance)) members.push(instance);
    const share = new Set(assignPartitions(members, opts.partitions).get(instance));
    wanted = share;

    // Kept leases are renewed first: stopping the work on partitions given up waits for the
    // round in flight (and the history loads queued before it), which must not make them expire.
    const giveUp = [...held.keys()].filter((p) => !share.has(p));
    for (const p of giveUp) held.delete(p);
    if (giveUp.length > 0) {
      // Stop the work first, then release: the next holder reads the state this member saved last.
      handOver(giveUp, true);
      log.info({ partitions: giveUp, members: members.length }, 'giving predictor partitions up to rebalance');
    }
    const keep = [...held.keys()];
    const renewed = new Set(await leases.renew(instance, keep, now, until));
    const lost = keep.filter((p) => !renewed.has(p));
    for (const p of renewed) held.set(p, until);
    for (const p of lost) held.delete(p);
    if (lost.length > 0) {
      log.error({ partitions: lost }, 'predictor partition leases expired before they were renewed (heartbeats late or the database unreachable); their fields are dropped and taken again when free');
      handOver(lost, false);
    }
    const leased = await leases.acquire(instance, [...share].filter((p) => !held.has(p) && !handing.has(p)), now, until);
    const taken = leased.map((l) => l.partition);
    if (taken.length > 0) {
      for (const l of leased) {
        held.set(l.partition, until);
        epochs.set(l.partition, l.epoch);
      }
      log.info({ partitions: taken, members: members.length }, 'took predictor partitions');
      await hooks.gain(taken);
    }
    lastBeat = now;
    lastError = undefined;
  }

  /**
   * Stop the work on `partitions` (and release them) beside the heartbeats, in order; they are
   * not taken again until that is done.
   */
  function handOver(partitions: number[], release: boolean): void {
    for (const p of partitions) handing.add(p);
    handedOver = handedOver
      .then(() => hooks.lose(partitions))
      .then(() => (release ? leases.release(instance, partitions) : undefined))
      .catch((err: unknown) => log.error({ err, partitions }, 'predictor partitions not handed over cleanly; the others take them when the leases expire'))
      .finally(() => {
        for (const p of partitions) handing.delete(p);
      });
  }

  /** Resolves after the heartbeat and the hand-overs it started. */
  function tick(): Promise<void> {
    const run = chain.then(heartbeat).catch((err: unknown) => {
      lastError = (err as Error).message;
      throw err;
    });
    chain = run.catch((err: unknown) => log.error({ err }, 'predictor heartbeat failed; leases run out unless the next one succeeds'));
    return run.then(() => handedOver);
  }

  function schedule(): void {
    timer = clock.setTimeout(() => {
      if (!running) return;
      void tick().catch(() => {});
      schedule();
    }, opts.heartbeatMs);
  }

  return {
    partitions: opts.partitions,
    async start() {
      await leases.open();
      // Leases still under this id are from before a restart (a crash): no work here goes with
      // them, so they are let go at once instead of keeping their fields from anyone until they expire.
      await leases.leave(instance);
      running = true;
      await tick();
      schedule();
    },
    async stop() {
      running = false;
      clock.clearTimeout(timer);
      await chain;
      await handedOver;
      const all = [...held.keys()];
      held.clear();
      wanted = new Set();
      if (all.length > 0) await hooks.lose(all);
      await leases.leave(instance);
    },
    tick,
    holds: (p) => (held.get(p) ?? 0) - opts.marginMs > clock.now(),
    wants: (p) => wanted.has(p) || held.has(p),
    epochOf: (p) => epochs.get(p),
    held: () => [...held.keys()].sort((a, b) => a - b),
    healthy: () => clock.now() < lastBeat + opts.leaseMs - opts.marginMs,
    problem: () => lastError,
  };
}
