/**
 * The irrigation records on both control-plane backends, by one suite: SQLite in the data folder
 * and PostgreSQL (the run's real server, a fresh database per test). On PostgreSQL two instances
 * share the records: one idempotency key is one record whichever instance a retry reaches, and a
 * record one instance took is forwarded by another's forwarder.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createForwarder } from '../../../services/irrigations/forwarder.js';
import { createIrrigationRepository } from '../../../services/irrigations/open-store.js';
import { parseIrrigationInput, type IrrigationRecord } from '../../../services/irrigations/record.js';
import type { IrrigationRepository, NewIrrigation } from '../../../services/irrigations/store.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { BACKENDS, planeFixture, type PlaneFixture } from '../../helpers/control-plane-fixture.js';
import { eventually } from '../../helpers/eventually.js';
import { createManualClock } from '../../helpers/manual-clock.js';

const NOW = Date.parse('2026-07-07T09:00:00Z');
const HOUR = 3_600_000;
const codeOf = (promise: Promise<unknown>) => promise.then(() => 'resolved', (err: { code?: string }) => err.code);

/** A record of `depth` mm on `farm/field` whose water ended `endedHoursAgo` before NOW. */
function irrigation(depth: number, { field = 'north', farm = 'f1', endedHoursAgo = 0, who = 'admin' } = {}): NewIrrigation {
  const end = new Date(NOW - endedHoursAgo * HOUR).toISOString();
  return { ...parseIrrigationInput({ farm, field, depth_mm: depth, end }, NOW), source: 'api', who, recordedAt: NOW };
}

describe.each(BACKENDS)('irrigation records on %s', (backend) => {
  let fixture: PlaneFixture;

  const open = (instanceId?: string): Promise<IrrigationRepository> => fixture.open((plane) => createIrrigationRepository(plane), instanceId);

  beforeEach(async () => {
    fixture = await planeFixture(backend, 'irrigations');
  });
  afterEach(() => fixture.close());

  it('stores a record and lists the newest by when their water ended, oldest first, by farm, field and since', async () => {
    const store = await open();
    const { record, replayed } = await store.record(irrigation(18, { endedHoursAgo: 2 }));
    expect(replayed).toBe(false);
    expect(record).toEqual({
      id: expect.stringMatching(/^irr_[0-9a-f]{24}$/), farm: 'f1', field: 'north', depth_mm: 18,
      start: new Date(NOW - 2 * HOUR).toISOString(), end: new Date(NOW - 2 * HOUR).toISOString(),
      source: 'api', who: 'admin', recorded_at: new Date(NOW).toISOString(),
    });
    await store.record(irrigation(5, { endedHoursAgo: 30 }));
    await store.record(irrigation(7, { field: 'south', endedHoursAgo: 1 }));
    await store.record(irrigation(9, { farm: 'f2', endedHoursAgo: 1 }));
    expect((await store.list()).map((r) => r.depth_mm)).toEqual([5, 18, 7, 9]);
    expect((await store.list({ farm: 'f1', field: 'north' })).map((r) => r.depth_mm)).toEqual([5, 18]);
    expect((await store.list({ since: NOW - 24 * HOUR })).map((r) => r.depth_mm)).toEqual([18, 7, 9]);
    // The limit keeps the newest.
    expect((await store.list({ farm: 'f1', limit: 2 })).map((r) => r.depth_mm)).toEqual([18, 7]);
  });

  it('replays a key used again for the same request, refuses it for another, and keeps keys of two reporters apart', async () => {
    const store = await open();
    const key = { scope: 'device:v-1', key: 'run-41' };
    const first = await store.record(irrigation(18), key);
    expect(await store.record(irrigation(18), key)).toEqual({ record: first.record, replayed: true });
    expect(await codeOf(store.record(irrigation(19), key))).toBe('FH_ERR_IRRIGATION_IDEMPOTENCY_CONFLICT');
    const other = await store.record(irrigation(19), { scope: 'device:v-2', key: 'run-41' });
    expect(other.replayed).toBe(false);
    expect(await store.list()).toHaveLength(2);
  });

  it('keeps one cursor per downstream: a record leaves each once, in the order recorded', async () => {
    const store = await open();
    const ids: string[] = [];
    for (const depth of [1, 2, 3]) ids.push((await store.record(irrigation(depth, { endedHoursAgo: depth }))).record.id);
    expect((await store.pending('influx', 10)).map((r) => r.id)).toEqual(ids);
    await store.markForwarded('influx', ids.slice(0, 2), NOW);
    expect((await store.pending('influx', 10)).map((r) => r.id)).toEqual([ids[2]]);
    expect((await store.pending('bus', 2)).map((r) => r.id)).toEqual(ids.slice(0, 2));
    expect(await store.pendingCount('influx')).toBe(1);
    expect(await store.pendingCount('bus')).toBe(3);
  });

  it('keeps records and cursors across a restart', async () => {
    const first = await open();
    const { record } = await first.record(irrigation(18), { scope: 'admin', key: 'k' });
    await first.markForwarded('bus', [record.id], NOW);
    first.close();
    const again = await open();
    expect(await again.list()).toEqual([record]);
    expect(await again.record(irrigation(18), { scope: 'admin', key: 'k' })).toEqual({ record, replayed: true });
    expect(await again.pendingCount('bus')).toBe(0);
    expect(await again.pendingCount('influx')).toBe(1);
  });

  it.runIf(backend === 'postgres')('answers FH_ERR_DATABASE_UNAVAILABLE (503) when PostgreSQL does not answer, and records once it does', async () => {
    await open();
    const store = createIrrigationRepository(fixture.plane('impatient', { statementTimeoutMs: 200 }));
    await store.open();
    const release = await fixture.lock('irrigation');
    try {
      await expect(store.record(irrigation(18))).rejects.toMatchObject({ code: 'FH_ERR_DATABASE_UNAVAILABLE', statusCode: 503 });
      await expect(store.list()).rejects.toMatchObject({ code: 'FH_ERR_DATABASE_UNAVAILABLE' });
    } finally {
      await release();
    }
    expect((await store.record(irrigation(18))).replayed).toBe(false);
  });

  it.runIf(backend === 'postgres')('keeps one record for one key whichever instances its retries reach, even at once', async () => {
    const a = await open('inst-a');
    const b = await open('inst-b');
    const key = { scope: 'slack:U1', key: 'slack:i-7' };
    const results = await Promise.all([a.record(irrigation(18), key), b.record(irrigation(18), key), a.record(irrigation(18), key), b.record(irrigation(18), key)]);
    expect(new Set(results.map((r) => r.record.id)).size).toBe(1);
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    expect(await b.list()).toHaveLength(1);
  });

  it.runIf(backend === 'postgres')('forwards a record one instance took from another instance\'s forwarder', async () => {
    const a = await open('inst-a');
    const b = await open('inst-b');
    const clock = createManualClock(NOW);
    const sent: IrrigationRecord[] = [];
    const forwarder = createForwarder(
      { store: b, clock, logger: silentLogger(), send: { influx: async (records) => void sent.push(...records), bus: async () => undefined } },
      { pollMs: 5_000 },
    );
    forwarder.start();
    const { record } = await a.record(irrigation(18));
    // No wake-up reaches b: its next look finds the record.
    await clock.advance(5_000);
    await eventually(() => sent.length === 1, { what: 'the record forwarded by the other instance' });
    expect(sent).toEqual([record]);
    await eventually(async () => (await a.pendingCount('influx')) === 0 && (await a.pendingCount('bus')) === 0, { what: 'both cursors moved' });
    await forwarder.stop();
  });
});
