/**
 * A live fleet of simulated fields pushing readings to the ingestor, for demos and load tests:
 * each device replays its field's simulated season on a clock that may run faster than real
 * time, but never past the present (an ingestor may rightly reject readings from the future).
 */
import type { Logger } from '../shared/logger.js';
import { silentLogger } from '../shared/logger.js';
import type { ClimateName } from './climates.js';
import { simulateField, type FieldRun } from './field-run.js';
import { createFieldSpecs, type FieldPopulation, type FieldSpec } from './fields.js';
import { sensorReadings, type NativeReading } from './sensors.js';
import type { ReadingTransport } from './transports.js';
import { addDays } from './weather.js';

export interface FleetOptions {
  /** Number of devices, one per field. */
  devices: number;
  seed: number | string;
  /**
   * Simulated time at start, epoch ms, replayed at `speedup`. Default: the last 3 days, sent at
   * once as a backfill (as far as `maxBatch` per push lets), then the fleet keeps to the present.
   */
  startMs?: number;
  /** Simulated seconds per wall-clock second, with `startMs`. Default 1. */
  speedup?: number;
  /** Wall-clock time between pushes, ms. Default 5 000. */
  intervalMs?: number;
  /** Most readings sent per device in one push. Default 500. */
  maxBatch?: number;
  /** Devices pushed concurrently. Default 16. */
  concurrency?: number;
  devicePrefix?: string;
  population?: FieldPopulation;
  /** Fields to play instead of drawing `devices` of them from `seed` and `population` (a designed farm). */
  specs?: readonly FieldSpec[];
  transport: ReadingTransport;
  logger?: Logger;
  /** Wall clock, ms; replaceable in tests. */
  now?: () => number;
}

export const DEFAULT_FLEET_OPTIONS = {
  speedup: 1,
  intervalMs: 5_000,
  maxBatch: 500,
  concurrency: 16,
  devicePrefix: 'sim',
  backfillMs: 3 * 86_400_000,
  population: {
    climates: ['humid', 'semi-arid', 'arid', 'mediterranean', 'continental', 'humid-subtropical'] satisfies ClimateName[],
    soils: ['sand', 'loamy-sand', 'sandy-loam', 'loam', 'silt-loam', 'clay-loam', 'clay'],
    crops: ['tomato', 'maize-field', 'maize-sweet', 'wheat-spring', 'potato', 'onion'],
  } satisfies FieldPopulation,
} as const;

export interface PushResult {
  /** Simulated time the push caught up to, epoch ms. */
  simulatedMs: number;
  sent: number;
  failedDevices: number;
}

export interface Fleet {
  readonly specs: readonly FieldSpec[];
  /** Push every reading that came due since the last push. */
  push(): Promise<PushResult>;
  /** Push every `intervalMs` until stopped. */
  start(): void;
  stop(): Promise<void>;
}

interface DeviceState {
  spec: FieldSpec;
  run: FieldRun;
  readings: NativeReading[];
  /** Index of the next reading to send. */
  next: number;
}

/** Build a fleet; nothing is sent before `push()` or `start()`. */
export function createFleet(options: FleetOptions): Fleet {
  const now = options.now ?? Date.now;
  const wallStart = now();
  const startMs = options.startMs ?? wallStart - DEFAULT_FLEET_OPTIONS.backfillMs;
  const speedup = options.speedup ?? DEFAULT_FLEET_OPTIONS.speedup;
  const maxBatch = options.maxBatch ?? DEFAULT_FLEET_OPTIONS.maxBatch;
  const concurrency = options.concurrency ?? DEFAULT_FLEET_OPTIONS.concurrency;
  const logger = options.logger ?? silentLogger();
  const startDate = new Date(startMs).toISOString().slice(0, 10);
  // Sow within the 60 days before the start so every season is under way.
  const specs = options.specs ?? createFieldSpecs({
    count: options.devices,
    seed: options.seed,
    population: options.population ?? DEFAULT_FLEET_OPTIONS.population,
    devicePrefix: options.devicePrefix ?? DEFAULT_FLEET_OPTIONS.devicePrefix,
    sowingWindow: { from: addDays(startDate, -60), days: 60 },
  });
  const devices: DeviceState[] = specs.map((spec) => {
    const run = simulateField(spec);
    const readings = sensorReadings(run);
    // Readings before the start are history the ingestor never saw: skip all but the backfill.
    const first = readings.findIndex((r) => Date.parse(r.ts) > startMs);
    return { spec, run, readings, next: first < 0 ? readings.length : first };
  });
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<PushResult> | undefined;

  async function pushDevice(d: DeviceState, until: number): Promise<number> {
    let end = d.next;
    while (end < d.readings.length && end - d.next < maxBatch && Date.parse(d.readings[end]!.ts) <= until) end++;
    if (end === d.next) return 0;
    await options.transport.send(d.spec.deviceId, d.readings.slice(d.next, end));
    const sent = end - d.next;
    d.next = end;
    return sent;
  }

  async function push(): Promise<PushResult> {
    const wall = now();
    // A backfill catches up at once: at 1× a clock three days behind would stay three days behind.
    const simulatedMs = options.startMs === undefined ? wall : Math.min(wall, startMs + (wall - wallStart) * speedup);
    let sent = 0;
    let failedDevices = 0;
    const queue = [...devices];
    await Promise.all(
      Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
        for (let d = queue.shift(); d; d = queue.shift()) {
          try {
            const n = await pushDevice(d, simulatedMs);
            sent += n;
          } catch (err) {
            // Unsent readings stay queued for the next push: the device retries like a real node.
            failedDevices++;
            logger.warn({ device: d.spec.deviceId, err: (err as Error).message }, 'push failed');
          }
        }
      }),
    );
    logger.info({ simulated: new Date(simulatedMs).toISOString(), sent, failedDevices }, 'fleet push');
    return { simulatedMs, sent, failedDevices };
  }

  return {
    specs,
    push,
    start() {
      if (timer) return;
      const interval = options.intervalMs ?? DEFAULT_FLEET_OPTIONS.intervalMs;
      const tick = () => {
        inFlight = push().finally(() => {
          inFlight = undefined;
          if (timer) timer = setTimeout(tick, interval);
        });
      };
      timer = setTimeout(tick, 0);
    },
    async stop() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      await inFlight;
      await options.transport.close();
    },
  };
}
