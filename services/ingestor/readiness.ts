import type { ReadinessCheck } from '../shared/component.js';
import { pingInflux } from '../shared/influx.js';
import type { InfluxWriter } from './influx-writer.js';
import type { IngestService } from './ingest.js';
import type { Spool } from './spool/spool.js';

/** How long `/readyz` waits for InfluxDB's `/ping`, ms: a probe must answer quickly. */
export const INFLUX_PING_TIMEOUT_MS = 1_000;

/**
 * What the ingestor needs to do its job now: InfluxDB reachable (with whether writes succeed),
 * the spool below its high-water mark, and the MQTT path up.
 */
export function ingestorReadiness(deps: {
  influxUrl: string;
  writer: Pick<InfluxWriter, 'healthy' | 'lastSuccessAt'>;
  spool: Pick<Spool, 'usage'>;
  ingest: Pick<IngestService, 'pressure'>;
  mqtt(): { ok: boolean; detail: Record<string, unknown> };
}): ReadinessCheck[] {
  const { writer, spool, ingest } = deps;
  return [
    {
      name: 'influxdb',
      check: async () => ({
        ok: await pingInflux(deps.influxUrl, INFLUX_PING_TIMEOUT_MS),
        detail: { writing: writer.healthy(), lastWriteAt: writer.lastSuccessAt() ? new Date(writer.lastSuccessAt()).toISOString() : null },
      }),
    },
    {
      name: 'spool',
      check: async () => ({ ok: ingest.pressure() === 'ok', detail: { ...(await spool.usage()), pressure: ingest.pressure() } }),
    },
    { name: 'mqtt', check: async () => deps.mqtt() },
  ];
}
