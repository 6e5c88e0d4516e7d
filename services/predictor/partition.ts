/**
 * Which predictor instance owns a field. An MQTT shared subscription hands each *message* to one
 * member of the group, not each *field*: two active members would each see half of a field's
 * readings and judge it from a window with holes. So fields are partitioned by a stable hash of
 * `farm/field`; each partition is one shared group (a replacement instance of the partition
 * takes over its queue), and an instance keeps only its own fields.
 */

/** FNV-1a, 32 bit: stable across processes and versions (unlike anything seeded per process). */
export function fieldHash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export interface Partitioning {
  /** Number of partitions (instances sharing the fields), ≥ 1. */
  partitions: number;
  /** This instance's partition, 0 … partitions − 1. */
  partition: number;
}

/** One instance owns every field. */
export const DEFAULT_PARTITIONING: Readonly<Partitioning> = Object.freeze({ partitions: 1, partition: 0 });

export function ownsField(p: Partitioning, key: string): boolean {
  return p.partitions <= 1 || fieldHash(key) % p.partitions === p.partition;
}

/** The shared-subscription group of a partition. */
export function partitionGroup(group: string, p: Partitioning): string {
  return p.partitions <= 1 ? group : `${group}-${p.partition}of${p.partitions}`;
}
