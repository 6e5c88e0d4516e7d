import { randomUUID } from 'node:crypto';
import type { DeviceWithSecret } from '../registry/device.js';
import type { IngestService } from './ingest.js';
import type { IngestMetrics } from './metrics.js';
import type { Refusal } from './reading.js';
import { Errors } from '../shared/error-catalog.js';

/** Why (part of) an MQTT message was refused; published on the device's errors topic. */
export type MqttRefusal = Refusal & { index?: number };

/**
 * Ingest one MQTT payload (one reading or an array) for an authenticated device. Resolves once
 * the good readings are durable: the caller acknowledges after it. Under backpressure it waits
 * before taking the message, so the PUBACK is withheld. Returns the refusals, if any.
 */
export async function ingestMqttMessage(
  deps: { ingest: IngestService; metrics: IngestMetrics },
  credential: DeviceWithSecret,
  payload: Buffer,
): Promise<MqttRefusal[]> {
  const stopTimer = deps.metrics.ackSeconds.startTimer({ protocol: 'mqtt' });
  try {
    let body: unknown;
    try {
      body = JSON.parse(payload.toString());
    } catch {
      deps.metrics.refused.inc({ code: Errors.httpMalformedJson.code });
      return [{ code: Errors.httpMalformedJson.code, message: 'Payload is not valid JSON' }];
    }
    await deps.ingest.waitForCapacity();
    const outcome = await deps.ingest.ingest({
      credential,
      items: Array.isArray(body) ? body : [body],
      correlationId: randomUUID(),
      protocol: 'mqtt',
    });
    return outcome.refused;
  } finally {
    stopTimer();
  }
}
