import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Spool } from './spool/spool.js';

export type IngestMetrics = ReturnType<typeof createIngestMetrics>;

/**
 * Ingest metrics on an injected registry, so one process serves one `/metrics` for every part.
 * Gauges that describe the spool are computed at scrape time from the spool itself.
 */
export interface MetricSources {
  spool?: () => Spool | undefined;
  mqttLastMessageAgeMs?: () => number;
}

export function createIngestMetrics(registry: Registry, sources: MetricSources = {}) {
  const registers = [registry];
  const spool = sources.spool;
  return {
    accepted: new Counter({
      name: 'fieldhook_readings_accepted_total',
      help: 'Readings acknowledged (durable in the spool), by protocol',
      labelNames: ['protocol'],
      registers,
    }),
    refused: new Counter({
      name: 'fieldhook_readings_refused_total',
      help: 'Readings or requests refused, by error code',
      labelNames: ['code'],
      registers,
    }),
    duplicates: new Counter({
      name: 'fieldhook_readings_duplicate_total',
      help: 'Readings acknowledged as duplicates and not stored again',
      registers,
    }),
    ackSeconds: new Histogram({
      name: 'fieldhook_ingest_ack_seconds',
      help: 'Time from receiving a request or message to its acknowledgement',
      labelNames: ['protocol'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1],
      registers,
    }),
    influxWriteSeconds: new Histogram({
      name: 'fieldhook_influx_write_seconds',
      help: 'Latency of InfluxDB write requests',
      labelNames: ['outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers,
    }),
    influxWriteErrors: new Counter({
      name: 'fieldhook_influx_write_errors_total',
      help: 'Failed InfluxDB write requests, by HTTP status or network error code',
      labelNames: ['status'],
      registers,
    }),
    influxLinesWritten: new Counter({
      name: 'fieldhook_influx_lines_written_total',
      help: 'Lines InfluxDB accepted',
      registers,
    }),
    deadLettered: new Counter({
      name: 'fieldhook_dead_lettered_total',
      help: 'Lines InfluxDB refused permanently and moved to the dead-letter store',
      registers,
    }),
    busPublished: new Counter({
      name: 'fieldhook_bus_published_total',
      help: 'Readings handed on to the predictor: published on the bus, or taken directly by a predictor in this process',
      registers,
    }),
    mqttLastMessageAge: new Gauge({
      name: 'fieldhook_mqtt_last_message_age_seconds',
      help: 'Seconds since the MQTT consumer last received a message (-1 before the first)',
      registers,
      collect() {
        const ageMs = sources.mqttLastMessageAgeMs?.() ?? -1;
        this.set(ageMs < 0 ? -1 : ageMs / 1000);
      },
    }),
    spoolPendingBytes: new Gauge({
      name: 'fieldhook_spool_pending_bytes',
      help: 'Bytes in the spool not yet taken by every consumer',
      registers,
      collect() {
        const s = spool?.();
        if (s) this.set(s.pendingBytes());
      },
    }),
    spoolDepth: new Gauge({
      name: 'fieldhook_spool_depth_readings',
      help: 'Readings in the spool not yet taken, by consumer',
      labelNames: ['consumer'],
      registers,
      async collect() {
        const s = spool?.();
        if (!s) return;
        for (const [consumer, u] of Object.entries((await s.usage()).consumers)) this.set({ consumer }, u.pendingReadings);
      },
    }),
    spoolAge: new Gauge({
      name: 'fieldhook_spool_oldest_age_seconds',
      help: 'Age of the oldest reading not yet taken, by consumer',
      labelNames: ['consumer'],
      registers,
      async collect() {
        const s = spool?.();
        if (!s) return;
        for (const [consumer, u] of Object.entries((await s.usage()).consumers)) this.set({ consumer }, u.oldestAgeMs / 1000);
      },
    }),
    deadLetters: new Gauge({
      name: 'fieldhook_dead_letters',
      help: 'Lines in the dead-letter store',
      registers,
      async collect() {
        const s = spool?.();
        if (s) this.set((await s.usage()).deadLetters);
      },
    }),
  };
}
