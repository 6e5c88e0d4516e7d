import { randomUUID } from 'node:crypto';
import type { DeviceWithSecret } from '../registry/device.js';
import type { IngestService } from './ingest.js';
import type { IngestMetrics } from './metrics.js';
import type { Refusal } from './reading.js';
import { Errors } from '../shared/error-catalog.js';

/** Why (part of) an MQTT message was refused; published on the device's errors topic. */
export type MqttRefusal = Refusal & { index?: number };

/**
 * The limits of one MQTT message, the same as of one HTTP request: `INGEST_BODY_LIMIT_BYTES` and
 * `INGEST_MAX_BATCH`.
 */
export interface MqttMessageLimits {
  /** Largest payload, bytes: above it the message is refused without being parsed. */
  maxPayloadBytes: number;
  /** Most readings in one message. */
  maxBatchItems: number;
}

/**
 * Room above the payload limit for the rest of a packet (fixed header, topic, packet id, MQTT 5
 * properties), bytes: a packet larger than the payload limit plus this is never taken in.
 */
export const MQTT_PACKET_OVERHEAD_BYTES = 65_536;

/** The refusal of a payload of `bytes` bytes above the limit (it is never parsed). */
export function payloadTooLarge(metrics: IngestMetrics, bytes: number, limits: MqttMessageLimits): MqttRefusal[] {
  metrics.refused.inc({ code: Errors.ingestPayloadTooLarge.code });
  return [{ code: Errors.ingestPayloadTooLarge.code, message: `Payload of ${bytes} bytes is larger than ${limits.maxPayloadBytes} bytes` }];
}

/**
 * Ingest one MQTT payload (one reading or an array) for an authenticated device. Resolves once
 * the good readings are durable: the caller acknowledges after it. Under backpressure it waits
 * before taking the message, so the PUBACK is withheld. Returns the refusals, if any. A payload
 * above the byte limit is refused before `JSON.parse`, one with too many readings before any is
 * validated: the whole message is refused then, as an HTTP request would be (413).
 */
export async function ingestMqttMessage(
  deps: { ingest: IngestService; metrics: IngestMetrics },
  credential: DeviceWithSecret,
  payload: Buffer,
  limits: MqttMessageLimits,
): Promise<MqttRefusal[]> {
  const stopTimer = deps.metrics.ackSeconds.startTimer({ protocol: 'mqtt' });
  try {
    if (payload.length > limits.maxPayloadBytes) return payloadTooLarge(deps.metrics, payload.length, limits);
    let body: unknown;
    try {
      body = JSON.parse(payload.toString());
    } catch {
      deps.metrics.refused.inc({ code: Errors.httpMalformedJson.code });
      return [{ code: Errors.httpMalformedJson.code, message: 'Payload is not valid JSON' }];
    }
    const items = Array.isArray(body) ? body : [body];
    if (items.length > limits.maxBatchItems) {
      deps.metrics.refused.inc({ code: Errors.ingestBatchTooLarge.code });
      return [{ code: Errors.ingestBatchTooLarge.code, message: `At most ${limits.maxBatchItems} readings per message; this one holds ${items.length}` }];
    }
    await deps.ingest.waitForCapacity();
    const outcome = await deps.ingest.ingest({
      credential,
      items,
      correlationId: randomUUID(),
      protocol: 'mqtt',
    });
    return outcome.refused;
  } finally {
    stopTimer();
  }
}
