import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AUTO_PARTITIONS, assignPartitions } from '../../../services/predictor/partition-assignment.js';

const ids = fc.uniqueArray(fc.stringMatching(/^[a-z0-9-]{1,12}$/), { minLength: 1, maxLength: 12 });

describe('automatic partition assignment', () => {
  it('gives every partition to exactly one member, in shares that differ by at most one', () => {
    fc.assert(
      fc.property(ids, fc.integer({ min: 1, max: 128 }), (members, partitions) => {
        const table = assignPartitions(members, partitions);
        const all = [...table.values()].flat().sort((a, b) => a - b);
        expect(all).toEqual(Array.from({ length: partitions }, (_, p) => p));
        const sizes = [...table.values()].map((ps) => ps.length);
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      }),
    );
  });

  it('is the same table whatever order members are listed in', () => {
    fc.assert(
      fc.property(ids, (members) => {
        expect(assignPartitions([...members].reverse())).toEqual(assignPartitions(members));
      }),
    );
  });

  it('moves a share about the size of the newcomer’s when a member joins, not the whole table', () => {
    const three = assignPartitions(['pred-a', 'pred-b', 'pred-c']);
    const four = assignPartitions(['pred-a', 'pred-b', 'pred-c', 'pred-d']);
    const owner = (t: Map<string, number[]>, p: number) => [...t].find(([, ps]) => ps.includes(p))![0];
    const moved = Array.from({ length: AUTO_PARTITIONS }, (_, p) => p).filter((p) => owner(three, p) !== owner(four, p));
    expect(four.get('pred-d')).toHaveLength(AUTO_PARTITIONS / 4);
    // partition mod n would move three quarters of them (48).
    expect(moved.length).toBeLessThan(AUTO_PARTITIONS / 2);
  });
});
