import { Counter, Histogram, type Registry } from 'prom-client';

export interface PredictorMetrics {
  /** One per field evaluation, by assessment kind. */
  evaluated(outcome: string): void;
  /** One per event published, by type. */
  published(type: string): void;
  /** Starts timing a round; call the result when it ends. */
  roundTimer(): () => void;
}

export function createPredictorMetrics(registry: Registry): PredictorMetrics {
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
