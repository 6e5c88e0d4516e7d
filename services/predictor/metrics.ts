import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { FieldOwnership } from './field-ownership.js';

export interface PredictorMetrics {
  /** One per field evaluation, by assessment kind. */
  evaluated(outcome: string): void;
  /** One per event published, by type. */
  published(type: string): void;
  /** Starts timing a round; call the result when it ends. */
  roundTimer(): () => void;
}

/**
 * The predictor's metrics; with `ownership`, also which partitions this instance holds
 * (`fieldhook_predict_partition_held{partition}` 1 for each, read at scrape time) and how many.
 */
export function createPredictorMetrics(registry: Registry, ownership?: Pick<FieldOwnership, 'held'>): PredictorMetrics {
  if (ownership) {
    new Gauge({
      name: 'fieldhook_predict_partition_held',
      help: 'Partitions of the fields this predictor evaluates (1 per partition held)',
      labelNames: ['partition'],
      registers: [registry],
      collect() {
        this.reset();
        for (const p of ownership.held()) this.set({ partition: String(p) }, 1);
      },
    });
    new Gauge({
      name: 'fieldhook_predict_partitions_held',
      help: 'How many partitions this predictor holds',
      registers: [registry],
      collect() {
        this.set(ownership.held().length);
      },
    });
  }
  const evaluations = new Counter({ name: 'fieldhook_predict_evaluations_total', help: 'Field evaluations', labelNames: ['outcome'], registers: [registry] });
  const events = new Counter({ name: 'fieldhook_predict_events_total', help: 'Events published by the predictor', labelNames: ['type'], registers: [registry] });
  const roundSeconds = new Histogram({
    name: 'fieldhook_predict_round_seconds',
    help: 'Duration of one evaluation round',
    buckets: [0.005, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  return {
    evaluated: (outcome) => evaluations.inc({ outcome }),
    published: (type) => events.inc({ type }),
    roundTimer: () => roundSeconds.startTimer(),
  };
}
