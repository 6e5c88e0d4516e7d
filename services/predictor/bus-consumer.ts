/**
 * Readings from the bus into the window store. The PUBACK is sent only after the readings are
 * in the window, so an acknowledged reading is never missing from a prediction; evaluation
 * happens afterwards, batched.
 */
import { ALL_FIELD_READINGS, InvalidBusMessage, connectSubscriber, parseReadingBatch, type BusConnection, type FieldReadings, type Subscriber } from '../shared/bus/index.js';
import type { Logger } from '../shared/logger.js';
import type { LocalReadings } from '../shared/bus/local-readings.js';
import type { WindowReading } from './window-store.js';

export interface PredictorBusOptions {
  /** Stable per instance (persistent session). */
  clientId: string;
  /** Shared-subscription group of this partition's instances. */
  group: string;
}

export const DEFAULT_PREDICTOR_BUS_OPTIONS: Readonly<PredictorBusOptions> = Object.freeze({
  clientId: 'fieldhook-predict',
  /** With several partitions, partition `p` of `n` subscribes in group `<group>-<p>of<n>` (partition.ts). */
  group: 'fieldhook-predict',
});

export function createPredictorBusConsumer(
  connection: BusConnection,
  deps: { apply(key: string, readings: WindowReading[]): void; logger: Logger },
  options: PredictorBusOptions,
): Subscriber {
  return connectSubscriber(
    connection,
    { clientId: options.clientId, group: options.group, filter: ALL_FIELD_READINGS },
    (packet) => {
      let batch: ReturnType<typeof parseReadingBatch>;
      try {
        batch = parseReadingBatch(packet.payload);
      } catch (err) {
        throw new InvalidBusMessage(`bus readings are not JSON: ${(err as Error).message}`);
      }
      for (const [key, entry] of batch) deps.apply(key, entry.readings);
    },
    deps.logger,
  );
}

/**
 * The same readings when the ingestor runs in this process: its spool's bus cursor hands them over
 * directly (no broker round trip, no second parse). They are applied like a bus message's, and
 * `take` resolves only once their fields have been evaluated, so the cursor that stands behind
 * them moves after the evaluation: a crash before it feeds them again after the restart. Before the
 * predictor has started (windows rebuilt from InfluxDB) a round waits; once it stops, rounds are
 * refused and wait in the spool.
 */
export function createLocalReadings(deps: {
  owns(key: string): boolean;
  /** Into the windows; `evaluate`: the fields are evaluated in the next round of arriving readings. */
  apply(key: string, readings: WindowReading[], evaluate: boolean): void;
  started(): boolean;
  startedOnce: Promise<void>;
  evaluated(): Promise<void>;
  /** The hand-back after a restart: announced, and over. */
  handBack: { expect(): void; over(): void };
}): LocalReadings {
  const taking = async (batch: ReadonlyMap<string, FieldReadings>, evaluate: boolean) => {
    await deps.startedOnce;
    if (!deps.started()) throw new Error('the predictor has stopped; the readings stay in the spool');
    for (const [key, entry] of batch) deps.apply(key, entry.readings, evaluate);
  };
  return {
    owns: deps.owns,
    async take(batch) {
      await taking(batch, true);
      await deps.evaluated();
    },
    expectHandBack: () => deps.handBack.expect(),
    handBack: (batch) => taking(batch, false),
    handedBack: () => deps.handBack.over(),
  };
}
