/**
 * Which fields this predictor instance evaluates, by their partition (partition.ts): a fixed
 * one (one instance, or partitions set by hand), or those it holds leases on among the live
 * predictors (partition-membership.ts, PostgreSQL).
 */
import { AUTO_PARTITIONS } from './partition-assignment.js';
import type { PartitionMembership } from './partition-membership.js';
import { fieldHash, ownsField, type Partitioning } from './partition.js';

export interface FieldOwnership {
  /** `single` (one instance owns every field), `manual` (PREDICT_PARTITION of PREDICT_PARTITIONS) or `auto` (leases). */
  readonly mode: 'single' | 'manual' | 'auto';
  /** Partitions fields are hashed into. */
  readonly partitions: number;
  partitionOf(key: string): number;
  /** Evaluated here now: its partition is this instance's and its state is loaded. */
  evaluates(key: string): boolean;
  /** Readings kept here: evaluated, or about to be (its partition is this instance's share, to be taken once free). */
  follows(key: string): boolean;
  /** An event for the field may go out now: evaluated here, with the lease to spare. */
  mayPublish(key: string): boolean;
  /** The partitions this instance holds (sorted). */
  held(): number[];
}

/** A fixed partition: everything is decided by the settings. */
export function staticOwnership(partitioning: Partitioning): FieldOwnership {
  const owns = (key: string) => ownsField(partitioning, key);
  const manual = partitioning.partitions > 1;
  return {
    mode: manual ? 'manual' : 'single',
    partitions: partitioning.partitions,
    partitionOf: (key) => (manual ? fieldHash(key) % partitioning.partitions : 0),
    evaluates: owns,
    follows: owns,
    mayPublish: owns,
    held: () => [partitioning.partition],
  };
}

/**
 * Leased partitions: `evaluating` is what the predictor has loaded (it adds a partition once its
 * fields' state is read, removes it before the lease goes); the membership says what is leased.
 */
export function leasedOwnership(membership: PartitionMembership, evaluating: ReadonlySet<number>): FieldOwnership {
  const partitionOf = (key: string) => fieldHash(key) % membership.partitions;
  return {
    mode: 'auto',
    partitions: membership.partitions ?? AUTO_PARTITIONS,
    partitionOf,
    evaluates: (key) => evaluating.has(partitionOf(key)),
    follows: (key) => evaluating.has(partitionOf(key)) || membership.wants(partitionOf(key)),
    mayPublish: (key) => evaluating.has(partitionOf(key)) && membership.holds(partitionOf(key)),
    held: () => membership.held(),
  };
}
