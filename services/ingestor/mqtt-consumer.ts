import { SESSION_EXPIRY_S, type BusConnection, type SessionLeaveOptions } from '../shared/bus/connection.js';
import { ALL_DEVICE_READINGS, deviceErrorsTopic, deviceOfTopic, subscriptionFilter } from '../shared/bus/index.js';
import { Errors } from '../shared/error-catalog.js';
import type { Logger } from '../shared/logger.js';
import type { CredentialCache } from './credential-cache.js';
import type { DeviceWithSecret } from '../registry/device.js';
import type { IngestService } from './ingest.js';
import type { IngestMetrics } from './metrics.js';
import { createMqttBatcher, type MqttBatcher } from './mqtt-batch.js';
import {
  DEFAULT_CONSUMER_CONNECTION_OPTIONS,
  createConsumerConnection,
  type ConsumerConnection,
  type InboundMessage,
} from './mqtt-consumer-connection.js';
import { MQTT_PACKET_OVERHEAD_BYTES, type MqttMessageLimits, type MqttRefusal } from './mqtt-message.js';

export interface MqttConsumerOptions {
  /** Shared-subscription group: every ingestor instance of a deployment uses the same one. */
  group: string;
  /** Stable client id prefix: with a persistent session the broker keeps QoS 1 messages while we are away. */
  clientIdPrefix: string;
  /**
   * Connections in the shared group. Each keeps up to `maxInFlight` messages unacknowledged and
   * their commits are shared, so a few are enough; more spread the socket work of a busy broker.
   */
  connections: number;
  /** Messages received and not yet acknowledged per connection before it stops reading. */
  maxInFlight: number;
  /** Wait before a message whose append failed is tried again, ms. */
  retryDelayMs: number;
}

export const DEFAULT_MQTT_CONSUMER_OPTIONS: MqttConsumerOptions = {
  group: 'fieldhook-ingest',
  clientIdPrefix: 'fieldhook-ingest',
  connections: 4,
  maxInFlight: DEFAULT_CONSUMER_CONNECTION_OPTIONS.maxInFlight,
  retryDelayMs: 1_000,
};

export interface MqttConsumer {
  start(): Promise<void>;
  /** Closes every connection; the broker keeps their sessions and queues their share of the group. */
  stop(): Promise<void>;
  /**
   * Leaves the group for good: every connection unsubscribes, settles what its session holds
   * (in the spool, acknowledged) and ends its session (mqtt-consumer-connection.ts `leave`).
   * Rejects, with the sessions it could not end kept, if one of them cannot.
   */
  leave(options?: SessionLeaveOptions): Promise<void>;
  /** ms since the last message arrived, or -1 before the first: silence is a symptom. */
  lastMessageAgeMs(): number;
  connected(): boolean;
}

export interface MqttConsumerDeps {
  ingest: IngestService;
  /** The device registry from memory (credential-cache.ts): no query per message. */
  devices: CredentialCache;
  logger: Logger;
  metrics: IngestMetrics;
  /** `INGEST_BODY_LIMIT_BYTES` and `INGEST_MAX_BATCH`: the same limits as over HTTP. */
  limits: MqttMessageLimits;
  /** Shared with the embedded broker's path when both exist; one of its own otherwise. */
  batcher?: MqttBatcher;
  now?: () => number;
}

/**
 * Consumes `fieldhook/v1/devices/{device}/readings` from an external broker. The broker has
 * authenticated the device and its ACL pins each device to its own topic, so the topic names the
 * credential. Messages of every connection arriving in one event-loop turn are appended together
 * (mqtt-batch.ts), and each PUBACK is sent only after its message is in the spool, in receive order
 * (mqtt-consumer-connection.ts). Under pressure PUBACKs are withheld, which makes the broker stop
 * sending (its in-flight window fills up, and past `maxInFlight` the socket is not read).
 *
 * On MQTT 5 the consumer announces `maximumPacketSize` (the payload limit plus room for the
 * topic) on CONNECT, so the broker never sends it a larger message; a payload above the limit that
 * does arrive is refused before it is parsed, acknowledged, and reported on the device's errors
 * topic. On 3.1.1 the broker's own packet limit (Mosquitto `max_packet_size`) is what bounds it.
 */
