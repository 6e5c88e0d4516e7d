import type { OutboxEvent, PublishResult } from '../events.js';
import type { FormatName } from '../formats/format-names.js';

/**
 * Repository interfaces of the dispatcher. Routes and the delivery loop only see these; the
 * SQLite implementation is one backend, a PostgreSQL one implements the same promises.
 */

export interface SubscriptionRecord {
  id: string;
  url: string;
  description: string;
  events: string[];
  farms: string[];
  fields: string[];
  enabled: boolean;
  /** Why it was disabled: `gone` (410), `failing` (continuous failures), `manual`. */
  disabledReason: string | null;
  disabledAt: number | null;
  /** Deliveries per second at most, or null for no limit. */
  rateLimitPerSecond: number | null;
  /** How events are delivered: `standard-webhooks` (signed envelopes) or a platform's message. */
  format: FormatName;
  /** Locale of the messages for people (`en`, `he`). */
  locale: string;
  /** IANA time zone the messages' times are given in. */
  timeZone: string;
  /** The format's own settings (`chat_id` for Telegram), as the format checked them. */
  settings: Record<string, unknown>;
  /** Epoch ms of the first failure since the last success, or null when healthy. */
  failingSince: number | null;
  createdAt: number;
  updatedAt: number;
}

/**
 * What a caller chooses when creating one; the rest of the record is the dispatcher's. Without a
 * delivery format it is a Standard Webhooks subscription in English, UTC.
 */
export type NewSubscription = Pick<SubscriptionRecord, 'id' | 'url' | 'description' | 'events' | 'farms' | 'fields' | 'enabled' | 'rateLimitPerSecond'> &
  Partial<Pick<SubscriptionRecord, 'format' | 'locale' | 'timeZone' | 'settings'>>;

export type SubscriptionPatch = Partial<Omit<NewSubscription, 'id'>>;

export interface SubscriptionRepository {
  create(sub: NewSubscription, secret: string, nowMs: number): Promise<SubscriptionRecord>;
  get(id: string): Promise<SubscriptionRecord | null>;
  list(): Promise<SubscriptionRecord[]>;
  /** Apply a patch; enabling also reschedules the backlog for now. Null when unknown. */
  update(id: string, patch: SubscriptionPatch, nowMs: number): Promise<SubscriptionRecord | null>;
  /** Delete it with its pending deliveries and log. False when unknown. */
  remove(id: string): Promise<boolean>;
  /** Secrets that sign right now, newest first. */
  activeSecrets(id: string, nowMs: number): Promise<string[]>;
  /** Add `secret`; older ones keep signing until `nowMs + overlapMs`. */
  rotateSecret(id: string, secret: string, nowMs: number, overlapMs: number): Promise<boolean>;
  /** Disable with a reason; true when it was enabled. Pending deliveries stay queued. */
  disable(id: string, reason: string, nowMs: number): Promise<boolean>;
}

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed' | 'aborted' | 'expired' | 'superseded';

export const FINAL_STATUSES: readonly DeliveryStatus[] = ['succeeded', 'failed', 'aborted', 'expired', 'superseded'];

export interface DeliveryRecord {
  id: string;
  eventId: string;
  eventType: string;
  subscriptionId: string;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: number | null;
  firstAttemptAt: number | null;
  lastAttemptAt: number | null;
  lastStatusCode: number | null;
  lastError: string | null;
  collapseKey: string | null;
  validUntil: number | null;
  createdAt: number;
  finishedAt: number | null;
}

/** A delivery leased to this process for one attempt, with what is needed to make it. */
export interface ClaimedDelivery {
  id: string;
  subscriptionId: string;
  eventId: string;
  eventType: string;
  body: string;
  attempts: number;
  firstAttemptAt: number | null;
  validUntil: number | null;
  correlationId: string | null;
}

export type AttemptOutcome = 'success' | 'failure' | 'timeout' | 'network' | 'blocked' | 'gone' | 'aborted';

export interface AttemptRecord {
  attempt: number;
  startedAt: number;
  statusCode: number | null;
  latencyMs: number;
  responseSnippet: string | null;
  error: string | null;
  outcome: AttemptOutcome;
}

