import type { FieldReadings } from './payloads.js';

/**
 * Field readings handed over inside one process instead of through the broker: when the predictor
 * runs in the ingestor's process, the spool's bus cursor feeds it directly, and the broker carries
 * only what a part in another process needs (the fields another predictor partition evaluates).
 * The cursor moves only once `take` has resolved, so a crash before then hands the same readings
 * over again after the restart (the window merges a time stamp it already holds).
 */
export interface LocalReadings {
  /** Whether this process evaluates the field (`farm/field`); the broker carries the others. */
  owns(key: string): boolean;
  /**
   * The readings of one spool round by field key (only keys it owns). Resolves once they are in
   * the windows and the fields have been evaluated; rejects when they could not be taken (the
   * part is stopping): the round is then tried again.
   */
  take(batch: ReadonlyMap<string, FieldReadings>): Promise<void>;
  /**
   * After a restart, readings this process's spool handed over before it and InfluxDB does not
   * have yet (the predictor rebuilt its windows from InfluxDB). `expectHandBack` is called before
   * the predictor starts; it then waits for `handedBack` before its first round, so no field is
   * judged on a window with holes. `handBack` applies a batch without evaluating.
   */
  expectHandBack(): void;
  handBack(batch: ReadonlyMap<string, FieldReadings>): Promise<void>;
  handedBack(): void;
}
