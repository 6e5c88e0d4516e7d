import { describe, expect, it } from 'vitest';
import { createDeliveryPruner } from '../../../services/dispatcher/delivery-pruner.js';
import type { DispatchStore } from '../../../services/dispatcher/store/types.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { createManualClock } from '../../helpers/manual-clock.js';
import { expectStopToWaitFor } from '../../helpers/stop-waits.js';
import { eventually } from '../../helpers/eventually.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function storeRecording(cutoffs: number[], fail = () => false): DispatchStore {
  return {
    outbox: {
      prune: async (before: number) => {
        cutoffs.push(before);
        if (fail()) throw new Error('disk I/O error');
        return 1;
      },
    },
  } as unknown as DispatchStore;
}

describe('delivery pruner', () => {
  it('prunes past retention at start, then every interval, until stopped', async () => {
    const clock = createManualClock(100 * DAY);
    const cutoffs: number[] = [];
    const pruner = createDeliveryPruner({ store: storeRecording(cutoffs), clock, logger: silentLogger() }, { retentionMs: 30 * DAY, intervalMs: HOUR });
    pruner.start();
    await eventually(() => cutoffs.length === 1 && clock.pending() === 1, { what: 'the first prune' });
    expect(cutoffs).toEqual([70 * DAY]);
    await clock.advance(HOUR);
    await eventually(() => cutoffs.length === 2 && clock.pending() === 1, { what: 'the second prune' });
    expect(cutoffs[1]).toBe(70 * DAY + HOUR);
    await pruner.stop();
    expect(clock.pending()).toBe(0);
    await clock.advance(10 * HOUR);
    expect(cutoffs).toHaveLength(2);
  });

  it('keeps its schedule after a failed prune', async () => {
    const clock = createManualClock(100 * DAY);
    const cutoffs: number[] = [];
    const pruner = createDeliveryPruner({ store: storeRecording(cutoffs, () => cutoffs.length === 1), clock, logger: silentLogger() }, { retentionMs: DAY, intervalMs: HOUR });
    pruner.start();
    await eventually(() => cutoffs.length === 1 && clock.pending() === 1, { what: 'the failed prune' });
    await clock.advance(HOUR);
    await eventually(() => cutoffs.length === 2, { what: 'the next prune' });
    await pruner.stop();
  });

  it('stops once the prune under way is done with the store, so its owner may close it', async () => {
    const clock = createManualClock(100 * DAY);
    let arrive!: () => void;
    let release!: () => void;
    const reached = new Promise<void>((resolve) => (arrive = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    let done = 0;
    const store = { outbox: { prune: async () => (arrive(), await released, done++, 1) } } as unknown as DispatchStore;
    const pruner = createDeliveryPruner({ store, clock, logger: silentLogger() }, { retentionMs: DAY, intervalMs: HOUR });
    pruner.start();
    await reached;
    await expectStopToWaitFor(() => pruner.stop(), release);
    expect(done).toBe(1);
    expect(clock.pending()).toBe(0);
  });
});
