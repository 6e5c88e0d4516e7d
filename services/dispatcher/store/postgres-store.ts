import type pg from 'pg';
import type { PostgresPlane } from '../../shared/database/control-plane.js';
import { inTransaction, withDatabaseErrors } from '../../shared/database/postgres.js';
import type { PublishResult } from '../events.js';
import { createId } from '../ids.js';
import { DISPATCH_PG_MIGRATIONS, DISPATCH_STORE } from './postgres-migrations.js';
import type {
  AttemptResult,
  BacklogRow,
  ClaimedDelivery,
  DeliveryFilter,
  DispatchStore,
  OutboxRepository,
  RecordResultsOutcome,
  SubscriptionRecord,
  SubscriptionRepository,
} from './types.js';
import { num, str, toAttempt, toClaimed, toDelivery, type Row } from './rows.js';

type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>;

/**
 * The key space of the per-subscription claim locks (`pg_advisory_xact_lock(CLAIM_LOCK, hash)`),
 * apart from the migrations' lock. It spells `fhkc`.
 */
export const CLAIM_LOCK = 0x66686b63;

function toSubscription(r: Row): SubscriptionRecord {
  return {
    id: String(r.id),
    url: String(r.url),
    description: String(r.description),
    events: r.events as string[],
    farms: r.farms as string[],
    fields: r.fields as string[],
    enabled: r.enabled === true,
    disabledReason: str(r.disabled_reason),
    disabledAt: num(r.disabled_at),
    rateLimitPerSecond: num(r.rate_limit_per_s),
    format: String(r.format) as SubscriptionRecord['format'],
    locale: String(r.locale),
    timeZone: String(r.time_zone),
    settings: r.settings as Record<string, unknown>,
    failingSince: num(r.failing_since),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

export interface PostgresDispatchStore extends DispatchStore {
  /** Apply the dispatcher's migrations; call once before anything else. */
  open(): Promise<void>;
}

/**
 * The dispatcher's state in PostgreSQL, shared by every instance that runs a dispatcher:
 * subscriptions, the outbox and the delivery log. `instanceId` names this instance's leases.
 *
 * What holds across instances (docs/ARCHITECTURE.md, "Several dispatchers"):
 * - publish is idempotent by event id (a unique key, `ON CONFLICT DO NOTHING`);
 * - each attempt is made by one instance: `claim` leases due deliveries with
 *   `FOR UPDATE SKIP LOCKED`, so two instances never take the same one, and a lease that expired
 *   (its instance crashed) is taken over by whoever claims next;
 * - per-subscription concurrency is shared: claims of one subscription are serialised by a
 *   transaction-scoped advisory lock, and an instance takes its free slots less the attempts
 *   other instances have in flight (their live leases);
 * - `recordResults` applies a result only while this instance still holds the lease, so a late
 *   result after a takeover is not recorded twice;
 * - `releaseLeases` drops only this instance's leases.
 *
 * The pool is the control plane's: `close()` leaves it open for the other stores.
 */
export function createPostgresStore(plane: PostgresPlane, instanceId: string): PostgresDispatchStore {
  const { pool } = plane.postgres;
  // A failure of the database reaches the routes, the bus and the delivery loop as a catalog error.
  return withDatabaseErrors(
    {
      open: () => plane.migrate(DISPATCH_STORE, DISPATCH_PG_MIGRATIONS),
      subscriptions: createPostgresSubscriptions(pool),
      outbox: createPostgresOutbox(pool, instanceId, plane.logger),
      close: async () => {},
    },
    plane.postgres.shownUrl,
    "the dispatcher's subscriptions and outbox",
  );
}

export function createPostgresSubscriptions(pool: pg.Pool): SubscriptionRepository {
  const getOne = async (db: Queryable, id: string, lock = '') => {
    const { rows } = await db.query<Row>(`SELECT * FROM dispatch_subscriptions WHERE id = $1 ${lock}`, [id]);
    return rows[0];
  };
  return {
    async create(sub, secret, nowMs) {
      return inTransaction(pool, async (db) => {
        const { rows } = await db.query<Row>(
          `INSERT INTO dispatch_subscriptions (id, url, description, events, farms, fields, enabled, rate_limit_per_s, format, locale, time_zone, settings, created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) RETURNING *`,
          [
            sub.id,
            sub.url,
            sub.description,
            sub.events,
            sub.farms,
            sub.fields,
            sub.enabled,
            sub.rateLimitPerSecond,
            sub.format ?? 'standard-webhooks',
            sub.locale ?? 'en',
            sub.timeZone ?? 'UTC',
            JSON.stringify(sub.settings ?? {}),
            nowMs,
          ],
        );
        await db.query('INSERT INTO dispatch_secrets (subscription_id, secret, created_at) VALUES ($1, $2, $3)', [sub.id, secret, nowMs]);
        return toSubscription(rows[0]!);
      });
    },
    async get(id) {
      const r = await getOne(pool, id);
      return r ? toSubscription(r) : null;
    },
    async list() {
      const { rows } = await pool.query<Row>('SELECT * FROM dispatch_subscriptions ORDER BY created_at, id');
      return rows.map(toSubscription);
    },
    async update(id, patch, nowMs) {
      return inTransaction(pool, async (db) => {
        const current = await getOne(db, id, 'FOR UPDATE');
        if (!current) return null;
        const sets: string[] = [];
        const params: unknown[] = [];
        const put = (col: string, value: unknown) => {
          params.push(value);
          sets.push(`${col} = $${params.length}`);
        };
        put('updated_at', nowMs);
        if (patch.url !== undefined) put('url', patch.url);
        if (patch.description !== undefined) put('description', patch.description);
        if (patch.events !== undefined) put('events', patch.events);
        if (patch.farms !== undefined) put('farms', patch.farms);
        if (patch.fields !== undefined) put('fields', patch.fields);
        if (patch.rateLimitPerSecond !== undefined) put('rate_limit_per_s', patch.rateLimitPerSecond);
        if (patch.format !== undefined) put('format', patch.format);
        if (patch.locale !== undefined) put('locale', patch.locale);
        if (patch.timeZone !== undefined) put('time_zone', patch.timeZone);
        if (patch.settings !== undefined) put('settings', JSON.stringify(patch.settings));
        if (patch.enabled === true && current.enabled !== true) {
          put('enabled', true);
          put('disabled_reason', null);
          put('disabled_at', null);
          put('failing_since', null);
          // The backlog kept while disabled goes out now, not at whatever retry time it had.
          await db.query("UPDATE dispatch_deliveries SET next_attempt_at = $1 WHERE subscription_id = $2 AND status = 'pending' AND next_attempt_at > $1", [
            nowMs,
            id,
          ]);
        } else if (patch.enabled === false && current.enabled === true) {
          put('enabled', false);
          put('disabled_reason', 'manual');
          put('disabled_at', nowMs);
        }
        params.push(id);
        const { rows } = await db.query<Row>(`UPDATE dispatch_subscriptions SET ${sets.join(', ')} WHERE id = $${params.length} RETURNING *`, params);
        return toSubscription(rows[0]!);
      });
    },
    async remove(id) {
      // Deliveries and their attempts, and the secrets, go with it (ON DELETE CASCADE).
      const { rowCount } = await pool.query('DELETE FROM dispatch_subscriptions WHERE id = $1', [id]);
      return (rowCount ?? 0) > 0;
    },
    async activeSecrets(id, nowMs) {
      const { rows } = await pool.query<{ secret: string }>(
        'SELECT secret FROM dispatch_secrets WHERE subscription_id = $1 AND (expires_at IS NULL OR expires_at > $2) ORDER BY created_at DESC, seq DESC',
        [id, nowMs],
      );
      return rows.map((r) => r.secret);
    },
    async rotateSecret(id, secret, nowMs, overlapMs) {
      return inTransaction(pool, async (db) => {
        if (!(await getOne(db, id, 'FOR UPDATE'))) return false;
        await db.query('DELETE FROM dispatch_secrets WHERE subscription_id = $1 AND expires_at IS NOT NULL AND expires_at <= $2', [id, nowMs]);
        await db.query('UPDATE dispatch_secrets SET expires_at = LEAST(COALESCE(expires_at, $2), $2) WHERE subscription_id = $1', [id, nowMs + overlapMs]);
        await db.query('INSERT INTO dispatch_secrets (subscription_id, secret, created_at) VALUES ($1, $2, $3)', [id, secret, nowMs]);
        return true;
      });
    },
    async disable(id, reason, nowMs) {
      const { rowCount } = await pool.query(
        'UPDATE dispatch_subscriptions SET enabled = FALSE, disabled_reason = $1, disabled_at = $2, updated_at = $2 WHERE id = $3 AND enabled',
        [reason, nowMs, id],
      );
      return (rowCount ?? 0) > 0;
    },
  };
}

/** What a batch of results does to one subscription, applied once per subscription at the end. */
interface SubscriptionEffect {
  /** The batch's last attempt for it succeeded. */
  healthy: boolean;
  /** Start of the first failure in the batch (the streak starts there unless it already had). */
  firstFailureAt: number | null;
  disableReason: string | null;
}

export function createPostgresOutbox(pool: pg.Pool, instanceId: string, logger: PostgresPlane['logger']): OutboxRepository {
  const record = (results: AttemptResult[], now: number) =>
    inTransaction(pool, async (db): Promise<RecordResultsOutcome> => {
      const out: RecordResultsOutcome = { failingSince: new Map(), disabled: [], superseded: 0 };
      // The batch in a few statements, not a few per result: the records of attempts finishing
      // together cost one round trip each way, whatever their number. A delivery listed twice
      // counts once, its first result.
      const seen = new Set<string>();
      const unique = results.filter((r) => !seen.has(r.deliveryId) && seen.add(r.deliveryId));
      const ids = unique.map((r) => r.deliveryId);
      // Only while this instance still holds the lease: after it expired and another instance
      // took the delivery over, that instance's attempt is the one on record (and gone with its
      // subscription, nothing is left to record). Locked in id order by every instance, so two
      // batches recording at once wait for each other instead of deadlocking.
      const { rows: held } = await db.query<{ id: string }>(
        'SELECT id FROM dispatch_deliveries WHERE id = ANY($1::text[]) AND leased_by = $2 ORDER BY id FOR UPDATE',
        [ids, instanceId],
      );
      const holds = new Set(held.map((r) => r.id));
      const applied = unique.filter((r) => holds.has(r.deliveryId));
      const column = <T>(pick: (r: AttemptResult) => T) => applied.map(pick);
      if (applied.length > 0) {
        await db.query(
          `UPDATE dispatch_deliveries d SET status = r.status, attempts = r.attempt, first_attempt_at = COALESCE(d.first_attempt_at, r.first_at),
             last_attempt_at = r.started_at, last_status_code = r.status_code, last_error = r.error, next_attempt_at = r.next_at,
             lease_until = 0, leased_by = NULL, finished_at = CASE WHEN r.status = 'pending' THEN NULL ELSE $9::bigint END
           FROM unnest($1::text[], $2::text[], $3::int[], $4::bigint[], $5::bigint[], $6::int[], $7::text[], $8::bigint[])
             AS r(id, status, attempt, first_at, started_at, status_code, error, next_at)
           WHERE d.id = r.id`,
          [
            column((r) => r.deliveryId),
            column((r) => r.status),
            column((r) => r.attempt.attempt),
            column((r) => r.firstAttemptAt),
            column((r) => r.attempt.startedAt),
            column((r) => r.attempt.statusCode),
            column((r) => r.attempt.error),
            column((r) => r.nextAttemptAt),
            now,
          ],
        );
        await db.query(
          `INSERT INTO dispatch_attempts (delivery_id, attempt, started_at, status_code, latency_ms, response_snippet, error, outcome, instance)
            SELECT *, $9 FROM unnest($1::text[], $2::int[], $3::bigint[], $4::int[], $5::float8[], $6::text[], $7::text[], $8::text[])`,
          [
            column((r) => r.deliveryId),
            column((r) => r.attempt.attempt),
            column((r) => r.attempt.startedAt),
            column((r) => r.attempt.statusCode),
            column((r) => r.attempt.latencyMs),
            column((r) => r.attempt.responseSnippet),
            column((r) => r.attempt.error),
            column((r) => r.attempt.outcome),
            instanceId,
          ],
        );
        const retried = applied.filter((r) => r.status === 'pending').map((r) => r.deliveryId);
        if (retried.length > 0) {
          // A retry that a newer event with the same collapse key has overtaken is not worth sending.
          const overtaken = await db.query(
            `UPDATE dispatch_deliveries d SET status = 'superseded', finished_at = $2, next_attempt_at = NULL
              WHERE d.id = ANY($1::text[]) AND d.status = 'pending' AND d.collapse_key IS NOT NULL AND EXISTS (
                SELECT 1 FROM dispatch_deliveries n WHERE n.subscription_id = d.subscription_id AND n.collapse_key = d.collapse_key
                AND n.seq > d.seq AND n.status IN ('pending', 'succeeded'))`,
            [retried, now],
          );
          out.superseded += overtaken.rowCount ?? 0;
        }
      }
      // What the batch does to each subscription, from its results in the order they came.
      const effects = new Map<string, SubscriptionEffect>();
      for (const r of applied) {
        const e = effects.get(r.subscriptionId) ?? { healthy: false, firstFailureAt: null, disableReason: null };
        if (r.attempt.outcome === 'success') e.healthy = true;
        else {
          e.healthy = false;
          e.firstFailureAt ??= r.attempt.startedAt;
        }
        if (r.disableReason) e.disableReason = r.disableReason;
        effects.set(r.subscriptionId, e);
      }
      const notHeld = results.length - applied.length;
      const healthy = [...effects].filter(([, e]) => e.healthy).map(([id]) => id);
      if (healthy.length > 0) {
        await db.query('UPDATE dispatch_subscriptions SET failing_since = NULL WHERE id = ANY($1::text[]) AND failing_since IS NOT NULL', [healthy]);
      }
      for (const id of [...effects.keys()].sort()) {
        const e = effects.get(id)!;
        if (e.firstFailureAt !== null && !e.healthy) {
          const { rows } = await db.query<{ failing_since: string }>(
            'UPDATE dispatch_subscriptions SET failing_since = COALESCE(failing_since, $1) WHERE id = $2 RETURNING failing_since',
            [e.firstFailureAt, id],
          );
          if (rows[0]) out.failingSince.set(id, Number(rows[0].failing_since));
        }
        if (e.disableReason) {
          const disabled = await db.query(
            'UPDATE dispatch_subscriptions SET enabled = FALSE, disabled_reason = $1, disabled_at = $2, updated_at = $2 WHERE id = $3 AND enabled',
            [e.disableReason, now, id],
          );
          if (disabled.rowCount) out.disabled.push(id);
        }
      }
      if (notHeld > 0) logger.info({ instance: instanceId, results: notHeld }, 'attempt results not recorded: their leases were taken over by another instance or their subscriptions deleted');
      return out;
    });

  return {
    async append(items, nowMs) {
      if (items.length === 0) return [];
      return inTransaction(pool, async (db) => {
        // Set-based, a few statements per batch whatever its size. Another instance may publish
        // the same event at the same moment: the unique id decides, and so does the first
        // occurrence of an id listed twice in one batch.
        const events = items.map((i) => i.event);
        const { rows: inserted } = await db.query<{ id: string; seq: string }>(
          `INSERT INTO dispatch_events (id, type, farm, field, collapse_key, valid_until, correlation_id, created_at, body)
            SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::bigint[], $9::text[])
            ON CONFLICT (id) DO NOTHING RETURNING id, seq`,
          [
            events.map((e) => e.id),
            events.map((e) => e.type),
            events.map((e) => e.farm),
            events.map((e) => e.field),
            events.map((e) => e.collapseKey),
            events.map((e) => e.validUntil),
            events.map((e) => e.correlationId),
            events.map((e) => e.createdAt),
            events.map((e) => e.body),
          ],
        );
        const seqOf = new Map(inserted.map((r) => [r.id, r.seq]));
        const results: PublishResult[] = [];
        const deliveries: { id: string; seq: string; event: (typeof events)[number]; sub: string; supersededBy: string | null }[] = [];
        /** The newest delivery of the batch per subscription and collapse key, and the first. */
        const newest = new Map<string, (typeof deliveries)[number]>();
        const first = new Map<string, string>();
        for (const { event, subscriptionIds } of items) {
          const seq = seqOf.get(event.id);
          if (seq === undefined) {
            results.push({ id: event.id, deliveries: 0, duplicate: true });
            continue;
          }
          seqOf.delete(event.id);
          for (const sub of subscriptionIds) {
            const d = { id: createId('dlv', nowMs), seq, event, sub, supersededBy: null };
            if (event.collapseKey !== null) {
              const key = JSON.stringify([sub, event.collapseKey]);
              // An older delivery of this batch with the same key is superseded by this one, as if
              // the events had been published one after the other.
              const older = newest.get(key);
              if (older) older.supersededBy = d.id;
              newest.set(key, d);
              if (!first.has(key)) first.set(key, d.id);
            }
            deliveries.push(d);
          }
          results.push({ id: event.id, deliveries: subscriptionIds.length, duplicate: false });
        }
        if (first.size > 0) {
          // Pending, unleased deliveries with a key this batch brings again: superseded by its first.
          const keys = [...first].map(([key, by]) => [...(JSON.parse(key) as [string, string]), by] as const);
          await db.query(
            `UPDATE dispatch_deliveries d SET status = 'superseded', superseded_by = c.by, finished_at = $4, next_attempt_at = NULL
              FROM unnest($1::text[], $2::text[], $3::text[]) AS c(sub, key, by)
              WHERE d.subscription_id = c.sub AND d.collapse_key = c.key AND d.status = 'pending' AND d.lease_until <= $4`,
            [keys.map((k) => k[0]), keys.map((k) => k[1]), keys.map((k) => k[2]), nowMs],
          );
        }
        if (deliveries.length > 0) {
          const { rows: made } = await db.query<{ event_id: string }>(
            `INSERT INTO dispatch_deliveries (id, event_seq, event_id, event_type, subscription_id, collapse_key, valid_until, superseded_by,
                status, next_attempt_at, finished_at, created_at)
              SELECT n.id, n.seq, n.event_id, n.event_type, n.sub, n.collapse_key, n.valid_until, n.by,
                CASE WHEN n.by IS NULL THEN 'pending' ELSE 'superseded' END,
                CASE WHEN n.by IS NULL THEN $9::bigint END,
                CASE WHEN n.by IS NULL THEN NULL ELSE $9::bigint END,
                $9::bigint
              FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::text[])
                WITH ORDINALITY AS n(id, seq, event_id, event_type, sub, collapse_key, valid_until, by, ord)
              -- A subscription deleted (by any instance) since the publisher listed them gets no delivery:
              -- its foreign key would refuse the whole event, for every other subscriber too. Locked so
              -- that a delete in flight is waited for and then leaves it out; in the batch's order.
              JOIN dispatch_subscriptions s ON s.id = n.sub
              ORDER BY n.ord
              FOR KEY SHARE OF s
              RETURNING event_id`,
            [
              deliveries.map((d) => d.id),
              deliveries.map((d) => d.seq),
              deliveries.map((d) => d.event.id),
              deliveries.map((d) => d.event.type),
              deliveries.map((d) => d.sub),
              deliveries.map((d) => d.event.collapseKey),
              deliveries.map((d) => d.event.validUntil),
              deliveries.map((d) => d.supersededBy),
              nowMs,
            ],
          );
          // What was made, a subscription deleted meanwhile left out.
          const perEvent = new Map<string, number>();
          for (const r of made) perEvent.set(r.event_id, (perEvent.get(r.event_id) ?? 0) + 1);
          for (const r of results) if (!r.duplicate) r.deliveries = perEvent.get(r.id) ?? 0;
        }
        return results;
      });
    },
    async expireDue(nowMs) {
      const { rowCount } = await pool.query(
        `UPDATE dispatch_deliveries SET status = 'expired', finished_at = $1, next_attempt_at = NULL
          WHERE status = 'pending' AND valid_until IS NOT NULL AND valid_until <= $1 AND lease_until <= $1`,
        [nowMs],
      );
      return rowCount ?? 0;
    },
    async claim(wants, nowMs, leaseUntil, maxTotal) {
      if (wants.length === 0 || maxTotal <= 0) return [];
      return inTransaction(pool, async (db) => {
        // One claimer per subscription at a time, across instances, so the count of the others'
        // leases below is current; locked in hash order by everyone (no deadlock), released at commit.
        await db.query(
          'SELECT pg_advisory_xact_lock($1, h) FROM (SELECT DISTINCT hashtext(id) AS h FROM unnest($2::text[]) AS id ORDER BY h) AS keys',
          [CLAIM_LOCK, wants.map((w) => w.subscriptionId)],
        );
        // The endpoint's concurrency is shared: attempts other instances have in flight use it up.
        const { rows: busy } = await db.query<{ sub: string; n: string }>(
          `SELECT subscription_id AS sub, COUNT(*) AS n FROM dispatch_deliveries
            WHERE subscription_id = ANY($1::text[]) AND status = 'pending' AND lease_until > $2 AND leased_by <> $3 GROUP BY subscription_id`,
          [wants.map((w) => w.subscriptionId), nowMs, instanceId],
        );
        const elsewhere = new Map(busy.map((r) => [r.sub, Number(r.n)]));
        const claimed: ClaimedDelivery[] = [];
        for (const { subscriptionId, limit } of wants) {
          const take = Math.min(limit - (elsewhere.get(subscriptionId) ?? 0), maxTotal - claimed.length);
          if (take <= 0) continue;
          const { rows } = await db.query<Row>(
            `WITH picked AS (
               SELECT seq FROM dispatch_deliveries
                WHERE subscription_id = $1 AND status = 'pending' AND next_attempt_at <= $2 AND lease_until <= $2
                ORDER BY next_attempt_at, seq LIMIT $3
                FOR UPDATE SKIP LOCKED)
             UPDATE dispatch_deliveries d SET lease_until = $4, leased_by = $5
               FROM picked, dispatch_events e
              WHERE d.seq = picked.seq AND e.seq = d.event_seq
             RETURNING d.seq, d.id, d.subscription_id, d.event_id, d.event_type, e.body, d.attempts, d.first_attempt_at, d.valid_until,
               e.correlation_id, d.next_attempt_at`,
            [subscriptionId, nowMs, take, leaseUntil, instanceId],
          );
          rows.sort((a, b) => Number(a.next_attempt_at) - Number(b.next_attempt_at) || Number(a.seq) - Number(b.seq));
          for (const r of rows) claimed.push(toClaimed(r));
        }
        return claimed;
      });
    },
    async nextDueAt(subscriptionIds, nowMs) {
      if (subscriptionIds.length === 0) return null;
      const { rows } = await pool.query<{ at: string | null }>(
        "SELECT MIN(next_attempt_at) AS at FROM dispatch_deliveries WHERE subscription_id = ANY($1::text[]) AND status = 'pending' AND lease_until <= $2",
        [subscriptionIds, nowMs],
      );
      return num(rows[0]?.at);
    },
    async recordResults(results, nowMs) {
      if (results.length === 0) return { failingSince: new Map(), disabled: [], superseded: 0 };
      return record(results, nowMs);
    },
    async releaseLeases() {
      // This instance's only: another live instance's leases are attempts it is making now.
      const { rowCount } = await pool.query('UPDATE dispatch_deliveries SET lease_until = 0, leased_by = NULL WHERE leased_by = $1', [instanceId]);
      return rowCount ?? 0;
    },
    async getDelivery(id) {
      const { rows } = await pool.query<Row>('SELECT * FROM dispatch_deliveries WHERE id = $1', [id]);
      return rows[0] ? toDelivery(rows[0]) : null;
    },
    async listAttempts(deliveryId) {
      const { rows } = await pool.query<Row>('SELECT * FROM dispatch_attempts WHERE delivery_id = $1 ORDER BY attempt, id', [deliveryId]);
      return rows.map(toAttempt);
    },
    async listDeliveries(filter: DeliveryFilter) {
      const where: string[] = [];
      const params: unknown[] = [];
      const add = (sql: string, value: unknown) => {
        params.push(value);
        where.push(sql.replace('?', `$${params.length}`));
      };
      if (filter.subscriptionId) add('subscription_id = ?', filter.subscriptionId);
      if (filter.eventId) add('event_id = ?', filter.eventId);
      if (filter.status) add('status = ?', filter.status);
      if (filter.since !== undefined) add('created_at >= ?', filter.since);
      if (filter.until !== undefined) add('created_at < ?', filter.until);
      if (filter.after) add('id > ?', filter.after);
      params.push(filter.limit);
      const sql = `SELECT * FROM dispatch_deliveries ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT $${params.length}`;
      const { rows } = await pool.query<Row>(sql, params);
      return rows.map(toDelivery);
    },
    async retry(id, nowMs) {
      const { rows } = await pool.query<Row>(
        `UPDATE dispatch_deliveries SET status = 'pending', attempts = 0, first_attempt_at = NULL, next_attempt_at = $2, finished_at = NULL
          WHERE id = $1 RETURNING *`,
        [id, nowMs],
      );
      return rows[0] ? toDelivery(rows[0]) : null;
    },
    async recover(subscriptionId, sinceMs, nowMs) {
      const { rowCount } = await pool.query(
        `UPDATE dispatch_deliveries SET status = 'pending', attempts = 0, first_attempt_at = NULL, next_attempt_at = $3, finished_at = NULL
          WHERE subscription_id = $1 AND status IN ('failed', 'aborted') AND created_at >= $2 AND (valid_until IS NULL OR valid_until > $3)`,
        [subscriptionId, sinceMs, nowMs],
      );
      return rowCount ?? 0;
    },
    async backlog(): Promise<BacklogRow[]> {
      const { rows } = await pool.query<{ sub: string; n: string; oldest: string | null }>(
        "SELECT subscription_id AS sub, COUNT(*) AS n, MIN(created_at) AS oldest FROM dispatch_deliveries WHERE status = 'pending' GROUP BY subscription_id",
      );
      return rows.map((r) => ({ subscriptionId: r.sub, pending: Number(r.n), oldestCreatedAt: num(r.oldest) }));
    },
    async lastAttempted() {
      const { rows } = await pool.query<Row>(
        `SELECT DISTINCT ON (subscription_id) * FROM dispatch_deliveries WHERE last_attempt_at IS NOT NULL
          ORDER BY subscription_id, last_attempt_at DESC, seq DESC`,
      );
      return rows.map(toDelivery);
    },
    async prune(beforeMs) {
      return inTransaction(pool, async (db) => {
        // Attempts go with their deliveries (ON DELETE CASCADE).
        const { rowCount } = await db.query('DELETE FROM dispatch_deliveries WHERE finished_at IS NOT NULL AND finished_at < $1', [beforeMs]);
        await db.query(
          'DELETE FROM dispatch_events e WHERE e.created_at < $1 AND NOT EXISTS (SELECT 1 FROM dispatch_deliveries d WHERE d.event_seq = e.seq)',
          [beforeMs],
        );
        return rowCount ?? 0;
      });
    },
  };
}
