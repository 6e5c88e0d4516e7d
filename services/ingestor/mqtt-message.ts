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
