import { describe, expect, it } from 'vitest';
import { createRandom } from '../../../services/simulator/random.js';

describe('seeded random streams', () => {
  it('repeat for a seed and differ across seeds and forks', () => {
    const a = createRandom(7);
    const b = createRandom(7);
    const xs = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xs);
    expect(createRandom(8).next()).not.toBe(xs[0]);
    expect(createRandom(7).fork('x').next()).not.toBe(createRandom(7).fork('y').next());
    const r = createRandom('normal');
    const n = Array.from({ length: 20_000 }, () => r.normal(2, 3));
    const mean = n.reduce((s, x) => s + x, 0) / n.length;
    const sd = Math.sqrt(n.reduce((s, x) => s + (x - mean) ** 2, 0) / n.length);
    expect(mean).toBeCloseTo(2, 1);
    expect(sd).toBeCloseTo(3, 1);
  });
});
