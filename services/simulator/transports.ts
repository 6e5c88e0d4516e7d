/**
 * How the simulated fleet reaches the ingestor: HTTP POST of native readings, or MQTT publishes
 * at QoS 1, each device authenticating as itself.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { request } from 'undici';
import { deviceReadingsTopic } from '../shared/bus/topics.js';
import type { NativeReading } from './sensors.js';

export interface ReadingTransport {
  /** Deliver one device's readings; resolves once the ingestor acknowledged them. */
  send(device: string, readings: readonly NativeReading[]): Promise<void>;
  close(): Promise<void>;
}

export interface HttpTransportOptions {
  /** Base URL of the ingestor, e.g. http://127.0.0.1:8080. */
  url: string;
  /** Device secret, sent as `Authorization: Bearer <secret>`. */
  secret: string | ((device: string) => string);
  /** Per-request timeout, ms. Default 10 000. */
  timeoutMs?: number;
}

export const DEFAULT_HTTP_TRANSPORT = { timeoutMs: 10_000 } as const;

/** POST `/v1/readings` with the device's readings as one JSON array. */
export function createHttpTransport(options: HttpTransportOptions): ReadingTransport {
  const endpoint = new URL('/v1/readings', options.url).toString();
  const secretOf = typeof options.secret === 'function' ? options.secret : () => options.secret as string;
  return {
    async send(device, readings) {
      const res = await request(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${secretOf(device)}` },
        body: JSON.stringify(readings),
        headersTimeout: options.timeoutMs ?? DEFAULT_HTTP_TRANSPORT.timeoutMs,
        bodyTimeout: options.timeoutMs ?? DEFAULT_HTTP_TRANSPORT.timeoutMs,
      });
      const text = await res.body.text();
      if (res.statusCode < 200 || res.statusCode >= 300) {
        throw new Error(`ingestor answered ${res.statusCode} for ${device}: ${text.slice(0, 200)}`);
      }
    },
    async close() {},
  };
}

export interface MqttTransportOptions {
  /** Broker URL, e.g. mqtt://127.0.0.1:1883. */
  url: string;
  /** Device secret, used as the MQTT password (username = device id). */
  secret: string | ((device: string) => string);
  /** Connect timeout, ms. Default 10 000. */
  connectTimeoutMs?: number;
}

export const DEFAULT_MQTT_TRANSPORT = { connectTimeoutMs: 10_000 } as const;

/** Readings topic of a device, from the bus contract. */
export const readingsTopic = deviceReadingsTopic;

/** One MQTT connection per device; each reading is one QoS 1 publish (acknowledged by PUBACK). */
export function createMqttTransport(options: MqttTransportOptions): ReadingTransport {
  const secretOf = typeof options.secret === 'function' ? options.secret : () => options.secret as string;
  const clients = new Map<string, Promise<MqttClient>>();
  const clientOf = (device: string) => {
    let client = clients.get(device);
    if (!client) {
      client = mqtt.connectAsync(options.url, {
        // Bound to the login: the embedded broker takes `<device id>` or `<device id>/…` only.
        clientId: `${device}/fieldhook-sim`,
        username: device,
        password: secretOf(device),
        connectTimeout: options.connectTimeoutMs ?? DEFAULT_MQTT_TRANSPORT.connectTimeoutMs,
        reconnectPeriod: 1_000,
        clean: true,
      });
      // A failed connection is retried on the next send rather than cached forever.
      client.catch(() => clients.delete(device));
      clients.set(device, client);
    }
    return client;
  };
  return {
    async send(device, readings) {
      const client = await clientOf(device);
      for (const reading of readings) {
        await client.publishAsync(readingsTopic(device), JSON.stringify(reading), { qos: 1 });
      }
    },
    async close() {
      const all = await Promise.allSettled(clients.values());
      await Promise.all(all.map((c) => (c.status === 'fulfilled' ? c.value.endAsync() : undefined)));
      clients.clear();
    },
  };
}
