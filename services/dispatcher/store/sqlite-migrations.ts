import type { Migration } from '../../shared/sqlite.js';

/** Schema of the dispatcher's SQLite store; append steps, never edit a released one. */
export const DISPATCH_MIGRATIONS: Migration[] = [
  (db) => {
    db.exec(`
      CREATE TABLE subscriptions (
        id TEXT PRIMARY KEY,
        url TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        events TEXT NOT NULL,
        farms TEXT NOT NULL,
        fields TEXT NOT NULL,
        enabled INTEGER NOT NULL,
        disabled_reason TEXT,
        disabled_at INTEGER,
        rate_limit_per_s REAL,
        failing_since INTEGER,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE subscription_secrets (
        subscription_id TEXT NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,
        secret TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER,
        PRIMARY KEY (subscription_id, secret)
      );
      CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        type TEXT NOT NULL,
        farm TEXT,
        field TEXT,
        collapse_key TEXT,
        valid_until INTEGER,
        correlation_id TEXT,
        created_at INTEGER NOT NULL,
        body TEXT NOT NULL
      );
      CREATE TABLE deliveries (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        event_seq INTEGER NOT NULL REFERENCES events(seq),
        event_id TEXT NOT NULL,
        event_type TEXT NOT NULL,
        subscription_id TEXT NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        first_attempt_at INTEGER,
        next_attempt_at INTEGER,
        lease_until INTEGER NOT NULL DEFAULT 0,
        last_attempt_at INTEGER,
        last_status_code INTEGER,
        last_error TEXT,
        collapse_key TEXT,
        valid_until INTEGER,
        superseded_by TEXT,
        created_at INTEGER NOT NULL,
        finished_at INTEGER
      );
      CREATE INDEX deliveries_expiry ON deliveries (valid_until) WHERE status = 'pending' AND valid_until IS NOT NULL;
      CREATE INDEX deliveries_sub_due ON deliveries (subscription_id, next_attempt_at) WHERE status = 'pending';
      CREATE INDEX deliveries_collapse ON deliveries (subscription_id, collapse_key) WHERE collapse_key IS NOT NULL;
      CREATE INDEX deliveries_sub_created ON deliveries (subscription_id, created_at);
      CREATE INDEX deliveries_event ON deliveries (event_id);
      CREATE INDEX deliveries_finished ON deliveries (finished_at) WHERE finished_at IS NOT NULL;
      CREATE TABLE attempts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        delivery_id TEXT NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
        attempt INTEGER NOT NULL,
        started_at INTEGER NOT NULL,
        status_code INTEGER,
        latency_ms REAL NOT NULL,
        response_snippet TEXT,
        error TEXT,
        outcome TEXT NOT NULL
      );
      CREATE INDEX attempts_delivery ON attempts (delivery_id);
    `);
  },
  // Formats for people and platforms: existing subscriptions keep Standard Webhooks, in English, UTC.
  (db) => {
    db.exec(`
      ALTER TABLE subscriptions ADD COLUMN format TEXT NOT NULL DEFAULT 'standard-webhooks';
      ALTER TABLE subscriptions ADD COLUMN locale TEXT NOT NULL DEFAULT 'en';
      ALTER TABLE subscriptions ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';
      ALTER TABLE subscriptions ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
    `);
  },
];
