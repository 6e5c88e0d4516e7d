/**
 * Preloaded into a benchmarked fieldhook process (`node --import`) when BENCH_GC_DIR is set: counts
 * the garbage collections of the main thread and their pauses (the ones `--trace-gc` prints), and
 * writes them to BENCH_GC_DIR/gc-<pid>.json when the process exits.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PerformanceObserver, constants } from 'node:perf_hooks';

const KINDS = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'mark-compact',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak-callbacks',
};
/** [epoch ms, kind, pause ms] of every collection: the benchmark counts those of its measured window. */
const collections = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    collections.push([performance.timeOrigin + entry.startTime, KINDS[entry.detail?.kind] ?? 'other', entry.duration]);
  }
}).observe({ entryTypes: ['gc'] });

process.on('exit', () => {
  writeFileSync(join(process.env.BENCH_GC_DIR, `gc-${process.pid}.json`), JSON.stringify(collections));
});
