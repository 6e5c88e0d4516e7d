import type { NormalizedReading } from '../reading.js';

/**
 * A group of readings acknowledged together (one request or one MQTT message), as one consumer
 * takes it: already in the form that consumer sends on, prepared when it was appended, so the
 * consumers themselves parse nothing.
 */
export interface SpoolRecord {
  seq: number;
  createdAt: number;
  correlationId: string;
  /** Number of readings. */
  count: number;
  /**
   * For the InfluxDB writer: line protocol, one line per reading (in reading order).
   * For the bus: each reading's `BusReading` JSON, one per line (in reading order), with
   * `topics`; a record spooled by an earlier version has no `topics` and holds a JSON array of
   * `[topic, payload]` messages here.
   */
  data: string;
  /** For the bus: each reading's field readings topic, one per line, beside `data`. */
  topics?: string;
}

export interface AppendRequest {
  readings: NormalizedReading[];
  correlationId: string;
  /**
   * A request-level id that may be used only once (a signed request's `webhook-id`): when it was
   * seen before, nothing is stored and `replayed` is true.
   */
  onceKey?: { device: string; key: string };
}

export interface AppendResult {
  /** Per reading of the request: true when stored, false when it was a duplicate. */
  stored: boolean[];
  replayed: boolean;
}

export interface DeadLetter {
  id: number;
  createdAt: number;
  correlationId: string;
  reading: NormalizedReading;
  status: number;
  reason: string;
}

export interface SpoolUsage {
  /** Bytes of records not yet taken by every consumer. */
  pendingBytes: number;
  /** Per consumer: readings not yet taken, and the age of the oldest of them (ms). */
  consumers: Record<string, { pendingReadings: number; oldestAgeMs: number }>;
  deadLetters: number;
}

/**
 * The durable log between acknowledgement and every downstream. An append resolves only once
 * the readings are on disk; each consumer reads from its own durable cursor, so a slow or dead
 * downstream delays only itself, and a restart resumes where each left off.
 */
export interface Spool {
  append(request: AppendRequest): Promise<AppendResult>;
  /** Records after the consumer's cursor, up to about `maxReadings` readings (at least one record). */
  read(consumer: string, maxReadings: number): Promise<SpoolRecord[]>;
  /**
   * The records the bus consumer has passed and the InfluxDB writer has not yet (seq in
   * (afterSeq, untilSeq]): what a predictor in this process was handed before a restart and cannot
   * read back from InfluxDB yet. They are kept, as the writer passes them, until {@link unpin}.
   */
  pinUnwrittenBus(): Promise<{ afterSeq: number; untilSeq: number }>;
  /** Records with seq in (afterSeq, untilSeq] in the bus's form, oldest first (about `maxReadings` readings, at least one record). */
  readBusRange(afterSeq: number, untilSeq: number, maxReadings: number): Promise<SpoolRecord[]>;
  /** Let the pinned records go (deleted once every consumer has passed them). */
  unpin(): Promise<void>;
  /** The readings of one record, in order (to dead-letter exactly the ones InfluxDB refused). */
  readingsOf(seq: number): Promise<NormalizedReading[]>;
  /** Move the consumer's cursor past `seq`; records every consumer has passed are deleted. */
  commit(consumer: string, seq: number): Promise<void>;
  /** Bytes of records not yet taken by every consumer: cheap, read on every request. */
  pendingBytes(): number;
  /** Per-consumer depth and age: a query, meant for scrapes and readiness. */
  usage(): Promise<SpoolUsage>;
  addDeadLetters(letters: Omit<DeadLetter, 'id' | 'createdAt'>[]): Promise<void>;
  listDeadLetters(limit: number): Promise<DeadLetter[]>;
  /** Move dead letters back into the log for the InfluxDB writer; returns how many. */
  requeueDeadLetters(ids?: number[]): Promise<number>;
  /** Forget de-duplication keys older than the window. */
  pruneDedup(olderThanMs: number): Promise<number>;
  /** Resolves on the next append (or after `timeoutMs`): lets consumers sleep when idle. */
  waitForAppend(timeoutMs: number): Promise<void>;
  close(): void;
}

/** Message ids are remembered at least this long, ms (72 h): a shorter de-duplication window is refused. */
export const MIN_DEDUP_WINDOW_MS = 72 * 3_600_000;

/** Defaults of the spool's housekeeping. */
export const DEFAULT_SPOOL_OPTIONS: Readonly<{
  /** How long a message id is remembered before {@link Spool.pruneDedup} forgets it, ms. */
  dedupWindowMs: number;
}> = Object.freeze({ dedupWindowMs: MIN_DEDUP_WINDOW_MS });

/** Consumer names: one cursor each. A record with `only` set is for that consumer alone. */
export const INFLUX_CONSUMER = 'influx';
export const BUS_CONSUMER = 'bus';
