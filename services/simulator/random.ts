/**
 * Seeded pseudo-random numbers. Every simulated quantity draws from a stream derived from one
 * seed and a label, so adding a draw in one place never shifts the numbers of another field.
 */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  uniform(min: number, max: number): number;
  /** Integer in [min, max] (both inclusive). */
  int(min: number, max: number): number;
  normal(mean?: number, sd?: number): number;
  chance(probability: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** An independent stream for a sub-task, reproducible from this stream's seed and the label. */
  fork(label: string | number): Random;
}

/** 32-bit FNV-1a hash, to turn labels into seeds. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Build a stream from a seed (mulberry32: tiny, fast, and good enough for simulation). */
export function createRandom(seed: number | string): Random {
  const seedKey = String(seed);
  let state = hash32(seedKey);
  let spare: number | undefined;
  const next = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const random: Random = {
    next,
    uniform: (min, max) => min + (max - min) * next(),
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    normal(mean = 0, sd = 1) {
      // Box-Muller, keeping the second value for the next call.
      if (spare !== undefined) {
        const z = spare;
        spare = undefined;
        return mean + sd * z;
      }
      const u = Math.max(next(), 1e-12);
      const v = next();
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return mean + sd * r * Math.cos(2 * Math.PI * v);
    },
    chance: (p) => next() < p,
    pick<T>(items: readonly T[]): T {
      const item = items[Math.floor(next() * items.length)];
      if (item === undefined) throw new RangeError('pick from an empty list');
      return item;
    },
    fork: (label) => createRandom(`${seedKey}/${label}`),
  };
  return random;
}
