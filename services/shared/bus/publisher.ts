import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from '../logger.js';
import { RECONNECT_PERIOD_MS, type BusConnection } from './connection.js';

export interface Publisher {
  /** Publish one QoS 1 message; resolves when the broker has taken it. */
  publish(topic: string, payload: string): Promise<unknown>;
  stop(): Promise<void>;
  connected(): boolean;
}

/**
 * A publishing connection to the bus. It keeps no session: what it has not had acknowledged stays
 * behind the publisher's own durable cursor (the spool) and is sent again.
 */
export function connectPublisher(connection: BusConnection, clientId: string, logger: Logger): Publisher {
  const client: MqttClient = mqtt.connect(connection.url, {
    clientId,
    protocolVersion: connection.protocolVersion,
    reconnectPeriod: RECONNECT_PERIOD_MS,
    ...(connection.username ? { username: connection.username } : {}),
    ...(connection.password ? { password: connection.password } : {}),
  });
  client.on('error', (err) => logger.warn({ err: err.message, clientId }, 'bus connection error'));
  // mqtt.js never settles a QoS 1 publish still waiting for its PUBACK when the client ends: what
  // waits on one (a forwarder's round, a component's stop) would wait for ever. Stopping rejects
  // them; the message stays behind its sender's cursor and goes out after the next start.
  const waiting = new Set<(err: Error) => void>();
  return {
    publish: (topic, payload) =>
      new Promise((resolve, reject) => {
        waiting.add(reject);
        client.publishAsync(topic, payload, { qos: 1 }).then(resolve, reject).finally(() => waiting.delete(reject));
      }),
    async stop() {
      await client.endAsync(true);
      for (const reject of waiting) reject(new Error(`bus publisher ${clientId} stopped before the broker took the message`));
      waiting.clear();
    },
    connected: () => client.connected,
  };
}
