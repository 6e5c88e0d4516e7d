/** One measured operation of a bench table. */
export interface TimedRow {
  backend: string;
  what: string;
  median: number;
  p95: number;
  /** Operations per second, one after another. */
  perSecond: number;
}

/** Run `fn` `n` times one after another (after up to 200 warm-up calls with indexes past `n`); median, p95 in ms and rate. */
export async function time(what: string, backend: string, n: number, fn: (i: number) => Promise<unknown>): Promise<TimedRow> {
  for (let i = 0; i < Math.min(200, n); i++) await fn(n + i);
  const samples: number[] = [];
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await fn(i);
    samples.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  const total = Number(process.hrtime.bigint() - start) / 1e9;
  samples.sort((a, b) => a - b);
  return { backend, what, median: samples[Math.floor(n / 2)]!, p95: samples[Math.floor(n * 0.95)]!, perSecond: n / total };
}

/** Resolves on the first turn at which `probe` holds. */
export async function untilTrue(probe: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await probe())) await new Promise((resolve) => setImmediate(resolve));
}

/** The rows as a Markdown table. */
export function printTimed(rows: readonly TimedRow[]): void {
  const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(3));
  console.log('| backend | operation | median ms | p95 ms | per second |');
  console.log('|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.backend} | ${r.what} | ${fmt(r.median)} | ${fmt(r.p95)} | ${fmt(r.perSecond)} |`);
}
