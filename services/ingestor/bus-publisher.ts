import { abortable } from '../shared/abortable.js';
import { fieldKeyOfReadingsTopic, parseReadingBatch, type FieldReadings } from '../shared/bus/index.js';
import type { LocalReadings } from '../shared/bus/local-readings.js';
import type { Logger } from '../shared/logger.js';
import type { IngestMetrics } from './metrics.js';
import { createConsumerLoop } from './spool/consumer-loop.js';
import { BUS_CONSUMER, type Spool, type SpoolRecord } from './spool/spool.js';

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
  /**
   * Before the InfluxDB writer starts: pins what a predictor in this process is to be handed
   * again after a restart (the records the writer has not written), and tells it to wait for them.
   */
  prepare(): Promise<void>;
  start(): void;
  stop(): Promise<void>;
}

/** Publish one QoS 1 message; resolves when the broker has taken it. */
export type BusPublish = (topic: string, payload: string) => Promise<unknown>;

/**
 * Hands durable readings on from the spool's own bus cursor, one round of up to `batchReadings`
 * readings at a time: the fields a predictor in this process evaluates go to it directly
 * (`local`), every other field to `fieldhook/v1/farms/{farm}/fields/{field}/readings` on the
 * broker (QoS 1; the payload is a JSON array of `BusReading`s of that field, see
 * `bus-message.ts`, one message per field and round). The cursor moves only after the predictor
 * has taken its readings and the broker has acknowledged every message, so neither a crash nor a
 * broker outage loses the predictor's input.
 */
export function createBusPublisher(
  deps: { spool: Spool; publish: BusPublish; local?: LocalReadings | undefined; logger: Logger; metrics: IngestMetrics },
  options: Partial<BusPublisherOptions> = {},
): BusPublisher {
  const opts = { ...DEFAULT_BUS_PUBLISHER_OPTIONS, ...options };
  const { spool, publish, local, logger, metrics } = deps;

  /**
   * The records' readings as one message per field: each reading's bus JSON and topic were
   * prepared when it was stored, joined here without being parsed.
   */
  function byField(records: readonly SpoolRecord[]): Map<string, string> {
    const byTopic = new Map<string, string[]>();
    const add = (topic: string, json: string) => {
      const parts = byTopic.get(topic);
      if (parts) parts.push(json);
      else byTopic.set(topic, [json]);
    };
    for (const record of records) {
      if (record.topics !== undefined) {
        const topics = record.topics.split('\n');
        const items = record.data.split('\n');
        for (let i = 0; i < topics.length; i++) if (items[i]) add(topics[i]!, items[i]!);
      } else {
        // Spooled by an earlier version: one message per field, a JSON array of readings each.
        for (const [topic, payload] of JSON.parse(record.data) as [string, string][]) {
          const inner = payload.slice(1, -1);
          if (inner !== '') add(topic, inner);
        }
      }
    }
    return new Map([...byTopic].map(([topic, parts]) => [topic, `[${parts.join(',')}]`]));
  }

  /** The part of a round this process evaluates (no broker round trip, no second parse in a subscriber); undefined: none. */
  function localPart(payload: string, taken: Map<string, FieldReadings> | undefined): Map<string, FieldReadings> | undefined {
    for (const [k, entry] of parseReadingBatch(payload)) {
      taken ??= new Map();
      const held = taken.get(k);
      if (held) held.readings.push(...entry.readings);
      else taken.set(k, entry);
    }
    return taken;
  }

  const owned = (topic: string) => {
    const key = local ? fieldKeyOfReadingsTopic(topic) : undefined;
    return key !== undefined && local!.owns(key);
  };

  /**
   * What the bus cursor handed to this process's predictor before a restart and the InfluxDB
   * writer has not written yet: the predictor rebuilt its windows from InfluxDB, which does not
   * have them (InfluxDB away, or just behind), and the cursor will not hand them over again. The
   * range is pinned before the writer starts (`prepare`), so the records stay while the writer
   * passes them, and goes to the predictor before its first round, oldest first as stored (its
   * windows merge what they already hold; of two readings at one instant the later wins, as in
   * InfluxDB).
   */
  let pinned: { afterSeq: number; untilSeq: number } | undefined;
  async function prepare(): Promise<void> {
    if (!local) return;
    local.expectHandBack();
    pinned = await spool.pinUnwrittenBus();
  }
  async function handBackUnwritten(range: { afterSeq: number; untilSeq: number }, signal: AbortSignal): Promise<void> {
    for (let after = range.afterSeq; after < range.untilSeq; ) {
      const records = await spool.readBusRange(after, range.untilSeq, opts.batchReadings);
      if (records.length === 0) break;
      let taken: Map<string, FieldReadings> | undefined;
      for (const [topic, payload] of byField(records)) if (owned(topic)) taken = localPart(payload, taken);
      if (taken) await abortable(local!.handBack(taken), signal);
      after = records.at(-1)!.seq;
    }
    local!.handedBack();
    await spool.unpin();
  }

  async function round(signal: AbortSignal): Promise<boolean> {
    if (pinned) {
      await handBackUnwritten(pinned, signal);
      pinned = undefined;
    }
    const records = await spool.read(BUS_CONSUMER, opts.batchReadings);
    if (records.length === 0) return false;
    const sends: Promise<unknown>[] = [];
    let taken: Map<string, FieldReadings> | undefined;
    for (const [topic, payload] of byField(records)) {
      if (owned(topic)) taken = localPart(payload, taken);
      else sends.push(publish(topic, payload));
    }
    if (taken) sends.push(local!.take(taken));
    await abortable(Promise.all(sends), signal);
    await spool.commit(BUS_CONSUMER, records.at(-1)!.seq);
    metrics.busPublished.inc(records.reduce((n, r) => n + r.count, 0));
    return true;
  }

  // Messages not yet acknowledged by the broker stay behind the cursor and are sent again later.
  const loop = createConsumerLoop(
    { spool, logger },
    { idlePollMs: opts.idlePollMs, retryDelayMs: opts.retryDelayMs, failureMessage: 'bus publish failed; will retry' },
    round,
  );
  return { prepare, start: () => loop.start(), stop: () => loop.stop() };
}
