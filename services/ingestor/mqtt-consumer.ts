import { connect, type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { DeviceRepository } from '../registry/device.js';
import type { Logger } from '../shared/logger.js';
import { ALL_DEVICE_READINGS, deviceErrorsTopic, deviceOfTopic, sharedSubscription } from '../shared/topics.js';
import type { IngestService } from './ingest.js';
import { IngestErrors } from './errors.js';
import type { IngestMetrics } from './metrics.js';
import { ingestMqttMessage, type MqttRefusal } from './mqtt-message.js';

export interface MqttConsumerOptions {
  url: string;
  username?: string;
  password?: string;
  /** 5 for shared subscriptions on Mosquitto/EMQX; 4 (3.1.1) where the broker speaks nothing else. */
  protocolVersion: 4 | 5;
  /** Shared-subscription group: every ingestor instance of a deployment uses the same one. */
  group: string;
  /** Stable client id prefix: with a persistent session the broker keeps QoS 1 messages while we are away. */
  clientIdPrefix: string;
  /**
   * Connections in the shared group. mqtt.js handles one message at a time per connection and we
   * acknowledge only after the fsync, so connections are what lets acknowledgements share a commit.
   */
  connections: number;
  /** Session kept by the broker after a disconnect, s (MQTT 5). Default 7 days. */
  sessionExpiryS: number;
  reconnectPeriodMs: number;
}

export const DEFAULT_MQTT_CONSUMER_OPTIONS: Omit<MqttConsumerOptions, 'url'> = {
  protocolVersion: 5,
  group: 'fieldhook-ingest',
  clientIdPrefix: 'fieldhook-ingest',
  connections: 16,
  sessionExpiryS: 7 * 24 * 3600,
  reconnectPeriodMs: 1_000,
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
}

/**
 * Consumes `fieldhook/v1/devices/{device}/readings` from an external broker. The broker has
 * authenticated the device and its ACL pins each device to its own topic, so the topic names the
 * credential. The PUBACK is sent only after the reading is in the spool; under pressure it is
 * withheld, which makes the broker stop sending (its in-flight window fills up).
 */
export function createMqttConsumer(deps: MqttConsumerDeps, options: Partial<MqttConsumerOptions> & { url: string }): MqttConsumer {
  const opts = { ...DEFAULT_MQTT_CONSUMER_OPTIONS, ...options };
  const { ingest, devices, logger, metrics } = deps;
  const clients: MqttClient[] = [];
  let lastMessageAt = 0;
  let stopping = false;

  async function handle(client: MqttClient, packet: IPublishPacket): Promise<void> {
    lastMessageAt = Date.now();
    const device = deviceOfTopic(packet.topic);
    const credential = device ? await devices.get(device) : undefined;
    let refused: MqttRefusal[];
    if (!credential || !credential.enabled) {
      const error = credential ? IngestErrors.deviceDisabled : IngestErrors.deviceUnknown;
      metrics.refused.inc({ code: error.code });
      refused = [{ code: error.code, message: `Device ${device} cannot write` }];
    } else {
      refused = await ingestMqttMessage({ ingest, metrics }, credential, packet.payload as Buffer);
    }
    if (refused.length > 0 && device) {
      // There is no negative PUBACK a device would see through the broker: refusals go to its errors topic.
      client.publish(deviceErrorsTopic(device), JSON.stringify({ refused }), { qos: 0 });
    }
  }

  function open(index: number): Promise<MqttClient> {
    const clientOptions: IClientOptions = {
      protocolVersion: opts.protocolVersion,
      clientId: `${opts.clientIdPrefix}-${index}`,
      clean: false,
      reconnectPeriod: opts.reconnectPeriodMs,
      ...(opts.protocolVersion === 5 ? { properties: { sessionExpiryInterval: opts.sessionExpiryS } } : {}),
      ...(opts.username ? { username: opts.username } : {}),
      ...(opts.password ? { password: opts.password } : {}),
    };
    const client = connect(opts.url, clientOptions);
    client.handleMessage = (packet, done) => {
      const attempt = (): void => {
        handle(client, packet).then(
          () => done(),
          (err: unknown) => {
            // The reading is not durable, so no PUBACK: try again shortly (the broker would redeliver
            // on reconnect anyway).
            logger.error({ err, topic: packet.topic }, 'MQTT ingest failed; retrying before acknowledging');
            if (!stopping) setTimeout(attempt, 1_000);
          },
        );
      };
      attempt();
    };
    // Subscribe on every connect, not once: a broker that lost our session must hear it again.
    client.on('connect', (connack) => {
      if (connack.sessionPresent) return;
      const filter = sharedSubscription(opts.group, ALL_DEVICE_READINGS);
      client.subscribe(filter, { qos: 1 }, (err) => {
        if (err) logger.error({ err, filter }, 'MQTT subscribe failed');
      });
    });
    client.on('error', (err) => logger.warn({ err: err.message }, 'MQTT consumer error'));
    return new Promise((resolve, reject) => {
      client.once('connect', () => resolve(client));
      client.once('error', reject);
    });
  }

  return {
    async start() {
      stopping = false;
      for (let i = 0; i < opts.connections; i++) clients.push(await open(i));
      logger.info({ url: opts.url, connections: opts.connections, group: opts.group }, 'MQTT consumer started');
    },
    async stop() {
      stopping = true;
      await Promise.all(clients.splice(0).map((c) => c.endAsync()));
    },
    lastMessageAgeMs: () => (lastMessageAt === 0 ? -1 : Date.now() - lastMessageAt),
    connected: () => clients.length > 0 && clients.every((c) => c.connected),
  };
}
