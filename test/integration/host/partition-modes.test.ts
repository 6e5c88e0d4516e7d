/**
 * Claims (partitions set by hand, or every field for an instance on its embedded broker) and
 * automatic partitions exclude each other on one real PostgreSQL database: whichever came first
 * keeps the fields, the other is refused with FH_ERR_PREDICT_PARTITION_TAKEN naming it, and of two
 * starting at once exactly one runs.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPartitionClaim, type Partitioning } from '../../../services/host/partition-claim.js';
import { AUTO_PARTITIONS } from '../../../services/predictor/partition-assignment.js';
import { createPartitionMembership, type PartitionMembership } from '../../../services/predictor/partition-membership.js';
import { createPostgresPartitionLeases } from '../../../services/predictor/postgres-partition-leases.js';
import type { Component } from '../../../services/shared/component.js';
import { closeControlPlane, createControlPlane, type PostgresPlane } from '../../../services/shared/database/control-plane.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { createManualClock, type ManualClock } from '../../helpers/manual-clock.js';
import { createTestDatabase } from '../../helpers/postgres-database.js';

/** The members' own timers are set a day out: the tests beat for them. */
const TIMER_MS = 86_400_000;

interface Member {
  membership: PartitionMembership;
  clock: ManualClock;
}

describe('claims and automatic predictor partitions on one database', () => {
  let url: string;
  let planes: PostgresPlane[];
  let stops: (() => Promise<void>)[];

  const plane = (instance: string) => {
    const p = createControlPlane({ DATA_DIR: '/nonexistent', DATABASE_URL: url, INSTANCE_ID: instance }, silentLogger()) as PostgresPlane;
    planes.push(p);
    return p;
  };
  const claim = (instance: string, partitioning: Partitioning): Component => {
    const c = createPartitionClaim(plane(instance), partitioning, silentLogger());
    stops.push(() => c.stop());
    return c;
  };
  /** A member on a manual clock starting at `now` (real time unless told: a claimer judges liveness by its own clock). */
  const member = (instance: string, now = Date.now()): Member => {
    const clock = createManualClock(now);
    const membership = createPartitionMembership(
      { leases: createPostgresPartitionLeases(plane(instance)), instance, clock, logger: silentLogger(), hooks: { gain: async () => {}, lose: async () => {} } },
      { heartbeatMs: TIMER_MS },
    );
    stops.push(() => membership.stop());
    return { membership, clock };
  };
  const refusal = async (start: Promise<unknown>) => {
    const err = await start.then(() => undefined, (e: unknown) => e as { code: string; message: string });
    expect(err, 'refused').toBeDefined();
    expect(err!.code).toBe('FH_ERR_PREDICT_PARTITION_TAKEN');
    return err!.message;
  };
  const ready = async (c: Component) => (await c.readiness![0]!.check()).ok;

  beforeEach(async () => {
    url = await createTestDatabase('partition_modes');
    planes = [];
    stops = [];
  });

  afterEach(async () => {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    for (const p of planes) await closeControlPlane(p);
  });

  it('each alone: a claim is held, automatic members take every partition', async () => {
    const whole = claim('whole', { partitions: 1, partition: 0 });
    await whole.start({} as never);
    expect(await ready(whole)).toBe(true);
    await whole.stop();
    const a = member('auto-a');
    const b = member('auto-b');
    await a.membership.start();
    await b.membership.start();
    // a gives b's share up, then b takes it.
    await a.membership.tick();
    await b.membership.tick();
    expect(a.membership.held().length).toBeGreaterThan(0);
    expect(a.membership.held().length + b.membership.held().length).toBe(AUTO_PARTITIONS);
    expect(a.membership.problem()).toBeUndefined();
  });

  it('refuses a claim while automatic members are live, naming them and what to change; the members keep their partitions', async () => {
    const a = member('auto-a');
    await a.membership.start();
    expect(a.membership.held()).toHaveLength(AUTO_PARTITIONS);

    const whole = await refusal(claim('embedded', { partitions: 1, partition: 0 }).start({} as never));
    expect(whole).toContain('FIELDHOOK_PREDICT_PARTITIONS=auto share the fields in this database (live: auto-a)');
    expect(whole).toContain('would claim every field');
    expect(whole).toContain('FIELDHOOK_MQTT_URL');
    const manual = await refusal(claim('manual', { partitions: 2, partition: 1 }).start({} as never));
    expect(manual).toContain('would claim partition 1 of 2');
    expect(manual).toContain('FIELDHOOK_PREDICT_PARTITIONS=auto');

    // The refused claims hold nothing: the member's heartbeats go on.
    await a.clock.advance(5_000);
    await a.membership.tick();
    expect(a.membership.held()).toHaveLength(AUTO_PARTITIONS);

    // Once the member left, a claim starts.
    await a.membership.stop();
    const later = claim('embedded', { partitions: 1, partition: 0 });
    await later.start({} as never);
    expect(await ready(later)).toBe(true);
  });

  it('refuses an automatic member while a claim is held, naming the claimer; it takes no partition', async () => {
    const manual = claim('manual', { partitions: 2, partition: 0 });
    await manual.start({} as never);
    const a = member('auto-a');
    const message = await refusal(a.membership.start());
    expect(message).toContain('claimed in this database by fieldhook/manual (partition 0)');
    expect(message).toContain('FIELDHOOK_PREDICT_PARTITIONS=auto');
    expect(a.membership.held()).toEqual([]);
    const observer = createPostgresPartitionLeases(plane('observer'));
    expect(await observer.members(a.clock.now())).toEqual([]);
    expect(await observer.holders(a.clock.now())).toEqual([]);
    expect(await ready(manual)).toBe(true);
  });

  it('a member whose membership lapsed while a claim was taken stops taking partitions and says why, until the claim goes', async () => {
    // Its clock lags a minute: its membership has already expired for a claimer.
    const a = member('auto-a', Date.now() - 60_000);
    await a.membership.start();
    expect(a.membership.held()).toHaveLength(AUTO_PARTITIONS);
    const whole = claim('embedded', { partitions: 1, partition: 0 });
    await whole.start({} as never);

    await a.clock.advance(5_000);
    await expect(a.membership.tick()).rejects.toMatchObject({ code: 'FH_ERR_PREDICT_PARTITION_TAKEN' });
    expect(a.membership.problem()).toContain('fieldhook/embedded (partition 0)');
    // Without renewals its leases run out: it stops deciding, unhealthy (readiness fails).
    await a.clock.advance(20_000);
    expect(a.membership.healthy()).toBe(false);
    expect(a.membership.holds(0)).toBe(false);

    // Its expired leases are dropped at the next heartbeat and taken again at the one after.
    await whole.stop();
    await a.membership.tick();
    await a.membership.tick();
    expect(a.membership.problem()).toBeUndefined();
    expect(a.membership.healthy()).toBe(true);
    expect(a.membership.held()).toHaveLength(AUTO_PARTITIONS);
  });

  it('of a claim and a member starting at once, exactly one runs', async () => {
    for (let round = 0; round < 5; round++) {
      const c = claim(`claim-${round}`, { partitions: 1, partition: 0 });
      const m = member(`auto-${round}`);
      const [claimed, joined] = await Promise.allSettled([c.start({} as never), m.membership.start()]);
      expect([claimed.status, joined.status].filter((s) => s === 'fulfilled'), `round ${round}`).toHaveLength(1);
      for (const r of [claimed, joined]) if (r.status === 'rejected') expect((r.reason as { code: string }).code).toBe('FH_ERR_PREDICT_PARTITION_TAKEN');
      await c.stop();
      await m.membership.stop();
    }
  });
});
