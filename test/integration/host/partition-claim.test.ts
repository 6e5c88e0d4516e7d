/**
 * Predictors' partition claims on a real PostgreSQL: one predictor per partition, every one
 * counting partitions alike, a claim released when its predictor stops, and taken again after its
 * connection was cut.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPartitionClaim, type Partitioning } from '../../../services/host/partition-claim.js';
import type { Component } from '../../../services/shared/component.js';
import { closeControlPlane, createControlPlane, type PostgresPlane } from '../../../services/shared/database/control-plane.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { eventually } from '../../helpers/eventually.js';
import { createTestDatabase } from '../../helpers/postgres-database.js';

describe('predictor partition claims', () => {
  let url: string;
  const planes: PostgresPlane[] = [];
  const claims: Component[] = [];

  const claim = (instance: string, partitioning: Partitioning) => {
    const plane = createControlPlane({ DATA_DIR: '/nonexistent', DATABASE_URL: url, INSTANCE_ID: instance }, silentLogger()) as PostgresPlane;
    planes.push(plane);
    const c = createPartitionClaim(plane, partitioning, silentLogger());
    claims.push(c);
    return c;
  };
  const refusal = async (c: Component) => {
    const err = await c.start({} as never).then(() => undefined, (e: unknown) => e as { code: string; message: string });
    expect(err, 'refused').toBeDefined();
    return err!;
  };
  const ready = async (c: Component) => (await c.readiness![0]!.check()).ok;

  beforeAll(async () => {
    url = await createTestDatabase('partition_claims');
  });

  afterAll(async () => {
    for (const c of claims) await c.stop();
    for (const p of planes) await closeControlPlane(p);
  });

  it('refuses a second predictor on a partition, naming the holder; other partitions start', async () => {
    const a = claim('pred-a', { partitions: 2, partition: 0 });
    await a.start({} as never);
    expect(await ready(a)).toBe(true);
    const err = await refusal(claim('pred-b', { partitions: 2, partition: 0 }));
    expect(err.code).toBe('FH_ERR_PREDICT_PARTITION_TAKEN');
    expect(err.message).toContain('Partition 0 of 2 is run by fieldhook/pred-a');
    const c = claim('pred-c', { partitions: 2, partition: 1 });
    await c.start({} as never);
    expect(await ready(c)).toBe(true);
  });

  it('refuses a predictor counting partitions differently', async () => {
    const err = await refusal(claim('pred-d', { partitions: 3, partition: 2 }));
    expect(err.code).toBe('FH_ERR_PREDICT_PARTITION_TAKEN');
    expect(err.message).toMatch(/Predictors run with FIELDHOOK_PREDICT_PARTITIONS=2 \(fieldhook\/pred-[ac]/);
    expect(err.message).toContain('this one with 3');
  });

  it('lets another predictor take a partition once its holder stopped', async () => {
    const [a] = claims;
    await a!.stop();
    const e = claim('pred-e', { partitions: 2, partition: 0 });
    await e.start({} as never);
    expect(await ready(e)).toBe(true);
  });

  it('claims again after its connection was cut, and is not ready meanwhile', async () => {
    const f = claims.at(-1)!;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const { rowCount } = await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'fieldhook/pred-e'");
      expect(rowCount).toBeGreaterThan(0);
      await eventually(async () => !(await ready(f)), { what: 'not ready without its claim' });
      await eventually(() => ready(f), { timeoutMs: 30_000, what: 'the claim taken again' });
      const { rows } = await admin.query<{ n: string }>(
        "SELECT COUNT(*) AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND a.application_name = 'fieldhook/pred-e'",
      );
      expect(Number(rows[0]!.n)).toBe(2);
    } finally {
      await admin.end();
    }
  }, 45_000);
});
