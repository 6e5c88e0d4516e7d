import { abortable } from '../shared/abortable.js';
import type { Logger } from '../shared/logger.js';
import type { IngestMetrics } from './metrics.js';
import { createConsumerLoop } from './spool/consumer-loop.js';
import { BUS_CONSUMER, type Spool } from './spool/spool.js';

export type { BusReading } from '../shared/bus/payloads.js';

export interface BusPublisherOptions {
  /** Readings taken from the spool per round. Default 1,000. */
  batchReadings: number;
  /** Idle poll interval, ms. Default 1,000. */
  idlePollMs: number;
  /** Wait after a failed round, ms. Default 2,000. */
  retryDelayMs: number;
}

export const DEFAULT_BUS_PUBLISHER_OPTIONS: BusPublisherOptions = { batchReadings: 1_000, idlePollMs: 1_000, retryDelayMs: 2_000 };

export interface BusPublisher {
  start(): void;
  stop(): Promise<void>;
}

/** Publish one QoS 1 message; resolves when the broker has taken it. */
export type BusPublish = (topic: string, payload: string) => Promise<unknown>;

/**
 * Publishes durable readings to `fieldhook/v1/farms/{farm}/fields/{field}/readings` (QoS 1; the
 * payload is a JSON array of `BusReading`s of that field, see `bus-message.ts`, one message per
 * field and round of up to `batchReadings` readings) from its own spool cursor; the cursor moves only after the broker has acknowledged every message, so
 * a broker outage delays the predictor without losing its input.
 */
export function createBusPublisher(
  deps: { spool: Spool; publish: BusPublish; logger: Logger; metrics: IngestMetrics },
  options: Partial<BusPublisherOptions> = {},
): BusPublisher {
  const opts = { ...DEFAULT_BUS_PUBLISHER_OPTIONS, ...options };
  const { spool, publish, logger, metrics } = deps;

  async function round(signal: AbortSignal): Promise<boolean> {
    const records = await spool.read(BUS_CONSUMER, opts.batchReadings);
    if (records.length === 0) return false;
    // The messages were prepared when the readings were stored (one per field and record); the
    // round sends one per field, the records' arrays of readings joined without being parsed.
    const byTopic = new Map<string, string[]>();
    let published = 0;
    for (const record of records) {
      for (const [topic, payload] of JSON.parse(record.data) as [string, string][]) {
        const inner = payload.slice(1, -1);
        if (inner === '') continue;
        const parts = byTopic.get(topic);
        if (parts) parts.push(inner);
        else byTopic.set(topic, [inner]);
      }
      published += record.count;
    }
    const sends: Promise<unknown>[] = [];
    for (const [topic, parts] of byTopic) sends.push(publish(topic, `[${parts.join(',')}]`));
    await abortable(Promise.all(sends), signal);
    await spool.commit(BUS_CONSUMER, records.at(-1)!.seq);
    metrics.busPublished.inc(published);
    return true;
  }

  // Messages not yet acknowledged by the broker stay behind the cursor and are sent again later.
  const loop = createConsumerLoop(
    { spool, logger },
    { idlePollMs: opts.idlePollMs, retryDelayMs: opts.retryDelayMs, failureMessage: 'bus publish failed; will retry' },
    round,
  );
  return { start: () => loop.start(), stop: () => loop.stop() };
}
