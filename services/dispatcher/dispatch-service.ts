import type { Logger } from '../shared/logger.js';
import type { Clock } from '../shared/clock.js';
import { PublishInputSchema, TEST_EVENT_TYPE, toOutboxEvent, unknownOwnType, type PublishInput, type PublishResult } from './events.js';
import { createId } from './ids.js';
import { isValidTypePattern, matchesFilter } from './matching.js';
import { assertValidSecret, generateSecret } from './signer.js';
import { checkUrl, type AddressGuard } from './ssrf-guard.js';
import type {
  AttemptRecord,
  DeliveryFilter,
  DeliveryRecord,
  DispatchStore,
  SubscriptionPatch,
  SubscriptionRecord,
} from './store/types.js';
import { Errors } from '../shared/error-catalog.js';
import { DEFAULT_FORMAT, FORMATS, type FormatName } from './formats/index.js';
import { checkDeliverySettings } from './formats/subscription-settings.js';
import { DEFAULT_LOCALE } from './messages/catalog.js';

export interface CreateSubscriptionInput {
  url: string;
  events?: string[];
  farms?: string[];
  fields?: string[];
  description?: string;
  enabled?: boolean;
  rateLimitPerSecond?: number | null;
  /** `whsec_…`; generated when absent. */
  secret?: string;
  /** Default `standard-webhooks`. */
  format?: FormatName;
  /** Default `en`. */
  locale?: string;
  /** IANA name; default `UTC`. */
  timeZone?: string;
  /** The format's own settings. */
  settings?: Record<string, unknown>;
}

export interface DispatchService {
  /** Validate, commit to the outbox (fsync) and fan out; resolves after the commit. */
  publish(input: PublishInput): Promise<PublishResult>;
  /** Several events in one commit. */
  publishMany(inputs: PublishInput[]): Promise<PublishResult[]>;
  createSubscription(input: CreateSubscriptionInput): Promise<{ subscription: SubscriptionRecord; secret: string }>;
  getSubscription(id: string): Promise<SubscriptionRecord>;
  listSubscriptions(): Promise<SubscriptionRecord[]>;
  updateSubscription(id: string, patch: SubscriptionPatch): Promise<SubscriptionRecord>;
  removeSubscription(id: string): Promise<void>;
  rotateSecret(id: string, secret?: string): Promise<{ secret: string; previousSecretsExpireAt: number }>;
  /** Queue a `webhook.test` event for this subscription only, through the normal path. */
  sendTest(id: string): Promise<{ eventId: string; deliveryId: string }>;
  /** Re-send every failed or aborted delivery created since `sinceMs`. */
  recover(id: string, sinceMs: number): Promise<number>;
  listDeliveries(filter: DeliveryFilter): Promise<DeliveryRecord[]>;
  getDelivery(id: string): Promise<{ delivery: DeliveryRecord; attempts: AttemptRecord[] }>;
  retryDelivery(id: string): Promise<DeliveryRecord>;
}

export interface DispatchServiceDeps {
  store: DispatchStore;
  clock: Clock;
  logger: Logger;
  /** The SSRF guard of a subscription with these farms. */
  guardForFarms(farms: readonly string[]): AddressGuard;
  /** After any change that may create due work. */
  wake(): void;
  /** A subscription was re-enabled or changed: forget its breaker state. */
  resetEndpoint(id: string): void;
  /** After a rotation the old secret keeps signing next to the new one this long, ms. */
  secretRotationOverlapMs: number;
  onAccepted(n: number): void;
  /** Formats this server can deliver (`email` only with an SMTP relay). Default: all. */
  availableFormats?: readonly FormatName[];
}

/** Default time zone of a subscription's messages. */
export const DEFAULT_TIME_ZONE = 'UTC';

/** A day: receivers deployed once a day pick up the new secret before the old one stops signing. */
export const DEFAULT_SECRET_ROTATION_OVERLAP_MS = 24 * 3_600_000;

function assertFilters(events: string[] | undefined): void {
  for (const e of events ?? []) {
    if (!isValidTypePattern(e)) throw Errors.subscriptionInvalidFilter(`Invalid event type filter: ${e}`);
    // `irrigation.recomended` would subscribe to nothing, for ever, without a word.
    const unknown = e.endsWith('.*') ? undefined : unknownOwnType(e);
    if (unknown) throw Errors.subscriptionInvalidFilter(unknown);
  }
}

