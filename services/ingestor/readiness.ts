import type { ReadinessCheck } from '../shared/component.js';
import { pingInflux } from '../shared/influx.js';
import type { InfluxWriter } from './influx-writer.js';
import type { IngestService } from './ingest.js';
import type { Spool } from './spool/spool.js';

/** How long `/readyz` waits for InfluxDB's `/ping`, ms: a probe must answer quickly. */
export const INFLUX_PING_TIMEOUT_MS = 1_000;

/**
 * What the ingestor needs to do its job now: InfluxDB reachable and not refusing writes for a
 * reason of configuration (401/403/404: the detail names the setting to change, since those
 * never heal by waiting), the spool below its high-water mark, and the MQTT path up. An InfluxDB
 * that is down or slow keeps `writing: false` in the detail but only fails the check when `/ping`
 * gets no answer: the spool is absorbing that outage.
 */
export function ingestorReadiness(deps: {
  influxUrl: string;
  /** Sent with `/ping`: InfluxDB 3 asks for a token there by default. */
  influxToken?: string;
  writer: Pick<InfluxWriter, 'healthy' | 'lastSuccessAt' | 'refusal'>;
  spool: Pick<Spool, 'usage'>;
  ingest: Pick<IngestService, 'pressure'>;
  mqtt(): { ok: boolean; detail: Record<string, unknown> };
}): ReadinessCheck[] {
  const { writer, spool, ingest } = deps;
  return [
    {
      name: 'influxdb',
      check: async () => {
        const refusal = writer.refusal();
        const reachable = await pingInflux(deps.influxUrl, INFLUX_PING_TIMEOUT_MS, deps.influxToken);
        const detail: Record<string, unknown> = {
          // Not reached, not writing: before its first write failed the writer has nothing to say.
          writing: reachable && writer.healthy(),
          lastWriteAt: writer.lastSuccessAt() ? new Date(writer.lastSuccessAt()).toISOString() : null,
        };
        if (refusal) {
          detail.refused = { status: refusal.status, setting: refusal.setting, message: refusal.message, at: new Date(refusal.at).toISOString() };
        }
        return { ok: reachable && !refusal, detail };
      },
    },
    {
      name: 'spool',
      check: async () => ({ ok: ingest.pressure() === 'ok', detail: { ...(await spool.usage()), pressure: ingest.pressure() } }),
    },
    { name: 'mqtt', check: async () => deps.mqtt() },
  ];
}
