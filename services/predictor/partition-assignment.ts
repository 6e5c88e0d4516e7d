/**
 * Which live predictor should hold which partition, when partitions are assigned automatically
 * (PostgreSQL, `PREDICT_PARTITIONS=auto`). Fields hash into a fixed number of partitions
 * (partition.ts); every member computes the same answer from the same sorted list of live
 * members, so nobody has to hand partitions out.
 *
 * Balanced rendezvous hashing: each partition ranks the members by a hash of (partition,
 * member) and goes to the first one in its ranking that still has room; shares differ by at most
 * one (the first `P mod n` members in id order may take one more). A member joining or leaving
 * moves about the share it brings or leaves, not the whole table as `partition mod n` would.
 */
import { fieldHash } from './partition.js';

/**
 * The fixed number of partitions fields are hashed into with automatic assignment: at most this
 * many predictors share the work. Never changed once released: a field's partition follows from it.
 */
export const AUTO_PARTITIONS = 64;

/** The partitions each member should hold: members (any order, distinct) → sorted partition numbers. */
export function assignPartitions(members: readonly string[], partitions = AUTO_PARTITIONS): Map<string, number[]> {
  const sorted = [...new Set(members)].sort();
  const result = new Map<string, number[]>(sorted.map((m) => [m, []]));
  if (sorted.length === 0) return result;
  const base = Math.floor(partitions / sorted.length);
  const extra = partitions % sorted.length;
  const room = new Map(sorted.map((m, i) => [m, base + (i < extra ? 1 : 0)]));
  for (let p = 0; p < partitions; p++) {
    const ranking = sorted
      .map((m) => ({ m, score: fieldHash(`${p}\u0000${m}`) }))
      .sort((a, b) => b.score - a.score || (a.m < b.m ? -1 : 1));
    const chosen = ranking.find((r) => room.get(r.m)! > 0)!.m;
    room.set(chosen, room.get(chosen)! - 1);
    result.get(chosen)!.push(p);
  }
  return result;
}
