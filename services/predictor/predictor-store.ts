/**
 * The predictor's per-field state behind small repositories, so that the SQLite file of one
 * instance (`sqlite-predictor-store.ts`) and the PostgreSQL database several instances share
 * (`postgres-predictor-store.ts`) are two implementations of one contract.
 */
import type { DecisionState } from './decision.js';
import type { FieldLearningState } from './field-learning.js';

/** One field's state to save. */
export interface FieldEntry<S> {
  farm: string;
  field: string;
  state: S;
}

/** Decision state per field, saved after every event so a restart does not re-send. */
export interface DecisionStateRepository {
  loadAll(): Promise<Map<string, DecisionState>>;
  /** The states of these fields (keys `farm/field`) that have one: a field this instance takes over. */
  loadMany(keys: readonly string[]): Promise<Map<string, DecisionState>>;
  save(farm: string, field: string, state: DecisionState): Promise<void>;
  /**
   * Several fields in one transaction (a round that changed many). Resolves to the keys whose
   * write was refused because this instance no longer holds their partition (see
   * {@link PartitionFence}); always none without a fence.
   */
  saveMany(entries: readonly FieldEntry<DecisionState>[]): Promise<string[]>;
  close(): void;
}

/** What each field has learnt from its own trace (field-learning.ts), kept beside its decision state. */
export interface FieldLearningRepository {
  loadAll(): Promise<Map<string, FieldLearningState>>;
  loadMany?(keys: readonly string[]): Promise<Map<string, FieldLearningState>>;
  /** As {@link DecisionStateRepository.saveMany}: the keys refused by the fence, if it returns them. */
  saveMany(entries: readonly FieldEntry<FieldLearningState>[]): Promise<string[] | void>;
}

/**
 * How a store writes a field's state. `onlyProfiled`: only while the field has a profile (in the
 * same database), checked in the writing statement, so a save on its way when the field is
 * removed (the CLI, another instance) writes nothing instead of bringing the removed field's
 * state back; such a field is not refused, it is gone. For a predictor whose fields come from
 * that database's profiles; off for one given its fields from elsewhere (tests, tools).
 */
export interface StateWriteOptions {
  onlyProfiled?: boolean;
}

/**
 * Writes only while this instance holds the field's partition lease (partition-membership.ts):
 * a predictor that lost a partition (paused past its lease, cut off from the database) cannot
 * overwrite what the partition's new holder decided. Lease times are compared with `now()` of
 * the writing instance, as the leases are written with it.
 */
export interface PartitionFence {
  partitionOf(key: string): number;
  now(): number;
  /**
   * The epoch of this instance's lease on `partition` as it took it (postgres-partition-leases.ts):
   * a write lands only under that very lease, not under one taken again after another holder had
   * it in between (a write delayed across two hand-overs). Without it, any live lease of this
   * instance will do.
   */
  epochOf?(partition: number): number | undefined;
}