export function createMqttConsumer(deps: MqttConsumerDeps, connection: BusConnection, options: Partial<MqttConsumerOptions> = {}): MqttConsumer {
  const opts = { ...DEFAULT_MQTT_CONSUMER_OPTIONS, ...options };
  const { devices, logger, metrics, limits } = deps;
  const now = deps.now ?? Date.now;
  const batcher = deps.batcher ?? createMqttBatcher({ ingest: deps.ingest, metrics, limits, logger });
  let connections: ConsumerConnection[] = [];
  let lastMessageAt = 0;
  let stopping = false;

  function refuse(link: ConsumerConnection, device: string, refused: MqttRefusal[]): void {
    // There is no negative PUBACK a device would see through the broker: refusals go to its errors topic.
    link.publish(deviceErrorsTopic(device), JSON.stringify({ refused }));
  }

  function take(link: ConsumerConnection, message: InboundMessage): void {
    const device = deviceOfTopic(message.topic);
    if (device === undefined) return message.ack();
    const credential = devices.peek(device);
    if (credential !== undefined) return handle(link, message, device, credential);
    // Not in memory yet: one registry read, then on with what it returned. Looking in the cache
    // again could miss for ever while the cache cannot trust memory (a control plane whose change
    // feed is down counts every look as a change).
    devices.get(device).then(
      (read) => handle(link, message, device, read ?? null),
      (err: unknown) => {
        logger.error({ err, device }, 'device registry read failed; message not acknowledged');
        retry(link, message);
      },
    );
  }

  function handle(link: ConsumerConnection, message: InboundMessage, device: string, credential: DeviceWithSecret | null): void {
    if (!credential || !credential.enabled) {
      const error = credential ? Errors.deviceDisabled : Errors.deviceUnknown;
      metrics.refused.inc({ code: error.code });
      refuse(link, device, [{ code: error.code, message: `Device ${device} cannot write` }]);
      return message.ack();
    }
    batcher.submit(credential, message.payload, (err, refused) => {
      if (err) {
        logger.error({ err, device }, 'MQTT ingest failed; retrying before acknowledging');
        return retry(link, message);
      }
      if (refused.length > 0) refuse(link, device, refused);
      message.ack();
    });
  }

  /** The same message again after a while; the PUBACKs of later ones wait for it (order). */
  function retry(link: ConsumerConnection, message: InboundMessage): void {
    if (!stopping) setTimeout(() => take(link, message), opts.retryDelayMs).unref();
  }

  function open(index: number): ConsumerConnection {
    const link: ConsumerConnection = createConsumerConnection(
      {
        ...DEFAULT_CONSUMER_CONNECTION_OPTIONS,
        url: connection.url,
        clientId: `${opts.clientIdPrefix}-${index}`,
        ...(connection.username ? { username: connection.username } : {}),
        ...(connection.password ? { password: connection.password } : {}),
        protocolVersion: connection.protocolVersion,
        filters: [subscriptionFilter(connection, { filter: ALL_DEVICE_READINGS, group: opts.group })],
        sessionExpiryS: SESSION_EXPIRY_S,
        maximumPacketSize: limits.maxPayloadBytes + MQTT_PACKET_OVERHEAD_BYTES,
        maxInFlight: opts.maxInFlight,
      },
      (message) => {
        lastMessageAt = now();
        take(link, message);
      },
      logger,
    );
    return link;
  }

  return {
    async start() {
      stopping = false;
      for (let i = 0; i < opts.connections; i++) {
        const link = open(i);
        connections.push(link);
        await link.start();
      }
      logger.info({ url: connection.url, connections: opts.connections, group: opts.group }, 'MQTT consumer started');
    },
    async stop() {
      stopping = true;
      await Promise.all(connections.map((c) => c.stop()));
      connections = [];
    },
    async leave(leaving = {}) {
      if (connections.length === 0) return; // never started, stopped, or left already
      // Not stopping yet: a message whose append failed is tried again until it is in the spool.
      const left = await Promise.allSettled(connections.map((c) => c.leave(leaving)));
      stopping = true;
      connections = [];
      const failed = left.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed.length > 0) throw failed[0]!.reason;
      logger.info({ group: opts.group, connections: left.length }, 'MQTT consumer left its group; sessions ended');
    },
    lastMessageAgeMs: () => (lastMessageAt === 0 ? -1 : now() - lastMessageAt),
    connected: () => connections.length > 0 && connections.every((c) => c.connected()),
  };
}
