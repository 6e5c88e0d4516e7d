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
  return {
    publish: (topic, payload) => client.publishAsync(topic, payload, { qos: 1 }),
    stop: () => client.endAsync(true),
    connected: () => client.connected,
  };
}
