import { openSqlite, type SqliteDatabase } from '../../shared/sqlite.js';
import { createId } from '../ids.js';
import type { PublishResult } from '../events.js';
import { DISPATCH_MIGRATIONS } from './sqlite-migrations.js';
import type {
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

function toSubscription(r: Row): SubscriptionRecord {
  return {
    id: String(r.id),
    url: String(r.url),
    description: String(r.description),
    events: JSON.parse(String(r.events)) as string[],
    farms: JSON.parse(String(r.farms)) as string[],
    fields: JSON.parse(String(r.fields)) as string[],
    enabled: r.enabled === 1,
    disabledReason: str(r.disabled_reason),
    disabledAt: num(r.disabled_at),
    rateLimitPerSecond: num(r.rate_limit_per_s),
    format: String(r.format) as SubscriptionRecord['format'],
    locale: String(r.locale),
    timeZone: String(r.time_zone),
    settings: JSON.parse(String(r.settings)) as Record<string, unknown>,
    failingSince: num(r.failing_since),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

export interface SqliteStoreOptions {
  /** `FULL` (default) fsyncs every commit: an accepted event survives power loss. */
  synchronous?: 'FULL' | 'NORMAL';
}

/**
 * SQLite backend of the dispatcher. better-sqlite3 is synchronous; the repositories still return
 * promises so that callers are written for a networked database.
 */
export function createSqliteStore(path: string, options: SqliteStoreOptions = {}): DispatchStore {
  const db = openSqlite(path, DISPATCH_MIGRATIONS, { synchronous: options.synchronous ?? 'FULL' });
  // Leases and attempt records need no fsync of their own: losing them to a power cut only
  // re-sends (at-least-once), and in WAL mode the next FULL commit (an accepted event) syncs
  // every earlier frame anyway. A second connection with NORMAL keeps them off the disk's
  // sync rate; a process crash loses nothing written through either.
  const fast = path === ':memory:' ? db : openSqlite(path, DISPATCH_MIGRATIONS, { synchronous: 'NORMAL' });
  return {
    subscriptions: createSqliteSubscriptions(db),
    outbox: createSqliteOutbox(db, fast),
    close: async () => {
      if (fast !== db) fast.close();
      db.close();
    },
  };
}

export function createSqliteSubscriptions(db: SqliteDatabase): SubscriptionRepository {
  const s = {
    insert: db.prepare(`INSERT INTO subscriptions (id, url, description, events, farms, fields, enabled, rate_limit_per_s, format, locale, time_zone, settings, created_at, updated_at)
      VALUES (@id, @url, @description, @events, @farms, @fields, @enabled, @rate, @format, @locale, @timeZone, @settings, @now, @now)`),
    insertSecret: db.prepare('INSERT INTO subscription_secrets (subscription_id, secret, created_at) VALUES (?, ?, ?)'),
    get: db.prepare('SELECT * FROM subscriptions WHERE id = ?'),
    list: db.prepare('SELECT * FROM subscriptions ORDER BY created_at, id'),
    remove: db.prepare('DELETE FROM subscriptions WHERE id = ?'),
    secrets: db.prepare(
      'SELECT secret FROM subscription_secrets WHERE subscription_id = ? AND (expires_at IS NULL OR expires_at > ?) ORDER BY created_at DESC, rowid DESC',
    ),
    expireSecrets: db.prepare(
      'UPDATE subscription_secrets SET expires_at = MIN(COALESCE(expires_at, @until), @until) WHERE subscription_id = @id',
    ),
    dropOldSecrets: db.prepare('DELETE FROM subscription_secrets WHERE subscription_id = ? AND expires_at IS NOT NULL AND expires_at <= ?'),
    disable: db.prepare(
      'UPDATE subscriptions SET enabled = 0, disabled_reason = ?, disabled_at = ?, updated_at = ? WHERE id = ? AND enabled = 1',
    ),
    reschedule: db.prepare(
      "UPDATE deliveries SET next_attempt_at = ? WHERE subscription_id = ? AND status = 'pending' AND next_attempt_at > ?",
    ),
  };
  const deleteDeliveries = db.prepare(
    'DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE subscription_id = ?)',
  );

  const create = db.transaction((sub: Parameters<SubscriptionRepository['create']>[0], secret: string, now: number) => {
    s.insert.run({
      id: sub.id,
      url: sub.url,
      description: sub.description,
      events: JSON.stringify(sub.events),
      farms: JSON.stringify(sub.farms),
      fields: JSON.stringify(sub.fields),
      enabled: sub.enabled ? 1 : 0,
      rate: sub.rateLimitPerSecond,
      format: sub.format ?? 'standard-webhooks',
      locale: sub.locale ?? 'en',
      timeZone: sub.timeZone ?? 'UTC',
      settings: JSON.stringify(sub.settings ?? {}),
      now,
    });
    s.insertSecret.run(sub.id, secret, now);
  });

  const update = db.transaction((id: string, patch: Parameters<SubscriptionRepository['update']>[1], now: number) => {
    const current = s.get.get(id) as Row | undefined;
    if (!current) return null;
    const sets: string[] = ['updated_at = @now'];
    const params: Row = { id, now };
    const put = (col: string, value: unknown) => {
      sets.push(`${col} = @${col}`);
      params[col] = value;
    };
    if (patch.url !== undefined) put('url', patch.url);
    if (patch.description !== undefined) put('description', patch.description);
    if (patch.events !== undefined) put('events', JSON.stringify(patch.events));
    if (patch.farms !== undefined) put('farms', JSON.stringify(patch.farms));
    if (patch.fields !== undefined) put('fields', JSON.stringify(patch.fields));
    if (patch.rateLimitPerSecond !== undefined) put('rate_limit_per_s', patch.rateLimitPerSecond);
    if (patch.format !== undefined) put('format', patch.format);
    if (patch.locale !== undefined) put('locale', patch.locale);
    if (patch.timeZone !== undefined) put('time_zone', patch.timeZone);
    if (patch.settings !== undefined) put('settings', JSON.stringify(patch.settings));
    if (patch.enabled === true && current.enabled !== 1) {
      put('enabled', 1);
      put('disabled_reason', null);
      put('disabled_at', null);
      put('failing_since', null);
      // The backlog kept while disabled goes out now, not at whatever retry time it had.
      s.reschedule.run(now, id, now);
    } else if (patch.enabled === false && current.enabled === 1) {
      put('enabled', 0);
      put('disabled_reason', 'manual');
      put('disabled_at', now);
    }
    db.prepare(`UPDATE subscriptions SET ${sets.join(', ')} WHERE id = @id`).run(params);
    return toSubscription(s.get.get(id) as Row);
  });

  const rotate = db.transaction((id: string, secret: string, now: number, overlapMs: number) => {
    if (!s.get.get(id)) return false;
    s.dropOldSecrets.run(id, now);
    s.expireSecrets.run({ id, until: now + overlapMs });
    s.insertSecret.run(id, secret, now);
    return true;
  });

  const remove = db.transaction((id: string) => {
    deleteDeliveries.run(id);
    return s.remove.run(id).changes > 0;
  });

  return {
    async create(sub, secret, nowMs) {
      create(sub, secret, nowMs);
      return toSubscription(s.get.get(sub.id) as Row);
    },
    async get(id) {
      const r = s.get.get(id) as Row | undefined;
      return r ? toSubscription(r) : null;
    },
    async list() {
      return (s.list.all() as Row[]).map(toSubscription);
    },
    async update(id, patch, nowMs) {
      return update(id, patch, nowMs);
    },
    async remove(id) {
      return remove(id);
    },
    async activeSecrets(id, nowMs) {
      return (s.secrets.all(id, nowMs) as Row[]).map((r) => String(r.secret));
    },
    async rotateSecret(id, secret, nowMs, overlapMs) {
      return rotate(id, secret, nowMs, overlapMs);
    },
    async disable(id, reason, nowMs) {
      return s.disable.run(reason, nowMs, nowMs, id).changes > 0;
    },
  };
}

export function createSqliteOutbox(db: SqliteDatabase, fast: SqliteDatabase = db): OutboxRepository {
  const s = {
    insertEvent: db.prepare(`INSERT OR IGNORE INTO events (id, type, farm, field, collapse_key, valid_until, correlation_id, created_at, body)
      VALUES (@id, @type, @farm, @field, @collapseKey, @validUntil, @correlationId, @createdAt, @body)`),
    collapse: db.prepare(`UPDATE deliveries SET status = 'superseded', superseded_by = @by, finished_at = @now, next_attempt_at = NULL
      WHERE subscription_id = @sub AND collapse_key = @key AND status = 'pending' AND lease_until <= @now`),
    insertDelivery: db.prepare(`INSERT INTO deliveries (id, event_seq, event_id, event_type, subscription_id, status, next_attempt_at, collapse_key, valid_until, created_at)
      VALUES (@id, @eventSeq, @eventId, @eventType, @sub, 'pending', @now, @collapseKey, @validUntil, @now)`),
    expire: fast.prepare(`UPDATE deliveries SET status = 'expired', finished_at = @now, next_attempt_at = NULL
      WHERE status = 'pending' AND valid_until IS NOT NULL AND valid_until <= @now AND lease_until <= @now`),
    claimSelect: fast.prepare(`SELECT d.seq, d.id, d.subscription_id, d.event_id, d.event_type, e.body, d.attempts, d.first_attempt_at, d.valid_until, e.correlation_id
      FROM deliveries d JOIN events e ON e.seq = d.event_seq
      WHERE d.subscription_id = @sub AND d.status = 'pending' AND d.next_attempt_at <= @now AND d.lease_until <= @now
      ORDER BY d.next_attempt_at, d.seq LIMIT @limit`),
    lease: fast.prepare('UPDATE deliveries SET lease_until = ? WHERE seq = ?'),
    deliveryExists: fast.prepare('SELECT 1 FROM deliveries WHERE id = ?'),
    nextDue: fast.prepare(`SELECT MIN(next_attempt_at) AS at FROM deliveries WHERE subscription_id = ? AND status = 'pending' AND lease_until <= ?`),
    insertAttempt: fast.prepare(`INSERT INTO attempts (delivery_id, attempt, started_at, status_code, latency_ms, response_snippet, error, outcome)
      VALUES (@deliveryId, @attempt, @startedAt, @statusCode, @latencyMs, @responseSnippet, @error, @outcome)`),
    finishAttempt: fast.prepare(`UPDATE deliveries SET status = @status, attempts = @attempt, first_attempt_at = COALESCE(first_attempt_at, @firstAttemptAt),
      last_attempt_at = @startedAt, last_status_code = @statusCode, last_error = @error, next_attempt_at = @nextAttemptAt, lease_until = 0,
      finished_at = CASE WHEN @status = 'pending' THEN NULL ELSE @now END WHERE id = @deliveryId`),
    // A retry that a newer event with the same collapse key has overtaken is not worth sending.
    supersedeIfOvertaken: fast.prepare(`UPDATE deliveries SET status = 'superseded', finished_at = @now, next_attempt_at = NULL
      WHERE id = @id AND status = 'pending' AND collapse_key IS NOT NULL AND EXISTS (
        SELECT 1 FROM deliveries n WHERE n.subscription_id = deliveries.subscription_id AND n.collapse_key = deliveries.collapse_key
        AND n.seq > deliveries.seq AND n.status IN ('pending', 'succeeded'))`),
    healthy: fast.prepare('UPDATE subscriptions SET failing_since = NULL WHERE id = ? AND failing_since IS NOT NULL'),
    failing: fast.prepare('UPDATE subscriptions SET failing_since = COALESCE(failing_since, ?) WHERE id = ? RETURNING failing_since'),
    disable: fast.prepare(
      'UPDATE subscriptions SET enabled = 0, disabled_reason = ?, disabled_at = ?, updated_at = ? WHERE id = ? AND enabled = 1',
    ),
    releaseLeases: fast.prepare('UPDATE deliveries SET lease_until = 0 WHERE lease_until > 0'),
    getDelivery: db.prepare('SELECT * FROM deliveries WHERE id = ?'),
    attempts: db.prepare('SELECT * FROM attempts WHERE delivery_id = ? ORDER BY attempt, id'),
    retry: db.prepare(`UPDATE deliveries SET status = 'pending', attempts = 0, first_attempt_at = NULL, next_attempt_at = @now, finished_at = NULL
      WHERE id = @id`),
    recover: db.prepare(`UPDATE deliveries SET status = 'pending', attempts = 0, first_attempt_at = NULL, next_attempt_at = @now, finished_at = NULL
      WHERE subscription_id = @sub AND status IN ('failed', 'aborted') AND created_at >= @since
      AND (valid_until IS NULL OR valid_until > @now)`),
    backlog: db.prepare(`SELECT subscription_id AS sub, COUNT(*) AS n, MIN(created_at) AS oldest FROM deliveries
      WHERE status = 'pending' GROUP BY subscription_id`),
    // SQLite takes the bare columns of an aggregate query from the row MAX() picked.
    lastAttempted: db.prepare(`SELECT *, MAX(last_attempt_at) AS newest FROM deliveries
      WHERE last_attempt_at IS NOT NULL GROUP BY subscription_id`),
    pruneAttempts: db.prepare(`DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE finished_at IS NOT NULL AND finished_at < ?)`),
    pruneDeliveries: db.prepare('DELETE FROM deliveries WHERE finished_at IS NOT NULL AND finished_at < ?'),
    pruneEvents: db.prepare('DELETE FROM events WHERE created_at < ? AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = events.seq)'),
  };
  const eventSeq = db.prepare('SELECT seq FROM events WHERE id = ?');
  const subscriptionExists = db.prepare('SELECT 1 FROM subscriptions WHERE id = ?');

  const append = db.transaction((items: Parameters<OutboxRepository['append']>[0], now: number): PublishResult[] => {
    const results: PublishResult[] = [];
    for (const { event, subscriptionIds } of items) {
      const inserted = s.insertEvent.run(event);
      if (inserted.changes === 0) {
        results.push({ id: event.id, deliveries: 0, duplicate: true });
        continue;
      }
      const seq = Number((eventSeq.get(event.id) as Row).seq);
      // A subscription deleted since the publisher listed them gets no delivery (its foreign key
      // would refuse the whole event, for every other subscriber too).
      const live = subscriptionIds.filter((sub) => subscriptionExists.get(sub) !== undefined);
      for (const sub of live) {
        const id = createId('dlv', now);
        if (event.collapseKey !== null) s.collapse.run({ by: id, now, sub, key: event.collapseKey });
        s.insertDelivery.run({
          id,
          eventSeq: seq,
          eventId: event.id,
          eventType: event.type,
          sub,
          now,
          collapseKey: event.collapseKey,
          validUntil: event.validUntil,
        });
      }
      results.push({ id: event.id, deliveries: live.length, duplicate: false });
    }
    return results;
  });

  const claim = fast.transaction((wants: { subscriptionId: string; limit: number }[], now: number, leaseUntil: number, maxTotal: number): ClaimedDelivery[] => {
    const rows: Row[] = [];
    for (const { subscriptionId, limit } of wants) {
      const take = Math.min(limit, maxTotal - rows.length);
      if (take <= 0) continue;
      for (const r of s.claimSelect.all({ sub: subscriptionId, now, limit: take }) as Row[]) {
        s.lease.run(leaseUntil, r.seq);
        rows.push(r);
      }
    }
    return rows.map(toClaimed);
  });

  const record = fast.transaction((results: Parameters<OutboxRepository['recordResults']>[0], now: number): RecordResultsOutcome => {
    const out: RecordResultsOutcome = { failingSince: new Map(), disabled: [], superseded: 0 };
    const healthy = new Set<string>();
    for (const r of results) {
      // Its subscription was deleted while the attempt was in flight: nothing left to record.
      if (!s.deliveryExists.get(r.deliveryId)) continue;
      s.insertAttempt.run({ deliveryId: r.deliveryId, ...r.attempt });
      s.finishAttempt.run({
        deliveryId: r.deliveryId,
        status: r.status,
        attempt: r.attempt.attempt,
        firstAttemptAt: r.firstAttemptAt,
        startedAt: r.attempt.startedAt,
        statusCode: r.attempt.statusCode,
        error: r.attempt.error,
        nextAttemptAt: r.nextAttemptAt,
        now,
      });
      if (r.status === 'pending') out.superseded += s.supersedeIfOvertaken.run({ id: r.deliveryId, now }).changes;
      if (r.attempt.outcome === 'success') {
        healthy.add(r.subscriptionId);
        out.failingSince.delete(r.subscriptionId);
      } else {
        healthy.delete(r.subscriptionId);
        const row = s.failing.get(r.attempt.startedAt, r.subscriptionId) as Row | undefined;
        if (row) out.failingSince.set(r.subscriptionId, Number(row.failing_since));
      }
      if (r.disableReason && s.disable.run(r.disableReason, now, now, r.subscriptionId).changes > 0) out.disabled.push(r.subscriptionId);
    }
    for (const id of healthy) s.healthy.run(id);
    return out;
  });

  const prune = db.transaction((before: number) => {
    s.pruneAttempts.run(before);
    const n = s.pruneDeliveries.run(before).changes;
    s.pruneEvents.run(before);
    return n;
  });

  return {
    async append(items, nowMs) {
      return append(items, nowMs);
    },
    async expireDue(nowMs) {
      return s.expire.run({ now: nowMs }).changes;
    },
    async claim(wants, nowMs, leaseUntil, maxTotal) {
      return claim(wants, nowMs, leaseUntil, maxTotal);
    },
    async nextDueAt(subscriptionIds, nowMs) {
      let min: number | null = null;
      for (const id of subscriptionIds) {
        const at = num((s.nextDue.get(id, nowMs) as Row).at);
        if (at !== null && (min === null || at < min)) min = at;
      }
      return min;
    },
    async recordResults(results, nowMs) {
      return record(results, nowMs);
    },
    async releaseLeases() {
      return s.releaseLeases.run().changes;
    },
    async getDelivery(id) {
      const r = s.getDelivery.get(id) as Row | undefined;
      return r ? toDelivery(r) : null;
    },
    async listAttempts(deliveryId) {
      return (s.attempts.all(deliveryId) as Row[]).map(toAttempt);
    },
    async listDeliveries(filter: DeliveryFilter) {
      const where: string[] = [];
      const params: Row = { limit: filter.limit };
      if (filter.subscriptionId) (where.push('subscription_id = @sub'), (params.sub = filter.subscriptionId));
      if (filter.eventId) (where.push('event_id = @event'), (params.event = filter.eventId));
      if (filter.status) (where.push('status = @status'), (params.status = filter.status));
      if (filter.since !== undefined) (where.push('created_at >= @since'), (params.since = filter.since));
      if (filter.until !== undefined) (where.push('created_at < @until'), (params.until = filter.until));
      if (filter.after) (where.push('id > @after'), (params.after = filter.after));
      const sql = `SELECT * FROM deliveries ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT @limit`;
      return (db.prepare(sql).all(params) as Row[]).map(toDelivery);
    },
    async retry(id, nowMs) {
      if (s.retry.run({ id, now: nowMs }).changes === 0) return null;
      return toDelivery(s.getDelivery.get(id) as Row);
    },
    async recover(subscriptionId, sinceMs, nowMs) {
      return s.recover.run({ sub: subscriptionId, since: sinceMs, now: nowMs }).changes;
    },
    async backlog(): Promise<BacklogRow[]> {
      return (s.backlog.all() as Row[]).map((r) => ({ subscriptionId: String(r.sub), pending: Number(r.n), oldestCreatedAt: num(r.oldest) }));
    },
    async lastAttempted() {
      return (s.lastAttempted.all() as Row[]).map(toDelivery);
    },
    async prune(beforeMs) {
      return prune(beforeMs);
    },
  };
}
