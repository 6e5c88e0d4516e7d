import type { BusReading } from '../shared/bus/payloads.js';
import type { NormalizedReading } from './reading.js';

/** A stored reading as the bus carries it to the predictor. */
export function toBusReading(r: NormalizedReading, correlationId: string): BusReading {
  return {
    device: r.device,
    farm: r.farm,
    field: r.field,
    ...(r.id !== undefined ? { id: r.id } : {}),
    ts: new Date(r.ts).toISOString(),
    values: r.values,
    correlation_id: correlationId,
  };
}
