import { HttpError, type InfluxDB } from '@influxdata/influxdb-client';
import { sleep as abortableSleep } from '../shared/abortable.js';
import { settingForRefusal, type InfluxSetting } from '../shared/influx-server.js';
import type { Logger } from '../shared/logger.js';
import type { IngestMetrics } from './metrics.js';
import { createConsumerLoop } from './spool/consumer-loop.js';
import { INFLUX_CONSUMER, type Spool } from './spool/spool.js';

/** Statuses that mean "these lines will never be accepted": they go to the dead-letter store. */
export const PERMANENT_STATUSES: readonly number[] = [400, 422];
/** Statuses that mean "too big": the batch is split in half and both halves are sent. */
export const SPLIT_STATUSES: readonly number[] = [413];
// Everything else (network errors, 401/403/404 while an operator fixes a token or creates a
// database, 429, 5xx) is retried with backoff for as long as it takes: the spool holds the lines.
// 401/403/404 are also reported as a set-up refusal (`refusal()`), which fails `/readyz`.

/** A write InfluxDB refused for a reason of configuration, and the setting to change. */
export interface InfluxRefusal {
  status: number;
  setting: InfluxSetting;
  /** InfluxDB's answer, shortened. */
  message: string;
  /** Epoch ms of the refusal. */
  at: number;
}

export interface InfluxWriterOptions {
  /** Most lines in one write request. Default 5,000. */
  batchLines: number;
  /** Bodies larger than this are gzipped, bytes. Default 1,000. */
  gzipThresholdBytes: number;
  /** First retry delay, ms; doubles per failure up to `retryMaxMs`. Defaults 1,000 / 60,000. */
  retryMinMs: number;
  retryMaxMs: number;
  /** Idle poll interval when the spool is empty, ms. Default 1,000. */
  idlePollMs: number;
}

export const DEFAULT_INFLUX_WRITER_OPTIONS: InfluxWriterOptions = {
  batchLines: 5_000,
  gzipThresholdBytes: 1_000,
  retryMinMs: 1_000,
  retryMaxMs: 60_000,
  idlePollMs: 1_000,
};