export function createDispatchService(deps: DispatchServiceDeps): DispatchService {
  const { store, clock } = deps;
  const available = new Set<string>(deps.availableFormats ?? Object.keys(FORMATS));

  /**
   * Check a subscription's delivery as a whole (format, settings, locale, time zone, URL), as it
   * will be after a create or an update; returns the settings to store.
   */
  const checkDelivery = (sub: { url: string; farms: readonly string[]; format: string; locale: string; timeZone: string; settings: unknown }) => {
    if (!available.has(sub.format)) {
      throw Errors.subscriptionFormatUnavailable(`The ${sub.format} format is not configured on this server`, { field: 'format' });
    }
    const checked = checkDeliverySettings(sub);
    // The SSRF policy guards HTTP destinations; e-mail goes to the configured relay only.
    if (FORMATS[checked.format].destination === 'http') checkUrl(sub.url, deps.guardForFarms(sub.farms));
    return checked;
  };

  const mustGet = async (id: string) => {
    const sub = await store.subscriptions.get(id);
    if (!sub) throw Errors.subscriptionNotFound(`Subscription ${id} not found`);
    return sub;
  };

  async function publishMany(inputs: PublishInput[]): Promise<PublishResult[]> {
    const now = clock.now();
    const subs = await store.subscriptions.list();
    const items = inputs.map((raw) => {
      const parsed = PublishInputSchema.safeParse(raw);
      if (!parsed.success) {
        throw Errors.webhookInvalidEvent('Invalid event', {
          errors: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
        });
      }
      const event = toOutboxEvent(parsed.data, parsed.data.id ?? createId('evt', now), now);
      // Disabled subscriptions still collect their backlog; it goes out when they are re-enabled.
      const subscriptionIds = subs.filter((s) => matchesFilter(s, event)).map((s) => s.id);
      return { event, subscriptionIds };
    });
    const results = await store.outbox.append(items, now);
    deps.onAccepted(results.filter((r) => !r.duplicate).length);
    deps.wake();
    return results;
  }

  return {
    async publish(input) {
      return (await publishMany([input]))[0]!;
    },
    publishMany,
    async createSubscription(input) {
      const farms = input.farms ?? [];
      const delivery = checkDelivery({
        url: input.url,
        farms,
        format: input.format ?? DEFAULT_FORMAT,
        locale: input.locale ?? DEFAULT_LOCALE,
        timeZone: input.timeZone ?? DEFAULT_TIME_ZONE,
        settings: input.settings ?? {},
      });
      assertFilters(input.events);
      const secret = input.secret ?? generateSecret();
      assertValidSecret(secret);
      const subscription = await store.subscriptions.create(
        {
          id: createId('sub', clock.now()),
          url: input.url,
          description: input.description ?? '',
          events: input.events ?? ['*'],
          farms,
          fields: input.fields ?? [],
          enabled: input.enabled ?? true,
          rateLimitPerSecond: input.rateLimitPerSecond ?? null,
          ...delivery,
        },
        secret,
        clock.now(),
      );
      deps.logger.info({ subscription: subscription.id, format: subscription.format, endpoint: new URL(subscription.url).origin }, 'subscription created');
      return { subscription, secret };
    },
    getSubscription: mustGet,
    listSubscriptions: () => store.subscriptions.list(),
    async updateSubscription(id, patch) {
      const current = await mustGet(id);
      const touchesDelivery = ['url', 'farms', 'format', 'locale', 'timeZone', 'settings'].some((k) => patch[k as keyof SubscriptionPatch] !== undefined);
      let checked = patch;
      if (touchesDelivery) {
        // A new format starts from its own settings: another format's would be unknown to it.
        const format = patch.format ?? current.format;
        const settings = patch.settings ?? (format === current.format ? current.settings : {});
        const delivery = checkDelivery({
          url: patch.url ?? current.url,
          farms: patch.farms ?? current.farms,
          format,
          locale: patch.locale ?? current.locale,
          timeZone: patch.timeZone ?? current.timeZone,
          settings,
        });
        checked = { ...patch, ...delivery };
      }
      assertFilters(patch.events);
      const updated = await store.subscriptions.update(id, checked, clock.now());
      if (!updated) throw Errors.subscriptionNotFound(`Subscription ${id} not found`);
      if (patch.enabled === true && !current.enabled) {
        deps.logger.info({ subscription: id }, 'subscription re-enabled; delivering its backlog');
      }
      deps.resetEndpoint(id);
      deps.wake();
      return updated;
    },
    async removeSubscription(id) {
      if (!(await store.subscriptions.remove(id))) throw Errors.subscriptionNotFound(`Subscription ${id} not found`);
      deps.resetEndpoint(id);
    },
    async rotateSecret(id, secret) {
      const next = secret ?? generateSecret();
      assertValidSecret(next);
      const now = clock.now();
      // A secret signs once per subscription: naming one that signs now would add it twice.
      if ((await store.subscriptions.activeSecrets(id, now)).includes(next)) throw Errors.subscriptionSecretInUse();
      if (!(await store.subscriptions.rotateSecret(id, next, now, deps.secretRotationOverlapMs))) {
        throw Errors.subscriptionNotFound(`Subscription ${id} not found`);
      }
      deps.logger.info({ subscription: id }, 'subscription secret rotated');
      return { secret: next, previousSecretsExpireAt: now + deps.secretRotationOverlapMs };
    },
    async sendTest(id) {
      const sub = await mustGet(id);
      const now = clock.now();
      const event = toOutboxEvent(
        { type: TEST_EVENT_TYPE, data: { subscription_id: sub.id, message: 'Test event from fieldhook' } },
        createId('evt', now),
        now,
      );
      await store.outbox.append([{ event, subscriptionIds: [sub.id] }], now);
      const [delivery] = await store.outbox.listDeliveries({ eventId: event.id, limit: 1 });
      deps.wake();
      return { eventId: event.id, deliveryId: delivery!.id };
    },
    async recover(id, sinceMs) {
      await mustGet(id);
      const n = await store.outbox.recover(id, sinceMs, clock.now());
      deps.logger.info({ subscription: id, since: new Date(sinceMs).toISOString(), recovered: n }, 'recovering failed deliveries');
      deps.resetEndpoint(id);
      deps.wake();
      return n;
    },
    listDeliveries: (filter) => store.outbox.listDeliveries(filter),
    async getDelivery(id) {
      const delivery = await store.outbox.getDelivery(id);
      if (!delivery) throw Errors.webhookDeliveryNotFound(`Delivery ${id} not found`);
      return { delivery, attempts: await store.outbox.listAttempts(id) };
    },
    async retryDelivery(id) {
      const delivery = await store.outbox.getDelivery(id);
      if (!delivery) throw Errors.webhookDeliveryNotFound(`Delivery ${id} not found`);
      const now = clock.now();
      // Late irrigation advice is worse than none: an expired event is never re-sent.
      if (delivery.validUntil !== null && delivery.validUntil <= now) throw Errors.webhookExpired();
      const updated = await store.outbox.retry(id, now);
      deps.wake();
      return updated!;
    },
  };
}
