import type pg from 'pg';
import type { Component } from '../shared/component.js';
import type { PostgresPlane } from '../shared/database/control-plane.js';
import { databaseUnavailable } from '../shared/database/postgres.js';
import { Errors } from '../shared/error-catalog.js';
import type { Logger } from '../shared/logger.js';
import { CLAIM_KEY, liveAutoMembers, lockPartitionModes } from '../predictor/partition-modes.js';

/** Advisory lock keys (int4 pairs): the first names what is locked, the second which. */
const PARTITION_KEY = CLAIM_KEY; // (key, partition), exclusive
const PARTITIONS_KEY = 0x6668706e; // 'fhpn': (key, partitions), shared by predictors that agree
/** After its connection dropped, how often the claim is tried again. */
const RECLAIM_INTERVAL_MS = 5_000;

export interface Partitioning {
  partitions: number;
  partition: number;
}

/**
 * A predictor's partition, claimed in PostgreSQL for as long as it runs, so that two predictors
 * never evaluate one partition: each would advise the same fields (decision state is per
 * instance). Until partitions are assigned among live instances, this is what turns a second
 * replica of one partition (`docker compose up --scale predictor=2`) into a refused start
 * (FH_ERR_PREDICT_PARTITION_TAKEN, naming the holder) instead of advice sent twice.
 *
 * Session-level advisory locks on a connection of its own: exclusive on the partition, shared on
 * the partition count (a predictor counting differently would split the fields differently, and
 * is refused too). A claim and automatic partitions exclude each other on one database
 * (partition-modes.ts): a claim is refused while predictors with `auto` are live. The locks end
 * with the session, so a crashed predictor's claim goes with its connection. If the connection drops while running, readiness fails and the claim is tried
 * again every few seconds; the predictor keeps running meanwhile (refusing to advise would be
 * worse than a rare duplicate), and the log says so.
 */
export function createPartitionClaim(plane: PostgresPlane, partitioning: Partitioning, logger: Logger): Component {
  const log = logger.child({ component: 'partition-claim', partition: partitioning.partition, partitions: partitioning.partitions });
  let client: pg.Client | undefined;
  let held = false;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;

  /** Claim on a new connection: true when held; throws FH_ERR_PREDICT_PARTITION_TAKEN when another holds it. */
  async function claim(): Promise<void> {
    const c = plane.postgres.client();
    c.on('error', (err) => lost(c, err));
    try {
      await c.connect();
      // The whole claim under the lock automatic members look under (partition-modes.ts): of a
      // claim and a member starting at once, the second sees the first.
      await c.query('BEGIN');
      await lockPartitionModes(c);
      const mine = await c.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [PARTITION_KEY, partitioning.partition]);
      if (!mine.rows[0]!.ok) {
        const holder = await holders(c, PARTITION_KEY, '= $2', partitioning.partition);
        throw Errors.predictPartitionTaken(
          `Partition ${partitioning.partition} of ${partitioning.partitions} is run by ${holder}: ` +
            (partitioning.partitions === 1
              ? 'it evaluates every field. To share the fields among predictors, give every instance the same external broker (FIELDHOOK_MQTT_URL) with FIELDHOOK_PREDICT_PARTITIONS=auto; or run this one with FIELDHOOK_PREDICT_ENABLED=false'
              : 'give each predictor its own FIELDHOOK_PREDICT_PARTITION (0 … FIELDHOOK_PREDICT_PARTITIONS − 1)'),
        );
      }
      await c.query('SELECT pg_advisory_lock_shared($1, $2)', [PARTITIONS_KEY, partitioning.partitions]);
      const other = await c.query<{ n: number }>(
        // Advisory locks are per database; pg_locks shows every database of the server.
        "SELECT objid::int AS n FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND classid = $1::int::oid AND objsubid = 2 AND objid <> $2::int::oid AND granted LIMIT 1",
        [PARTITIONS_KEY, partitioning.partitions],
      );
      if (other.rows[0]) throw Errors.predictPartitionTaken(`Predictors run with FIELDHOOK_PREDICT_PARTITIONS=${other.rows[0].n} (${await holders(c, PARTITIONS_KEY, '= $2', other.rows[0].n)}), this one with ${partitioning.partitions}: every predictor needs the same count`);
      const members = await liveAutoMembers(c, Date.now());
      if (members.length > 0) {
        throw Errors.predictPartitionTaken(
          `Predictors with FIELDHOOK_PREDICT_PARTITIONS=auto share the fields in this database (live: ${members.join(', ')}): ` +
            `this one would claim ${partitioning.partitions === 1 ? 'every field' : `partition ${partitioning.partition} of ${partitioning.partitions}`} and advise their fields too. ` +
            (partitioning.partitions === 1
              ? 'Give this instance their broker (FIELDHOOK_MQTT_URL) to join them, or run it with FIELDHOOK_PREDICT_ENABLED=false'
              : 'Run it with FIELDHOOK_PREDICT_PARTITIONS=auto and their broker (FIELDHOOK_MQTT_URL) to join them, or stop them first') +
            ' (a member stays live FIELDHOOK_PREDICT_LEASE_MS after its last heartbeat)',
        );
      }
      // Session-level advisory locks outlive the transaction; the transaction's lock goes.
      await c.query('COMMIT');
    } catch (err) {
      await c.end().catch(() => {});
      throw databaseUnavailable(err, plane.postgres.shownUrl, 'claim the predictor partition');
    }
    client = c;
    held = true;
  }

  function lost(c: pg.Client, err: Error): void {
    if (c !== client || stopped) return;
    held = false;
    client = undefined;
    void c.end().catch(() => {});
    log.error({ err: err.message }, 'lost the claim on this predictor partition (its PostgreSQL connection failed); trying again');
    schedule();
  }

  function schedule(): void {
    retry = setTimeout(() => {
      retry = undefined;
      if (stopped) return;
      claim().then(
        () => log.info('claimed this predictor partition again'),
        (err: unknown) => {
          log.error({ err: (err as Error).message }, 'cannot claim this predictor partition again; advice may be sent twice while another predictor runs it');
          schedule();
        },
      );
    }, RECLAIM_INTERVAL_MS);
    retry.unref();
  }

  return {
    name: 'partition',
    readiness: [{ name: 'partition', check: async () => ({ ok: held, detail: { partition: partitioning.partition, partitions: partitioning.partitions } }) }],
    start: claim,
    async stop() {
      stopped = true;
      if (retry) clearTimeout(retry);
      held = false;
      // Ending the session releases its advisory locks.
      await client?.end().catch(() => {});
      client = undefined;
    },
  };
}

/** Who holds an advisory lock, as `pg_stat_activity` names them (`fieldhook/<instance>`). */
async function holders(c: pg.Client, key: number, objid: string, value: number): Promise<string> {
  const { rows } = await c.query<{ name: string }>(
    `SELECT DISTINCT COALESCE(NULLIF(a.application_name, ''), 'pid ' || a.pid) AS name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
     WHERE l.locktype = 'advisory' AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND l.classid = $1::int::oid AND l.objsubid = 2 AND l.objid ${objid}::int::oid AND l.granted AND l.pid <> pg_backend_pid()`,
    [key, value],
  );
  return rows.length > 0 ? rows.map((r) => r.name).join(', ') : 'another session';
}
