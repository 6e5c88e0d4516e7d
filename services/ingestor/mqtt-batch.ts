import { randomUUID } from 'node:crypto';
import type { DeviceWithSecret } from '../registry/device.js';
import { Errors } from '../shared/error-catalog.js';
import type { Logger } from '../shared/logger.js';
import type { IngestRequest, IngestService } from './ingest.js';
import type { IngestMetrics } from './metrics.js';
import { payloadTooLarge, type MqttMessageLimits, type MqttRefusal } from './mqtt-message.js';

/**
 * Called once per message, in the order messages were submitted: with the refusals (none when
 * every reading is durable or a duplicate), or with an error when the spool failed (nothing may
 * be acknowledged then).
 */
export type Settle = (err: Error | undefined, refused: MqttRefusal[]) => void;

export interface MqttBatcher {
  /** Take one message of an authenticated device; `settle` runs once it is durable or refused. */
  submit(credential: DeviceWithSecret, payload: Buffer, settle: Settle): void;
  /** Messages submitted and not yet settled. */
  pending(): number;
}

export interface MqttBatcherOptions {
  /**
   * Most messages in one append. A turn that brings more is cut into several appends, which the
   * spool commits back to back (group commit) while the next ones are prepared.
   */
  maxMessages: number;
}

export const DEFAULT_MQTT_BATCHER_OPTIONS: MqttBatcherOptions = { maxMessages: 500 };

interface Entry {
  credential: DeviceWithSecret;
  /** Emptied once read: a payload (and the socket chunk it is a slice of) is not held through the commit. */
  payload: Buffer;
  settle: Settle;
  at: number;
}

const NO_REFUSALS: MqttRefusal[] = [];
const READ = Buffer.alloc(0);

/**
 * Group commit for MQTT: every message submitted during one event-loop turn, from every
 * connection, becomes one spool append (one record, one fsync), and all of them settle together,
 * in submission order, once it is durable. A broker connection keeps many messages in flight and
 * sends their PUBACKs in receive order, so a commit holds as many messages as arrived meanwhile,
 * not one per connection. Under backpressure the batch waits before it is appended: its
 * PUBACKs are withheld and the broker's in-flight window fills.
 */
export function createMqttBatcher(
  deps: { ingest: IngestService; metrics: IngestMetrics; limits: MqttMessageLimits; logger?: Logger },
  options: Partial<MqttBatcherOptions> = {},
): MqttBatcher {
  const { ingest, metrics, limits } = deps;
  const { maxMessages } = { ...DEFAULT_MQTT_BATCHER_OPTIONS, ...options };
  const ackSeconds = metrics.ackSeconds.labels({ protocol: 'mqtt' });
  let queue: Entry[] = [];
  let scheduled = false;
  let inFlight = 0;

  /** The readings of one payload, or why the whole message is refused (never parsed past its limits). */
  function read(payload: Buffer): { items: unknown[] } | { refused: MqttRefusal[] } {
    if (payload.length > limits.maxPayloadBytes) return { refused: payloadTooLarge(metrics, payload.length, limits) };
    let body: unknown;
    try {
      body = JSON.parse(payload.toString('utf8'));
    } catch {
      metrics.refused.inc({ code: Errors.httpMalformedJson.code });
      return { refused: [{ code: Errors.httpMalformedJson.code, message: 'Payload is not valid JSON' }] };
    }
    const items = Array.isArray(body) ? body : [body];
    // As over HTTP: an empty array is a mistake the device should hear about, not an acknowledged nothing.
    if (items.length === 0) {
      metrics.refused.inc({ code: Errors.ingestEmptyBatch.code });
      return { refused: [{ code: Errors.ingestEmptyBatch.code, message: 'Send one reading or a non-empty array' }] };
    }
    if (items.length > limits.maxBatchItems) {
      metrics.refused.inc({ code: Errors.ingestBatchTooLarge.code });
      return { refused: [{ code: Errors.ingestBatchTooLarge.code, message: `At most ${limits.maxBatchItems} readings per message; this one holds ${items.length}` }] };
    }
    return { items };
  }

  async function run(batch: Entry[]): Promise<void> {
    const requests: Omit<IngestRequest, 'onceKey' | 'correlationId'>[] = [];
    /** Per entry: the index of its request, or the refusal of the whole message. */
    const plan: (number | MqttRefusal[])[] = [];
    for (const entry of batch) {
      const message = read(entry.payload);
      entry.payload = READ;
      if ('refused' in message) {
        plan.push(message.refused);
      } else {
        plan.push(requests.length);
        requests.push({ credential: entry.credential, items: message.items, protocol: 'mqtt' });
      }
    }
    let outcomes: Awaited<ReturnType<IngestService['ingestMany']>> = [];
    try {
      if (ingest.pressure() !== 'ok') await ingest.waitForCapacity();
      if (requests.length > 0) outcomes = await ingest.ingestMany(requests, randomUUID());
    } catch (err) {
      for (const entry of batch) settleOne(entry, err as Error, NO_REFUSALS);
      return;
    }
    const done = performance.now();
    for (let i = 0; i < batch.length; i++) {
      const entry = batch[i]!;
      const step = plan[i]!;
      ackSeconds.observe((done - entry.at) / 1000);
      const outcome = typeof step === 'number' ? outcomes[step] : undefined;
      if (typeof step === 'number' && !outcome) settleOne(entry, new Error('spool answered fewer outcomes than requests'), NO_REFUSALS);
      else settleOne(entry, undefined, outcome ? (outcome.refused as MqttRefusal[]) : (step as MqttRefusal[]));
    }
  }

  /**
   * One entry's callback. A callback that throws must not keep the entries after it from settling
   * (their PUBACKs would never leave, and a paused connection would stay paused).
   */
  function settleOne(entry: Entry, err: Error | undefined, refused: readonly MqttRefusal[]): void {
    try {
      entry.settle(err, refused as MqttRefusal[]);
    } catch (thrown) {
      deps.logger?.error({ err: thrown }, 'MQTT settle callback failed; the other messages of its batch settle');
    }
  }

  function flush(): void {
    scheduled = false;
    if (queue.length === 0) return;
    const batch = queue;
    queue = [];
    const settled = () => (inFlight -= batch.length);
    run(batch).then(settled, (err: unknown) => {
      settled();
      deps.logger?.error({ err }, 'MQTT batch failed');
    });
  }

  return {
    submit(credential, payload, settle) {
      queue.push({ credential, payload, settle, at: performance.now() });
      inFlight++;
      // A full batch leaves at once: the spool commits it while the next one is read and
      // prepared, and its PUBACKs let the devices send more sooner.
      if (queue.length >= maxMessages) return flush();
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    pending: () => inFlight,
  };
}
