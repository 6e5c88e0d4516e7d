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
 * - `start()` resolves once the first connection is subscribed (SUBACK, or a session the broker
 *   kept) and rejects if the broker refuses or fails either; `connected()` is true only while
 *   subscribed, so readiness never reports a consumer a message published now would miss.
 */
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import type { Logger } from '../logger.js';
import { sessionOptions, type BusConnection } from './connection.js';
import { sharedSubscription } from './topics.js';

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
  stop(): Promise<void>;
  connected(): boolean;
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

  client.handleMessage = (packet, done) => {
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
  // Subscribe on every connect that has no session: a broker that lost ours must hear it again.
  // Until the SUBACK the broker may drop what is published (a shared group with no member keeps
  // nothing), so the subscriber counts as connected only from then on.
  let subscribed = false;
  let firstSubscription: { resolve(): void; reject(err: Error): void } | undefined;
  client.on('connect', (connack) => {
    if (connack.sessionPresent) {
      subscribed = true;
      firstSubscription?.resolve();
      return;
    }
    client.subscribe(filter, { qos: 1 }, (err, granted) => {
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
    async stop() {
      stopping = true;
      // Forced: a message not yet acknowledged is redelivered to the next session (at least once);
      // waiting could hang on a broker that is already gone.
      await client.endAsync(true);
    },
    connected: () => client.connected && subscribed,
  };
}
