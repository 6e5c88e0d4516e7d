import type { PostgresMigration } from '../../shared/database/migrations.js';

/** The dispatcher's store name in `fieldhook_migrations`. */
export const DISPATCH_STORE = 'dispatch';

/**
 * The dispatcher's schema on PostgreSQL: the same data as dispatch.sqlite (sqlite-migrations.ts),
 * prefixed `dispatch_` in a database other stores share. Times are epoch ms (BIGINT) as on
 * SQLite, so both backends compare the same numbers the delivery loop passes in. Ids sort
 * `COLLATE "C"`, the byte order SQLite sorts TEXT in (the deliveries API pages by id).
 * Append steps, never edit a released one.
 */
export const DISPATCH_PG_MIGRATIONS: readonly PostgresMigration[] = [
  {
    name: 'subscriptions, outbox and delivery log',
    sql: `
      CREATE TABLE dispatch_subscriptions (
        id TEXT COLLATE "C" PRIMARY KEY,
        url TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        events TEXT[] NOT NULL,
        farms TEXT[] NOT NULL,
        fields TEXT[] NOT NULL,
        enabled BOOLEAN NOT NULL,
        disabled_reason TEXT,
        disabled_at BIGINT,
        rate_limit_per_s DOUBLE PRECISION,
        format TEXT NOT NULL DEFAULT 'standard-webhooks',
        locale TEXT NOT NULL DEFAULT 'en',
        time_zone TEXT NOT NULL DEFAULT 'UTC',
        settings JSONB NOT NULL DEFAULT '{}',
        failing_since BIGINT,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      );
      CREATE TABLE dispatch_secrets (
        seq BIGINT GENERATED ALWAYS AS IDENTITY,
        subscription_id TEXT COLLATE "C" NOT NULL REFERENCES dispatch_subscriptions(id) ON DELETE CASCADE,
        secret TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT,
        PRIMARY KEY (subscription_id, secret)
      );
      -- The event id is the idempotency key of publish, across every instance.
      CREATE TABLE dispatch_events (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id TEXT COLLATE "C" NOT NULL UNIQUE,
        type TEXT NOT NULL,
        farm TEXT,
        field TEXT,
        collapse_key TEXT,
        valid_until BIGINT,
        correlation_id TEXT,
        created_at BIGINT NOT NULL,
        body TEXT NOT NULL
      );
      CREATE INDEX dispatch_events_created ON dispatch_events (created_at);
      -- A lease is (leased_by, lease_until): the instance making the attempt, and when another may
      -- take it over. lease_until = 0 and leased_by NULL: not leased.
      CREATE TABLE dispatch_deliveries (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id TEXT COLLATE "C" NOT NULL UNIQUE,
        event_seq BIGINT NOT NULL REFERENCES dispatch_events(seq),
        event_id TEXT COLLATE "C" NOT NULL,
        event_type TEXT NOT NULL,
        subscription_id TEXT COLLATE "C" NOT NULL REFERENCES dispatch_subscriptions(id) ON DELETE CASCADE,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        first_attempt_at BIGINT,
        next_attempt_at BIGINT,
        lease_until BIGINT NOT NULL DEFAULT 0,
        leased_by TEXT,
        last_attempt_at BIGINT,
        last_status_code INTEGER,
        last_error TEXT,
        collapse_key TEXT,
        valid_until BIGINT,
        superseded_by TEXT,
        created_at BIGINT NOT NULL,
        finished_at BIGINT
      );
      CREATE INDEX dispatch_deliveries_expiry ON dispatch_deliveries (valid_until) WHERE status = 'pending' AND valid_until IS NOT NULL;
      CREATE INDEX dispatch_deliveries_sub_due ON dispatch_deliveries (subscription_id, next_attempt_at, seq) WHERE status = 'pending';
      CREATE INDEX dispatch_deliveries_collapse ON dispatch_deliveries (subscription_id, collapse_key) WHERE collapse_key IS NOT NULL;
      CREATE INDEX dispatch_deliveries_sub_created ON dispatch_deliveries (subscription_id, created_at);
      CREATE INDEX dispatch_deliveries_event ON dispatch_deliveries (event_id);
      CREATE INDEX dispatch_deliveries_event_seq ON dispatch_deliveries (event_seq);
      CREATE INDEX dispatch_deliveries_finished ON dispatch_deliveries (finished_at) WHERE finished_at IS NOT NULL;
      CREATE INDEX dispatch_deliveries_leased_by ON dispatch_deliveries (leased_by) WHERE leased_by IS NOT NULL;
      CREATE INDEX dispatch_deliveries_last_attempt ON dispatch_deliveries (subscription_id, last_attempt_at DESC) WHERE last_attempt_at IS NOT NULL;
      CREATE TABLE dispatch_attempts (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        delivery_id TEXT COLLATE "C" NOT NULL REFERENCES dispatch_deliveries(id) ON DELETE CASCADE,
        attempt INTEGER NOT NULL,
        started_at BIGINT NOT NULL,
        status_code INTEGER,
        latency_ms DOUBLE PRECISION NOT NULL,
        response_snippet TEXT,
        error TEXT,
        outcome TEXT NOT NULL,
        instance TEXT
      );
      CREATE INDEX dispatch_attempts_delivery ON dispatch_attempts (delivery_id);
    `,
  },
];
