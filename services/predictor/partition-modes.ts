/**
 * The two ways predictors split fields on one PostgreSQL database exclude each other:
 *
 * - claims (services/host/partition-claim.ts): a partition set by hand, or every field for an
 *   instance whose ingestor runs the embedded broker; a session advisory lock per partition;
 * - automatic partitions (partition-membership.ts): leases among the live members
 *   (`predictor_members`).
 *
 * Neither sees the other's share, so both would advise the same fields. The rule: a claim is
 * refused while automatic members are live, and an automatic member renews its membership (and
 * so takes partitions) only while no claim is held. Both look under one transaction-scoped
 * advisory lock, after making themselves visible to the other side (the claim's lock is taken
 * before, the membership row is written under it), so of two starting at once the second sees
 * the first.
 */
import type pg from 'pg';

/** Advisory lock key of a claim ('fhpp'), the partition claimed being the second int4 of the pair. */
export const CLAIM_KEY = 0x66687070;
/** Taken for the length of a transaction by both sides while they look at the other ('fhpm'). */
const MODES_KEY = 0x6668706d;

/** Inside a transaction on `c`: wait until no other predictor is looking at the other side. */
export async function lockPartitionModes(c: pg.ClientBase): Promise<void> {
  await c.query('SELECT pg_advisory_xact_lock($1, 0)', [MODES_KEY]);
}

/** Sessions holding a claim in this database, as `<application name> (partition n)`. */
export async function claimHolders(c: pg.ClientBase): Promise<string[]> {
  const { rows } = await c.query<{ name: string; partition: number }>(
    `SELECT DISTINCT COALESCE(NULLIF(a.application_name, ''), 'pid ' || a.pid) AS name, l.objid::int AS partition
     FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
     WHERE l.locktype = 'advisory' AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
       AND l.classid = $1::int::oid AND l.objsubid = 2 AND l.granted AND l.pid <> pg_backend_pid()
     ORDER BY name, partition`,
    [CLAIM_KEY],
  );
  return rows.map((r) => `${r.name} (partition ${r.partition})`);
}

/** Automatic members live at `now` (epoch ms), by instance id; none before the predictor store was ever created here. */
export async function liveAutoMembers(c: pg.ClientBase, now: number): Promise<string[]> {
  const table = await c.query<{ present: boolean }>("SELECT to_regclass('predictor_members') IS NOT NULL AS present");
  if (!table.rows[0]!.present) return [];
  const { rows } = await c.query<{ instance: string }>('SELECT instance FROM predictor_members WHERE expires_at > $1 ORDER BY instance', [now]);
  return rows.map((r) => r.instance);
}
