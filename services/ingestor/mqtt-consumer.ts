import type { IPublishPacket } from 'mqtt';
import type { DeviceRepository } from '../registry/device.js';
import { ALL_DEVICE_READINGS, connectSubscriber, deviceErrorsTopic, deviceOfTopic, type BusConnection, type Subscriber } from '../shared/bus/index.js';
import type { Logger } from '../shared/logger.js';
import type { IngestService } from './ingest.js';
import type { IngestMetrics } from './metrics.js';
import { MQTT_PACKET_OVERHEAD_BYTES, ingestMqttMessage, type MqttMessageLimits, type MqttRefusal } from './mqtt-message.js';
import { Errors } from '../shared/error-catalog.js';

export interface MqttConsumerOptions {
  /** Shared-subscription group: every ingestor instance of a deployment uses the same one. */
  group: string;
  /** Stable client id prefix: with a persistent session the broker keeps QoS 1 messages while we are away. */
  clientIdPrefix: string;
  /**
   * Connections in the shared group. mqtt.js handles one message at a time per connection and we
   * acknowledge only after the fsync, so connections are what lets acknowledgements share a commit.
   */
  connections: number;
}

export const DEFAULT_MQTT_CONSUMER_OPTIONS: MqttConsumerOptions = {
  group: 'fieldhook-ingest',
  clientIdPrefix: 'fieldhook-ingest',
  connections: 16,
};

export interface MqttConsumer {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** ms since the last message arrived, or -1 before the first: silence is a symptom. */
  lastMessageAgeMs(): number;
  connected(): boolean;
}

export interface MqttConsumerDeps {
  ingest: IngestService;
  devices: DeviceRepository;
  logger: Logger;
  metrics: IngestMetrics;
  /** `INGEST_BODY_LIMIT_BYTES` and `INGEST_MAX_BATCH`: the same limits as over HTTP. */
  limits: MqttMessageLimits;
  now?: () => number;
}

/**
 * Consumes `fieldhook/v1/devices/{device}/readings` from an external broker. The broker has
 * authenticated the device and its ACL pins each device to its own topic, so the topic names the
 * credential. The PUBACK is sent only after the reading is in the spool; under pressure it is
 * withheld, which makes the broker stop sending (its in-flight window fills up).
 *
 * On MQTT 5 the consumer announces `maximumPacketSize` (the payload limit plus room for the
 * topic) on CONNECT, so the broker never sends it a larger message; a payload above the limit that
 * does arrive is refused before it is parsed, acknowledged, and reported on the device's errors
 * topic. On 3.1.1 the broker's own packet limit (Mosquitto `max_packet_size`) is what bounds it.
 */
export function createMqttConsumer(deps: MqttConsumerDeps, connection: BusConnection, options: Partial<MqttConsumerOptions> = {}): MqttConsumer {
  const opts = { ...DEFAULT_MQTT_CONSUMER_OPTIONS, ...options };
  const { ingest, devices, logger, metrics, limits } = deps;
  const now = deps.now ?? Date.now;
  let subscribers: Subscriber[] = [];
  let lastMessageAt = 0;

  async function handle(subscriber: Subscriber, packet: IPublishPacket): Promise<void> {
    lastMessageAt = now();
    const device = deviceOfTopic(packet.topic);
    const credential = device ? await devices.get(device) : undefined;
    let refused: MqttRefusal[];
    if (!credential || !credential.enabled) {
      const error = credential ? Errors.deviceDisabled : Errors.deviceUnknown;
      metrics.refused.inc({ code: error.code });
      refused = [{ code: error.code, message: `Device ${device} cannot write` }];
    } else {
      refused = await ingestMqttMessage({ ingest, metrics }, credential, packet.payload as Buffer, limits);
    }
    if (refused.length > 0 && device) {
      // There is no negative PUBACK a device would see through the broker: refusals go to its errors topic.
      subscriber.client.publish(deviceErrorsTopic(device), JSON.stringify({ refused }), { qos: 0 });
    }
  }

  function open(index: number): Subscriber {
    const subscriber: Subscriber = connectSubscriber(
      connection,
      {
        clientId: `${opts.clientIdPrefix}-${index}`,
        filter: ALL_DEVICE_READINGS,
        group: opts.group,
        maximumPacketSize: limits.maxPayloadBytes + MQTT_PACKET_OVERHEAD_BYTES,
      },
      (packet) => handle(subscriber, packet),
      logger,
    );
    return subscriber;
  }

  return {
    async start() {
      for (let i = 0; i < opts.connections; i++) {
        const subscriber = open(i);
        subscribers.push(subscriber);
        await subscriber.start();
      }
      logger.info({ url: connection.url, connections: opts.connections, group: opts.group }, 'MQTT consumer started');
    },
    async stop() {
      await Promise.all(subscribers.map((s) => s.stop()));
      subscribers = [];
    },
    lastMessageAgeMs: () => (lastMessageAt === 0 ? -1 : now() - lastMessageAt),
    connected: () => subscribers.length > 0 && subscribers.every((s) => s.connected()),
  };
}
