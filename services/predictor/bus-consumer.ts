/**
 * Readings from the bus into the window store. The PUBACK is sent only after the readings are
 * in the window (mqtt.js acknowledges when `handleMessage` calls back), so an acknowledged
 * reading is never missing from a prediction; evaluation happens afterwards, batched.
 */
import mqtt, { type MqttClient } from 'mqtt';
import type { BusReading } from '../ingestor/bus-publisher.js';
import type { Logger } from '../shared/logger.js';
import { TOPIC_ROOT, sharedSubscription } from '../shared/topics.js';
import type { WindowReading } from './window-store.js';

/** Every field's readings. */
export const ALL_FIELD_READINGS = `${TOPIC_ROOT}/farms/+/fields/+/readings`;

export interface PredictorBusOptions {
  url: string;
  username?: string;
  password?: string;
  /** Shared-subscription group (MQTT 5 brokers); null on the embedded broker, which has none. */
  group: string | null;
  clientId: string;
  /** 5 with an external broker, 4 (3.1.1) on the embedded one. Default 5. */
  protocolVersion?: 4 | 5;
}

export interface PredictorBusConsumer {
  start(): Promise<void>;
  stop(): Promise<void>;
  connected(): boolean;
}

/** Parse one bus message into readings per field key; malformed entries are skipped. */
export function parseBusMessage(payload: Buffer | string): Map<string, { farm: string; field: string; readings: WindowReading[] }> {
  const out = new Map<string, { farm: string; field: string; readings: WindowReading[] }>();
  const parsed = JSON.parse(payload.toString()) as unknown;
  const list = Array.isArray(parsed) ? (parsed as BusReading[]) : [parsed as BusReading];
  for (const r of list) {
    if (!r || typeof r.farm !== 'string' || typeof r.field !== 'string' || typeof r.values !== 'object' || r.values === null) continue;
    const ts = Date.parse(r.ts);
    if (!Number.isFinite(ts)) continue;
    const key = `${r.farm}/${r.field}`;
    let entry = out.get(key);
    if (!entry) out.set(key, (entry = { farm: r.farm, field: r.field, readings: [] }));
    entry.readings.push({ ts, values: r.values, ...(r.correlation_id ? { correlationId: r.correlation_id } : {}) });
  }
  return out;
}

export function createPredictorBusConsumer(
  options: PredictorBusOptions,
  deps: { apply(key: string, readings: WindowReading[]): void; logger: Logger },
): PredictorBusConsumer {
  let client: MqttClient | null = null;
  const topic = options.group ? sharedSubscription(options.group, ALL_FIELD_READINGS) : ALL_FIELD_READINGS;
  return {
    async start() {
      client = mqtt.connect(options.url, {
        clientId: options.clientId,
        clean: false,
        protocolVersion: options.protocolVersion ?? 5,
        // MQTT 5 sessions end with the connection unless told otherwise: keep queued readings a day.
        ...((options.protocolVersion ?? 5) === 5 ? { properties: { sessionExpiryInterval: 86_400 } } : {}),
        reconnectPeriod: 1_000,
        ...(options.username ? { username: options.username } : {}),
        ...(options.password ? { password: options.password } : {}),
      });
      client.handleMessage = (packet, callback) => {
        try {
          for (const [key, entry] of parseBusMessage(packet.payload)) deps.apply(key, entry.readings);
        } catch (err) {
          // Redelivering a malformed message would not make it valid: acknowledge and log.
          deps.logger.warn({ err, topic: packet.topic }, 'bus readings are malformed; dropped');
        }
        callback();
      };
      client.on('connect', () => client?.subscribe(topic, { qos: 1 }));
      client.on('error', (err) => deps.logger.warn({ err }, 'predictor bus connection error'));
      await new Promise<void>((resolve) => client!.once('connect', () => resolve()));
    },
    async stop() {
      await client?.endAsync(true);
      client = null;
    },
    connected: () => client?.connected === true,
  };
}