export interface InfluxWriterDeps {
  spool: Spool;
  influx: InfluxDB;
  org: string;
  bucket: string;
  logger: Logger;
  metrics: IngestMetrics;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export interface InfluxWriter {
  start(): void;
  /** Finish the batch in flight (or give up its retry wait) and stop. */
  stop(): Promise<void>;
  /** Time of the last successful write, ms epoch (0 before the first). */
  lastSuccessAt(): number;
  /** False while writes are failing (InfluxDB down or refusing): the spool is absorbing an outage. */
  healthy(): boolean;
  /** The last write refused for a configuration reason (401, 403, 404), until a write succeeds. */
  refusal(): InfluxRefusal | undefined;
}

/**
 * Consecutive lines of one spool record, kept as the text they were spooled as (no object per
 * line): `count` lines from line `first` of record `seq`. A write body is its chunks' texts
 * joined; a chunk is cut into its lines only when InfluxDB refuses part of a batch.
 */
interface Chunk {
  seq: number;
  correlationId: string;
  first: number;
  count: number;
  text: string;
}

function linesIn(chunks: readonly Chunk[]): number {
  let n = 0;
  for (const c of chunks) n += c.count;
  return n;
}

/** Chunks split after their first `lines` lines, cutting the chunk that straddles the boundary. */
function splitChunks(chunks: readonly Chunk[], lines: number): [Chunk[], Chunk[]] {
  const head: Chunk[] = [];
  let k = 0;
  for (; k < chunks.length && lines > 0; k++) {
    const c = chunks[k]!;
    if (c.count <= lines) {
      head.push(c);
      lines -= c.count;
      continue;
    }
    const parts = c.text.split('\n');
    head.push({ ...c, count: lines, text: parts.slice(0, lines).join('\n') });
    const rest = { ...c, first: c.first + lines, count: c.count - lines, text: parts.slice(lines).join('\n') };
    return [head, [rest, ...chunks.slice(k + 1)]];
  }
  return [head, chunks.slice(k)];
}

/** Delay before retry `attempt` (1-based): exponential with ±20 % jitter, or the server's Retry-After. */
export function retryDelayMs(err: unknown, attempt: number, options: InfluxWriterOptions, random: () => number): number {
  if (err instanceof HttpError && err.retryAfter() > 0) return err.retryAfter() * 1000;
  const base = Math.min(options.retryMaxMs, options.retryMinMs * 2 ** (attempt - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}

/**
 * Drains the spool into InfluxDB through the v2 write API. Records leave the spool only when
 * every line in them was written or moved to the dead-letter store.
 */
export function createInfluxWriter(deps: InfluxWriterDeps, options: Partial<InfluxWriterOptions> = {}): InfluxWriter {
  const opts = { ...DEFAULT_INFLUX_WRITER_OPTIONS, ...options };
  const { spool, logger, metrics } = deps;
  const random = deps.random ?? Math.random;
  let lastSuccess = 0;
  let failing = false;
  let refusal: InfluxRefusal | undefined;

  // The v2 write endpoint (InfluxDB 1.8+ answers it too), through the client's transport: the
  // body is the spooled lines as they are, gzipped above the threshold; no retries but ours.
  const writePath = `/api/v2/write?org=${encodeURIComponent(deps.org)}&bucket=${encodeURIComponent(deps.bucket)}&precision=ms`;
  const sendOptions = { method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8' }, gzipThreshold: opts.gzipThresholdBytes };

  async function post(body: string): Promise<void> {
    const stopTimer = metrics.influxWriteSeconds.startTimer();
    try {
      await deps.influx.transport.request(writePath, body, sendOptions);
      stopTimer({ outcome: 'ok' });
    } catch (err) {
      stopTimer({ outcome: 'error' });
      metrics.influxWriteErrors.inc({ status: err instanceof HttpError ? String(err.statusCode) : errorCode(err) });
      if (err instanceof HttpError) {
        const setting = settingForRefusal(err.statusCode, `${err.body ?? ''} ${err.message}`);
        refusal = setting ? { status: err.statusCode, setting, message: (err.body ?? err.message).slice(0, 300), at: Date.now() } : undefined;
      }
      throw err;
    }
  }

  /** Write chunks; splits on 413 and isolates refused lines on 400/422. Throws when a retry is due. */
  async function write(chunks: Chunk[]): Promise<void> {
    const lines = linesIn(chunks);
    try {
      await post(chunks.length === 1 ? chunks[0]!.text : chunks.map((c) => c.text).join('\n'));
      metrics.influxLinesWritten.inc(lines);
    } catch (err) {
      const status = err instanceof HttpError ? err.statusCode : 0;
      const refused = PERMANENT_STATUSES.includes(status);
      if ((refused || SPLIT_STATUSES.includes(status)) && lines > 1) {
        const [head, tail] = splitChunks(chunks, Math.ceil(lines / 2));
        await write(head);
        await write(tail);
        return;
      }
      if (refused) {
        const chunk = chunks[0]!;
        const reason = (err as Error).message.slice(0, 500);
        logger.warn({ correlationId: chunk.correlationId, status, reason }, 'InfluxDB refused a line: dead-lettered');
        // Lines and readings of a record are in the same order: the line's index finds the reading.
        const reading = (await spool.readingsOf(chunk.seq))[chunk.first]!;
        await spool.addDeadLetters([{ correlationId: chunk.correlationId, reading, status, reason }]);
        metrics.deadLettered.inc(1);
        return;
      }
      throw err;
    }
  }

  async function drainOnce(signal: AbortSignal): Promise<boolean> {
    const sleep = deps.sleep ?? ((ms: number) => abortableSleep(ms, signal));
    const records = await spool.read(INFLUX_CONSUMER, opts.batchLines);
    if (records.length === 0) return false;
    const chunks: Chunk[] = records.map((r) => ({ seq: r.seq, correlationId: r.correlationId, first: 0, count: r.count, text: r.data }));
    const lines = linesIn(chunks);
    for (let attempt = 1; !signal.aborted; attempt++) {
      try {
        // Requests of at most batchLines lines (a record larger than that is cut).
        for (let rest = chunks; rest.length > 0; ) {
          const [batch, after] = splitChunks(rest, opts.batchLines);
          await write(batch);
          rest = after;
        }
        await spool.commit(INFLUX_CONSUMER, records.at(-1)!.seq);
        // The correlation ids tie these points back to the requests and messages that carried them.
        logger.debug({ correlationIds: records.map((r) => r.correlationId), lines }, 'written to InfluxDB');
        lastSuccess = Date.now();
        failing = false;
        refusal = undefined;
        return true;
      } catch (err) {
        failing = true;
        const delay = retryDelayMs(err, attempt, opts, random);
        logger.warn({ err: describe(err), attempt, delayMs: delay, lines }, 'InfluxDB write failed; will retry');
        await sleep(delay);
      }
    }
    return false;
  }

  const loop = createConsumerLoop(
    { spool, logger },
    { idlePollMs: opts.idlePollMs, retryDelayMs: opts.retryMinMs, failureMessage: 'InfluxDB writer failed; restarting its loop' },
    drainOnce,
  );

  return {
    start: () => loop.start(),
    // Finishes the batch in flight (or gives up its retry wait); what is not committed stays spooled.
    stop: () => loop.stop(),
    lastSuccessAt: () => lastSuccess,
    healthy: () => !failing,
    refusal: () => refusal,
  };
}

function errorCode(err: unknown): string {
  return (err as { code?: string }).code ?? 'unknown';
}

function describe(err: unknown): Record<string, unknown> {
  if (err instanceof HttpError) return { status: err.statusCode, message: err.message.slice(0, 300) };
  return { code: errorCode(err), message: (err as Error).message };
}
