/**
 * The one way a part consumes the bus. Every consumer (the ingestor's MQTT consumer, the
 * predictor, the dispatcher) gets the same session rule, the same resubscription, the same
 * shared-subscription naming and the same error policy:
 *
 * - the PUBACK is sent only after `handle` resolves (mqtt.js acknowledges when `handleMessage`
 *   calls back), so what a part has not made its own is redelivered after a crash;
 * - a message `handle` rejects with `InvalidBusMessage` is acknowledged and logged: redelivering it
 *   would not make it valid;
 * - any other failure is retried on the same message after `retryDelayMs` (mqtt.js hands over the
 *   next message of a connection only after this one), until it succeeds or the part stops;
 * - `start()` resolves once the first connection is subscribed (SUBACK) and rejects if the broker
 *   refuses or fails either; `connected()` is true only while subscribed, so readiness never
 *   reports a consumer a message published now would miss;
 * - `stop()` keeps the session: a restart resumes it and gets what was queued meanwhile.
 *   `leave()` ends it (scaling in, a start that failed): see `leave` below.
 */
import { randomUUID } from 'node:crypto';
import mqtt, { type IPublishPacket, type ISubscriptionMap, type MqttClient } from 'mqtt';
import type { Logger } from '../logger.js';
import { discardSession, sessionOptions, type BusConnection, type SessionLeaveOptions } from './connection.js';
import { sessionDrainedTopic, sharedSubscription } from './topics.js';

/** Thrown by a handler for a message that can never be processed: acknowledged and dropped. */
export class InvalidBusMessage extends Error {
  override readonly name = 'InvalidBusMessage';
}

export interface SubscriberOptions {
  /** Stable per instance: the broker keeps the session (and queued messages) under it. */
  clientId: string;
  /** Topic filter, e.g. `ALL_FIELD_READINGS`. */
  filter: string;
  /** Group whose members split the messages, where the broker supports shared subscriptions. */
  group: string;
  /** Wait before handling a failed message again, ms. */
  retryDelayMs?: number;
  /**
   * Largest packet this subscriber takes, bytes: announced as `maximumPacketSize` on CONNECT on
   * MQTT 5, so the broker does not send larger ones. The handler still checks what it gets (3.1.1).
   */
  maximumPacketSize?: number;
}

export const DEFAULT_RETRY_DELAY_MS = 1_000;

export interface Subscriber {
  /** The client, for replies on other topics (e.g. a device's errors topic). */
  readonly client: MqttClient;
  start(): Promise<void>;
  /** Closes the connection; the broker keeps the session and queues this member's share for it. */
  stop(): Promise<void>;
  /**
   * Leaves for good: unsubscribes (the broker assigns this member nothing more), handles and
   * acknowledges what the session still holds, then ends the session. Aborted, or not connected,
   * it stops instead (the session and what it holds are kept) and rejects saying so.
   */
  leave(options?: SessionLeaveOptions): Promise<void>;
  connected(): boolean;
}