/** Result of one attempt and the state the delivery moves to. */
export interface AttemptResult {
  deliveryId: string;
  subscriptionId: string;
  attempt: AttemptRecord;
  status: DeliveryStatus;
  /** When to try again (status `pending`), epoch ms. */
  nextAttemptAt: number | null;
  firstAttemptAt: number;
  /** Disable the subscription with this reason (410 Gone). */
  disableReason?: string;
}

export interface RecordResultsOutcome {
  /** For each subscription that failed in this batch: the start of its failure streak. */
  failingSince: Map<string, number>;
  /** Subscriptions disabled by this batch. */
  disabled: string[];
  /** Deliveries that ended superseded instead of being rescheduled. */
  superseded: number;
}

export interface DeliveryFilter {
  subscriptionId?: string;
  eventId?: string;
  status?: DeliveryStatus;
  /** Created at or after, epoch ms. */
  since?: number;
  /** Created before, epoch ms. */
  until?: number;
  /** Page after this delivery id (ids sort by creation). */
  after?: string;
  limit: number;
}

export interface BacklogRow {
  subscriptionId: string;
  pending: number;
  oldestCreatedAt: number | null;
}

export interface OutboxRepository {
  /**
   * Store events and one delivery per matching subscription in one durable commit. A pending
   * undelivered delivery with the same collapse key and subscription is superseded.
   */
  append(items: { event: OutboxEvent; subscriptionIds: string[] }[], nowMs: number): Promise<PublishResult[]>;
  /** Mark pending deliveries past their `valid_until` as expired; returns how many. */
  expireDue(nowMs: number): Promise<number>;
  /**
   * Lease due deliveries, up to a limit per subscription, until `leaseUntil`. One call per
   * loop pass: the limits come from each endpoint's limiter, so a subscription with an open
   * breaker is not even queried.
   */
  claim(wants: { subscriptionId: string; limit: number }[], nowMs: number, leaseUntil: number, maxTotal: number): Promise<ClaimedDelivery[]>;
  /** Earliest next attempt among the unleased pending deliveries of these subscriptions. */
  nextDueAt(subscriptionIds: string[], nowMs: number): Promise<number | null>;
  /**
   * Record attempts and move their deliveries on, in one commit. A result whose delivery is gone
   * (its subscription was deleted) is skipped; on PostgreSQL so is one whose lease this instance
   * no longer holds (it expired and another instance took the delivery over: that instance's
   * attempt is the one on record).
   */
  recordResults(results: AttemptResult[], nowMs: number): Promise<RecordResultsOutcome>;
  /**
   * Drop the leases of this instance's previous run (called once at start-up, before the first
   * claim): attempts it had in flight when it stopped were never recorded and go out again. On
   * SQLite the process owns the store, so that is every lease; on PostgreSQL only the leases
   * held under this instance's id: another live instance's are attempts it is making now, and a
   * crashed one's are taken over when they expire.
   */
  releaseLeases(): Promise<number>;
  getDelivery(id: string): Promise<DeliveryRecord | null>;
  listAttempts(deliveryId: string): Promise<AttemptRecord[]>;
  listDeliveries(filter: DeliveryFilter): Promise<DeliveryRecord[]>;
  /** Make one delivery pending again, due now, with a fresh schedule. */
  retry(id: string, nowMs: number): Promise<DeliveryRecord | null>;
  /** Make every failed/aborted delivery of a subscription created since `sinceMs` pending again. */
  recover(subscriptionId: string, sinceMs: number, nowMs: number): Promise<number>;
  backlog(): Promise<BacklogRow[]>;
  /** Per subscription, the delivery attempted most recently (the status page's "last delivery"). */
  lastAttempted(): Promise<DeliveryRecord[]>;
  /** Delete finished deliveries (and their attempts) and orphan events older than `beforeMs`. */
  prune(beforeMs: number): Promise<number>;
}

export interface DispatchStore {
  subscriptions: SubscriptionRepository;
  outbox: OutboxRepository;
  close(): Promise<void>;
}
