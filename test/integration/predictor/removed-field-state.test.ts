/**
 * A field removed while its predictor's state save is on its way (the CLI or another instance
 * removes it; the round decided before it saw the removal) stays removed: the save lands on no
 * profile and writes nothing, so the field added again later starts afresh, on both backends.
 * A field that is still there saves as before, and the late save is not reported as refused by
 * the partition fence (it is simply gone).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DecisionState } from '../../../services/predictor/decision.js';
import { INITIAL_FIELD_LEARNING } from '../../../services/predictor/field-learning.js';
import type { FieldSettings, OpenableFieldProfileRepository } from '../../../services/predictor/field-profiles.js';
import { createFieldProfileRepository } from '../../../services/predictor/open-field-profiles.js';
import { createPredictorStateStore, PREDICTOR_FILE, type PredictorStateStore } from '../../../services/predictor/open-predictor-store.js';
import { openPredictorDb } from '../../../services/predictor/sqlite-predictor-store.js';
import { systemClock } from '../../../services/shared/clock.js';
import type { SqliteDatabase } from '../../../services/shared/sqlite.js';
import { join } from 'node:path';
import pg from 'pg';
import { BACKENDS, planeFixture, type PlaneFixture } from '../../helpers/control-plane-fixture.js';
import { eventually } from '../../helpers/eventually.js';

const advised = (eventId: string, at = 1_750_000_000_000): DecisionState => ({
  advice: { eventId, issuedAt: at, validUntil: at + 86_400_000, startBy: at + 3_600_000, depthMm: 21.4 },
  lastChangeAt: at,
  stale: false,
});

const settings = (field: string): FieldSettings => ({
  farm: 'f1', field, crop: 'tomato', soil: 'loam', sowingDate: '2026-04-01', efficiency: 0.85,
  latitudeDeg: 44.5, longitudeDeg: 11.3, elevationM: 50, tzLongitudeDeg: 15,
});

describe.each(BACKENDS)('a removed field\'s state stays removed (%s)', (backend) => {
  let fixture: PlaneFixture;
  let profiles: OpenableFieldProfileRepository;
  let store: PredictorStateStore;

  beforeEach(async () => {
    fixture = await planeFixture(backend, 'removed_field_state');
    let db: SqliteDatabase | undefined;
    const sqlite = () => (db ??= openPredictorDb(join(fixture.dataDir, PREDICTOR_FILE)));
    fixture.onClose(() => db?.close());
    const plane = fixture.plane('pred-a');
    profiles = createFieldProfileRepository(plane, { clock: systemClock, db: sqlite });
    store = createPredictorStateStore(plane, { instance: 'pred-a', db: sqlite, onlyProfiled: true });
    await store.open();
    await profiles.open();
    fixture.onClose(() => profiles.close());
  });
  afterEach(() => fixture.close());

  it('writes nothing for a field removed before its save lands, and the field added again starts afresh', async () => {
    for (const f of ['north', 'south']) await profiles.add(settings(f));
    await store.states.saveMany([{ farm: 'f1', field: 'north', state: advised('evt_1') }]);
    await store.learning.saveMany([{ farm: 'f1', field: 'north', state: INITIAL_FIELD_LEARNING }]);

    // The round decided north and south; north is removed before the save lands.
    expect(await profiles.remove('f1', 'north')).toBe(true);
    expect(await store.states.saveMany([
      { farm: 'f1', field: 'north', state: advised('evt_2') },
      { farm: 'f1', field: 'south', state: advised('evt_3') },
    ])).toEqual([]);
    expect(await store.learning.saveMany([{ farm: 'f1', field: 'north', state: { ...INITIAL_FIELD_LEARNING, dryDays: 4 } }]) ?? []).toEqual([]);

    expect([...(await store.states.loadAll()).keys()]).toEqual(['f1/south']);
    expect((await store.learning.loadAll()).has('f1/north')).toBe(false);
    await profiles.add(settings('north'));
    expect((await store.states.loadMany(['f1/north'])).size).toBe(0);
  });

  it.runIf(backend === 'postgres')('writes nothing when the save meets the removal half-way (the removal commits while the save waits on it)', async () => {
    await profiles.add(settings('north'));
    await store.states.saveMany([{ farm: 'f1', field: 'north', state: advised('evt_1') }]);
    const sql = new pg.Client({ connectionString: fixture.databaseUrl });
    await sql.connect();
    fixture.onClose(() => sql.end());
    const waiting = async () =>
      Number((await sql.query<{ n: string }>("SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")).rows[0]!.n);

    // The removal stops half-way, inside its transaction (another session holds the learning table)…
    const unlock = await fixture.lock('predictor_field_learning');
    const removing = profiles.remove('f1', 'north');
    await eventually(async () => (await waiting()) >= 1 || undefined, { what: 'the removal waiting' });
    // …while the round's save of the field comes in, and waits on it.
    const saving = store.states.saveMany([{ farm: 'f1', field: 'north', state: advised('evt_2') }]);
    await eventually(async () => (await waiting()) >= 2 || undefined, { what: 'the save waiting' });
    await unlock();
    expect(await removing).toBe(true);
    expect(await saving).toEqual([]);
    expect((await store.states.loadMany(['f1/north'])).size).toBe(0);
  });

  it.runIf(backend === 'postgres')('with the partition fence, reports a fenced-off field as refused and a removed one not', async () => {
    const now = 1_000_000;
    const fenced = createPredictorStateStore(fixture.plane('pred-b'), { instance: 'pred-b', db: () => { throw new Error('not SQLite'); }, onlyProfiled: true, fence: { partitionOf: () => 0, now: () => now } });
    await fenced.open();
    await profiles.add(settings('north'));
    // No lease on partition 0: north is refused; south has no profile: gone, not refused.
    expect(await fenced.states.saveMany([
      { farm: 'f1', field: 'north', state: advised('evt_1') },
      { farm: 'f1', field: 'south', state: advised('evt_2') },
    ])).toEqual(['f1/north']);
  });
});
