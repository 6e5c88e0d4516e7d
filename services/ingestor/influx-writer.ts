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

/** One line to write, and where its reading is kept (record and position) should it be refused. */
interface Entry {
  line: string;
  seq: number;
  index: number;
  correlationId: string;
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

  async function post(lines: string[]): Promise<void> {
    // A write API per request: its own buffering and retries are off, ours govern.
    const api = deps.influx.getWriteApi(deps.org, deps.bucket, 'ms', {
      batchSize: lines.length + 1,
      flushInterval: 0,
      maxRetries: 0,
      gzipThreshold: opts.gzipThresholdBytes,
      writeFailed: (error) => Promise.reject(error),
    });
    const stopTimer = metrics.influxWriteSeconds.startTimer();
    try {
      api.writeRecords(lines);
      await api.flush();
      stopTimer({ outcome: 'ok' });
    } catch (err) {
      stopTimer({ outcome: 'error' });
      metrics.influxWriteErrors.inc({ status: err instanceof HttpError ? String(err.statusCode) : errorCode(err) });
      if (err instanceof HttpError) {
        const setting = settingForRefusal(err.statusCode, `${err.body ?? ''} ${err.message}`);
        refusal = setting ? { status: err.statusCode, setting, message: (err.body ?? err.message).slice(0, 300), at: Date.now() } : undefined;
      }
      throw err;
    } finally {
      await api.close().catch(() => undefined);
    }
  }

  /** Write entries; splits on 413 and isolates refused lines on 400/422. Throws when a retry is due. */
  async function write(entries: Entry[]): Promise<void> {
    try {
      await post(entries.map((e) => e.line));
      metrics.influxLinesWritten.inc(entries.length);
    } catch (err) {
      const status = err instanceof HttpError ? err.statusCode : 0;
      const refused = PERMANENT_STATUSES.includes(status);
      if ((refused || SPLIT_STATUSES.includes(status)) && entries.length > 1) {
        const half = Math.ceil(entries.length / 2);
        await write(entries.slice(0, half));
        await write(entries.slice(half));
        return;
      }
      if (refused) {
        const reason = (err as Error).message.slice(0, 500);
        logger.warn({ correlationId: entries[0]!.correlationId, status, reason }, 'InfluxDB refused a line: dead-lettered');
        // Lines and readings of a record are in the same order: the index finds the reading.
        const letters = await Promise.all(
          entries.map(async (e) => ({ correlationId: e.correlationId, reading: (await spool.readingsOf(e.seq))[e.index]!, status, reason })),
        );
        await spool.addDeadLetters(letters);
        metrics.deadLettered.inc(entries.length);
        return;
      }
      throw err;
    }
  }

  async function drainOnce(signal: AbortSignal): Promise<boolean> {
    const sleep = deps.sleep ?? ((ms: number) => abortableSleep(ms, signal));
    const records = await spool.read(INFLUX_CONSUMER, opts.batchLines);
    if (records.length === 0) return false;
    const entries: Entry[] = [];
    for (const record of records) {
      record.data.split('\n').forEach((line, index) => entries.push({ line, seq: record.seq, index, correlationId: record.correlationId }));
    }
    for (let attempt = 1; !signal.aborted; attempt++) {
      try {
        for (let i = 0; i < entries.length; i += opts.batchLines) await write(entries.slice(i, i + opts.batchLines));
        await spool.commit(INFLUX_CONSUMER, records.at(-1)!.seq);
        // The correlation ids tie these points back to the requests and messages that carried them.
        logger.debug({ correlationIds: records.map((r) => r.correlationId), lines: entries.length }, 'written to InfluxDB');
        lastSuccess = Date.now();
        failing = false;
        refusal = undefined;
        return true;
      } catch (err) {
        failing = true;
        const delay = retryDelayMs(err, attempt, opts, random);
        logger.warn({ err: describe(err), attempt, delayMs: delay, lines: entries.length }, 'InfluxDB write failed; will retry');
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
