import { describe, expect, it } from 'vitest';
import type { PublishInput } from '../../../services/dispatcher/index.js';
import { createRemovedFieldWithdrawals } from '../../../services/predictor/removed-fields.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { createManualClock } from '../../helpers/manual-clock.js';

const NOW = Date.parse('2026-07-06T12:00:00Z');
const advice = { eventId: 'evt_a', issuedAt: NOW - 3_600_000, validUntil: NOW + 3_600_000, startBy: NOW, depthMm: 20 };

describe('withdrawals of removed fields', () => {
  it('publishes one clearance per field, keeps one that failed for the next flush, and lets go of a field another instance now holds', async () => {
    const published: PublishInput[] = [];
    let failing = true;
    const mine = new Set(['f/a', 'f/b']);
    const withdrawals = createRemovedFieldWithdrawals({
      publish: async (e) => {
        if (failing && e.field === 'a') throw new Error('dispatcher away');
        published.push(e);
      },
      mayPublish: (key) => mine.has(key),
      clock: createManualClock(NOW),
      logger: silentLogger(),
    });
    withdrawals.add({ farm: 'f', field: 'a' }, advice);
    withdrawals.add({ farm: 'f', field: 'b' }, advice);
    withdrawals.add({ farm: 'f', field: 'c' }, advice);
    await withdrawals.flush();
    expect(published.map((e) => e.field)).toEqual(['b']);
    failing = false;
    await withdrawals.flush();
    await withdrawals.flush();
    expect(published.map((e) => e.field)).toEqual(['b', 'a']);
    expect(published[1]).toMatchObject({ type: 'irrigation.cleared', farm: 'f', field: 'a', collapse_key: 'irrigation:f:a', data: { reason: 'field removed' } });
    // The same advice withdrawn again (a retry after a crash) is the same event.
    const again = createRemovedFieldWithdrawals({ publish: async (e) => void published.push(e), mayPublish: () => true, clock: createManualClock(NOW + 60_000), logger: silentLogger() });
    again.add({ farm: 'f', field: 'a' }, advice);
    await again.flush();
    expect(published[2]!.id).toBe(published[1]!.id);
  });
});
