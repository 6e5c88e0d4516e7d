import { Counter, Gauge, type Registry } from 'prom-client';
import type { ForwardTarget } from './store.js';

export interface IrrigationMetrics {
  recorded(source: string): void;
}

/**
 * `fieldhook_irrigations_recorded_total{source}` and, read at scrape time,
 * `fieldhook_irrigations_unforwarded{target}`: records InfluxDB or the bus has not taken yet
 * (growing means that downstream is failing; nothing is dropped meanwhile).
 */
export function createIrrigationMetrics(registry: Registry, read: { backlog(): Promise<Record<ForwardTarget, number>> }): IrrigationMetrics {
  const recorded = new Counter({ name: 'fieldhook_irrigations_recorded_total', help: 'Irrigation records stored, by source', labelNames: ['source'], registers: [registry] });
  new Gauge({
    name: 'fieldhook_irrigations_unforwarded',
    help: 'Irrigation records not yet taken by a downstream (influx, bus)',
    labelNames: ['target'],
    registers: [registry],
    async collect() {
      for (const [target, n] of Object.entries(await read.backlog())) this.set({ target }, n);
    },
  });
  return { recorded: (source) => recorded.inc({ source }) };
}
