import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from '../shared/logger.js';
import type { PublishInput, PublishResult } from './events.js';

/** Topic on which the predictor (or anything else) publishes events as JSON envelopes. */
export const EVENTS_TOPIC = 'fieldhook/v1/events';

export interface BusConsumerOptions {
  url: string;
  username?: string;
  password?: string;
  /** Shared-subscription group so several dispatchers split the topic; null = plain subscription. */
  group?: string | null;
  clientId?: string;
}

export interface BusConsumer {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Accept events from the bus. The PUBACK is sent only after the outbox commit (mqtt.js sends it
 * when `handleMessage` calls back), so a crash before the commit makes the broker redeliver.
 * A malformed message is acknowledged and logged: redelivering it would not make it valid.
 * A redelivered event is a duplicate unless the publisher set its `id` (then it is accepted once).
 */
export function createBusConsumer(
  options: BusConsumerOptions,
  deps: { publish(input: PublishInput): Promise<PublishResult>; logger: Logger },
): BusConsumer {
  let client: MqttClient | null = null;
  const topic = options.group ? `$share/${options.group}/${EVENTS_TOPIC}` : EVENTS_TOPIC;
  return {
    async start() {
      client = mqtt.connect(options.url, {
        clientId: options.clientId ?? `fieldhook-dispatcher-${process.pid}`,
        clean: false,
        reconnectPeriod: 1000,
        ...(options.username ? { username: options.username } : {}),
        ...(options.password ? { password: options.password } : {}),
      });
      client.handleMessage = (packet, callback) => {
        let input: PublishInput;
        try {
          input = JSON.parse(packet.payload.toString()) as PublishInput;
        } catch {
          deps.logger.warn({ topic: packet.topic }, 'bus event is not JSON; dropped');
          return callback();
        }
        deps.publish(input).then(
          () => callback(),
          (err: { code?: string }) => {
            if (err.code === 'FH_ERR_WEBHOOK_INVALID_EVENT') {
              deps.logger.warn({ err }, 'bus event is invalid; dropped');
              return callback();
            }
            deps.logger.error({ err }, 'could not store bus event; the broker will redeliver it');
            callback(err as Error);
          },
        );
      };
      // Subscribing on every connect keeps the subscription after a broker restart without session.
      client.on('connect', () => client?.subscribe(topic, { qos: 1 }));
      client.on('error', (err) => deps.logger.warn({ err }, 'bus connection error'));
      await new Promise<void>((resolve) => client!.once('connect', () => resolve()));
    },
    async stop() {
      // Forced: an event whose commit has not been acknowledged is redelivered by the broker to
      // the next session (clean: false), which is at-least-once; waiting could hang on a broker
      // that is already gone.
      await client?.endAsync(true);
      client = null;
    },
  };
}