/** Stops (sessions kept) or, with `leaving`, leaves every subscriber; all are ended either way, the first failure thrown. */
export async function endSubscribers(subscribers: readonly (Subscriber | undefined)[], leaving?: SessionLeaveOptions): Promise<void> {
  const ended = await Promise.allSettled(subscribers.map((s) => (leaving ? s?.leave(leaving) : s?.stop())));
  const failed = ended.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** The filter a subscriber subscribes to: shared where the broker splits the load. */
export function subscriptionFilter(connection: BusConnection, options: Pick<SubscriberOptions, 'filter' | 'group'>): string {
  return connection.sharedSubscriptions ? sharedSubscription(options.group, options.filter) : options.filter;
}

export function connectSubscriber(
  connection: BusConnection,
  options: SubscriberOptions,
  handle: (packet: IPublishPacket) => Promise<void> | void,
  logger: Logger,
): Subscriber {
  const retryDelayMs = options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
  const filter = subscriptionFilter(connection, options);
  const limits = options.maximumPacketSize ? { maximumPacketSize: options.maximumPacketSize } : {};
  const client = mqtt.connect(connection.url, { ...sessionOptions(connection, options.clientId, limits), manualConnect: true });
  let stopping = false;
  // While leaving: the marker that follows everything the session held (sessionDrainedTopic).
  const drainedTopic = sessionDrainedTopic(options.clientId);
  let leaving: { marker: string; drained(): void } | undefined;

  client.handleMessage = (packet, done) => {
    if (packet.topic === drainedTopic) {
      // mqtt.js hands a message over only once the one before it was acknowledged: all are.
      if (leaving && packet.payload.toString() === leaving.marker) leaving.drained();
      return done();
    }
    const attempt = (): void => {
      Promise.resolve()
        .then(() => handle(packet))
        .then(
          () => done(),
          (err: unknown) => {
            if (err instanceof InvalidBusMessage) {
              logger.warn({ err: err.message, topic: packet.topic }, 'bus message is invalid; acknowledged and dropped');
              return done();
            }
            logger.error({ err, topic: packet.topic }, 'bus message not handled; retrying before acknowledging');
            if (!stopping) setTimeout(attempt, retryDelayMs).unref();
          },
        );
    };
    attempt();
  };
  // Subscribe on every connect: a broker that lost our session must hear it again.
  // Until the SUBACK the broker may drop what is published (a shared group with no member keeps
  // nothing), so the subscriber counts as connected only from then on.
  let subscribed = false;
  let firstSubscription: { resolve(): void; reject(err: Error): void } | undefined;
  /** Whether the broker held a session under this client id at the first connect (a restart). */
  let sessionFoundAtStart: boolean | undefined;
  client.on('connect', (connack) => {
    sessionFoundAtStart ??= connack.sessionPresent;
    // A session the broker kept may lack the subscription too (a leave that was cut short after
    // its UNSUBSCRIBE): subscribing again is harmless and keeps that from going unnoticed.
    if (leaving) return;
    // `resubscribe: true` makes mqtt.js send the SUBSCRIBE although it knows the filter from the
    // connection before: without it a reconnect to a broker that restored our session sent nothing,
    // and Mosquitto 2 restores a session's plain subscriptions but not its shared (`$share/…`)
    // ones, so the bus went silent with the subscriber counting itself subscribed.
    client.subscribe({ [filter]: { qos: 1 }, resubscribe: true } as ISubscriptionMap, (err, granted) => {
      // MQTT 5 reason codes of 0x80 and above (3.1.1: 0x80) refuse the subscription.
      const code = granted?.find((g) => g.qos >= 0x80)?.qos;
      const reason = err?.message ?? (code !== undefined ? `the broker refused it (reason code 0x${code.toString(16)})` : undefined);
      const refused = reason === undefined ? undefined : new Error(`subscribing to ${filter} failed: ${reason}`);
      if (refused) {
        logger.error({ err: refused, filter }, 'bus subscribe failed');
        firstSubscription?.reject(refused);
        return;
      }
      subscribed = true;
      firstSubscription?.resolve();
    });
  });
  client.on('close', () => {
    subscribed = false;
  });
  client.on('error', (err) => logger.warn({ err: err.message, clientId: options.clientId }, 'bus connection error'));

  async function stop(): Promise<void> {
    stopping = true;
    // Forced: a message not yet acknowledged is redelivered to the next session (at least once);
    // waiting could hang on a broker that is already gone.
    await client.endAsync(true);
  }

  return {
    client,
    start() {
      stopping = false;
      return new Promise<void>((resolve, reject) => {
        const onError = (err: Error) => settle(err);
        const settle = (err?: Error) => {
          client.off('error', onError);
          firstSubscription = undefined;
          if (err) reject(err);
          else resolve();
        };
        firstSubscription = { resolve: () => settle(), reject: settle };
        client.once('error', onError);
        client.connect();
      });
    },
    stop,
    async leave({ signal, keepOlderSessions } = {}) {
      if (keepOlderSessions && sessionFoundAtStart) return stop();
      if (!client.connected || !subscribed) {
        await stop();
        throw new Error(`${options.clientId} did not leave ${filter}: not connected to the broker; its session is kept`);
      }
      const marker = randomUUID();
      let aborted: (() => void) | undefined;
      try {
        await new Promise<void>((resolve, reject) => {
          leaving = { marker, drained: resolve };
          aborted = () => reject(new Error(`${options.clientId} did not leave ${filter}: what its session held was not handled in time; the session is kept`));
          if (signal?.aborted) return aborted();
          signal?.addEventListener('abort', aborted, { once: true });
          client.once('close', () => reject(new Error(`${options.clientId} did not leave ${filter}: the connection closed while leaving; the session is kept`)));
          // Nothing new is assigned once the broker confirmed the UNSUBSCRIBE; the marker, published
          // afterwards, is queued behind whatever it had assigned before (one queue per session).
          client
            .unsubscribeAsync(filter)
            .then(() => {
              subscribed = false;
              return client.subscribeAsync(drainedTopic, { qos: 1 });
            })
            .then((granted) => {
              // Refused (an ACL without `fieldhook/#`), the marker would never come back.
              if (granted.some((g) => g.qos >= 0x80)) throw new Error(`${options.clientId} did not leave ${filter}: the broker refused a subscription to ${drainedTopic}; the session is kept`);
              return client.publishAsync(drainedTopic, marker, { qos: 1 });
            })
            .catch(reject);
        });
      } catch (err) {
        leaving = undefined;
        await stop();
        throw err;
      } finally {
        if (aborted) signal?.removeEventListener('abort', aborted);
      }
      stopping = true;
      if (connection.protocolVersion === 5) {
        // Allowed because CONNECT set a non-zero expiry (MQTT 5 §3.14.2.2.2): the session ends now.
        await client.endAsync(false, { reasonCode: 0, properties: { sessionExpiryInterval: 0 } });
      } else {
        // 3.1.1 keeps an unsubscribed session (it receives nothing more); a clean connection discards it.
        await client.endAsync();
        await discardSession(connection, options.clientId);
      }
    },
    connected: () => client.connected && subscribed,
  };
}
