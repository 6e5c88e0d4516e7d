/**
 * An instance that had `FIELDHOOK_DATABASE_URL` before the control-plane stores moved to
 * PostgreSQL kept field profiles, decision state, field learning, irrigation records, chat users
 * and forecasts in SQLite files in its data folder. After the upgrade each store, opening on
 * PostgreSQL, copies those rows once: nothing acknowledged is lost, a record not yet forwarded is
 * forwarded (once), and an idempotency key keeps answering a retry.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createChatUserRepository } from '../../../services/chat/open-users.js';
import { createSqliteChatUsers } from '../../../services/chat/users.js';
import { createForecastRepository } from '../../../services/forecasts/open-store.js';
import { createSqliteForecasts } from '../../../services/forecasts/store.js';
import { createForwarder } from '../../../services/irrigations/forwarder.js';
import { createIrrigationRepository } from '../../../services/irrigations/open-store.js';
import { parseIrrigationInput, type IrrigationRecord } from '../../../services/irrigations/record.js';
import { createSqliteIrrigations, type NewIrrigation } from '../../../services/irrigations/store.js';
import { INITIAL_FIELD_LEARNING } from '../../../services/predictor/field-learning.js';
import type { FieldSettings } from '../../../services/predictor/field-profiles.js';
import { createFieldProfileRepository } from '../../../services/predictor/open-field-profiles.js';
import { createPredictorStateStore } from '../../../services/predictor/open-predictor-store.js';
import { createSqliteDecisionStates, createSqliteFieldLearning, createSqliteFieldProfiles, openPredictorDb } from '../../../services/predictor/sqlite-predictor-store.js';
import { closeControlPlane, createControlPlane } from '../../../services/shared/database/control-plane.js';
import { captureLogger } from '../../helpers/capture-logger.js';
import { planeFixture, type PlaneFixture } from '../../helpers/control-plane-fixture.js';
import { eventually } from '../../helpers/eventually.js';
import { createManualClock } from '../../helpers/manual-clock.js';

const NOW = Date.parse('2026-07-07T09:00:00Z');
const HOUR = 3_600_000;
const profile: FieldSettings = {
  farm: 'f1', field: 'north', crop: 'tomato', sowingDate: '2026-04-01', soil: 'loam', efficiency: 0.9,
  latitudeDeg: 45.1, longitudeDeg: 9.2, elevationM: 100,
};
const advised = { advice: null, lastChangeAt: NOW - HOUR, stale: false };
const learnt = { ...INITIAL_FIELD_LEARNING, dryDays: 3 };
const irrigation = (depth: number): NewIrrigation => ({
  ...parseIrrigationInput({ farm: 'f1', field: 'north', depth_mm: depth, end: new Date(NOW - HOUR).toISOString() }, NOW),
  source: 'mqtt', who: 'device:v-1', recordedAt: NOW,
});

describe('upgrading a data folder with SQLite stores to PostgreSQL', () => {
  let fixture: PlaneFixture;
  const clock = createManualClock(NOW);

  beforeEach(async () => {
    fixture = await planeFixture('postgres', 'upgrade');
  });
  afterEach(() => fixture.close());

  /** What the older version left in the data folder: one record forwarded, one not yet. */
  async function olderVersionsFolder(): Promise<{ forwarded: IrrigationRecord; pending: IrrigationRecord }> {
    const dir = fixture.dataDir;
    const irrigations = createSqliteIrrigations(join(dir, 'irrigations.db'));
    await irrigations.open();
    const { record: forwarded } = await irrigations.record(irrigation(9), { scope: 'device:v-1', key: 'run-1' });
    const { record: pending } = await irrigations.record(irrigation(12), { scope: 'device:v-1', key: 'run-2' });
    await irrigations.markForwarded('influx', [forwarded.id], NOW);
    await irrigations.markForwarded('bus', [forwarded.id], NOW);
    await irrigations.close();
    const chat = createSqliteChatUsers(join(dir, 'chat.db'), clock);
    await chat.open();
    await chat.add('slack', 'U1', 'f1');
    chat.close();
    const forecasts = createSqliteForecasts(join(dir, 'forecasts.db'));
    await forecasts.open();
    await forecasts.save({ farm: 'f1', issuedAt: NOW, source: 'api', hours: [{ ts: NOW + HOUR, rainMm: 4 }] });
    await forecasts.close();
    const db = openPredictorDb(join(dir, 'predictor.db'));
    await createSqliteFieldProfiles(db).add(profile);
    await createSqliteDecisionStates(db).save('f1', 'north', advised);
    await createSqliteFieldLearning(db).saveMany([{ farm: 'f1', field: 'north', state: learnt }]);
    db.close();
    return { forwarded, pending };
  }

  /** Every store as the upgraded instance opens it on PostgreSQL. */
  async function openUpgraded(logger = captureLogger().logger) {
    const plane = createControlPlane({ DATA_DIR: fixture.dataDir, DATABASE_URL: fixture.databaseUrl, INSTANCE_ID: 'inst-a' }, logger);
    const irrigations = createIrrigationRepository(plane);
    const chat = createChatUserRepository(plane, clock);
    const forecasts = createForecastRepository(plane, logger);
    const noSqlite = () => {
      throw new Error('the PostgreSQL backend opens no SQLite file of its own');
    };
    const profiles = createFieldProfileRepository(plane, { clock, db: noSqlite });
    const state = createPredictorStateStore(plane, { instance: 'inst-a', db: noSqlite });
    fixture.onClose(async () => {
      await profiles.close();
      await forecasts.close();
      await closeControlPlane(plane);
    });
    await Promise.all([irrigations.open(), chat.open(), forecasts.open(), profiles.open(), state.open()]);
    return { irrigations, chat, forecasts, profiles, state };
  }

  it('copies every store\'s rows once, keeps idempotency keys, and forwards the record the old version had not', async () => {
    const { forwarded, pending } = await olderVersionsFolder();
    const { lines, logger } = captureLogger();
    const upgraded = await openUpgraded(logger);

    expect((await upgraded.irrigations.list()).map((r) => r.id)).toEqual([forwarded.id, pending.id]);
    expect(await upgraded.irrigations.record(irrigation(12), { scope: 'device:v-1', key: 'run-2' })).toEqual({ record: pending, replayed: true });
    expect(await upgraded.chat.list()).toEqual([{ platform: 'slack', user: 'U1', farm: 'f1', added_at: new Date(NOW).toISOString() }]);
    expect(upgraded.forecasts.hours('f1', 'north', NOW, NOW + HOUR)).toEqual([{ ts: NOW + HOUR, rainMm: 4 }]);
    expect(await upgraded.profiles.list()).toEqual([profile]);
    expect(await upgraded.state.states.loadAll()).toEqual(new Map([['f1/north', advised]]));
    expect(await upgraded.state.learning.loadAll()).toEqual(new Map([['f1/north', learnt]]));
    const copied = lines.filter((l) => l.msg === 'copied the rows of a SQLite store into PostgreSQL (once)');
    expect(copied.map((l) => [l.into, l.rows, l.inserted]).sort()).toEqual([
      ['chat_user', 1, 1], ['field_profile', 1, 1], ['forecast_hour', 1, 1], ['irrigation', 2, 2],
      ['predictor_decision_state', 1, 1], ['predictor_field_learning', 1, 1],
    ]);

    // Only the record the old version had not forwarded goes out, once.
    const sent: IrrigationRecord[] = [];
    const forwarder = createForwarder(
      { store: upgraded.irrigations, clock, logger, send: { influx: async (records) => void sent.push(...records), bus: async () => undefined } },
      { pollMs: 5_000 },
    );
    forwarder.start();
    await eventually(async () => (await upgraded.irrigations.pendingCount('influx')) === 0 && (await upgraded.irrigations.pendingCount('bus')) === 0, { what: 'the pending record forwarded' });
    await forwarder.stop();
    expect(sent).toEqual([pending]);

    // A restart copies nothing again; the SQLite files stay where they were.
    const again = captureLogger();
    const restarted = await openUpgraded(again.logger);
    expect(await restarted.irrigations.list()).toHaveLength(2);
    expect(await restarted.irrigations.pendingCount('influx')).toBe(0);
    expect(again.lines.filter((l) => l.msg === 'copied the rows of a SQLite store into PostgreSQL (once)')).toEqual([]);
    for (const file of ['irrigations.db', 'chat.db', 'forecasts.db', 'predictor.db']) expect(existsSync(join(fixture.dataDir, file))).toBe(true);
  });

  it('leaves out what PostgreSQL cannot store, and keeps PostgreSQL\'s row where both hold one', async () => {
    // Another instance's folder brought this field first (before this folder's files were there).
    const other = createFieldProfileRepository(fixture.plane('inst-b'), { clock, db: () => { throw new Error('unused'); } });
    fixture.onClose(() => other.close());
    await other.open();
    await other.add(profile);
    const dir = fixture.dataDir;
    const irrigations = createSqliteIrrigations(join(dir, 'irrigations.db'));
    await irrigations.open();
    await irrigations.record(irrigation(9), { scope: 'device:v-1', key: 'run\u00001' });
    const { record: good } = await irrigations.record(irrigation(10), { scope: 'device:v-1', key: 'run-2' });
    await irrigations.close();
    const db = openPredictorDb(join(dir, 'predictor.db'));
    await createSqliteFieldProfiles(db).add({ ...profile, crop: 'potato' });
    db.close();

    const { lines, logger } = captureLogger();
    const upgraded = await openUpgraded(logger);
    expect((await upgraded.irrigations.list()).map((r) => r.id)).toEqual([good.id]);
    expect(lines.find((l) => String(l.msg).startsWith('PostgreSQL cannot store some rows'))).toMatchObject({ table: 'irrigation', refused: 1 });
    expect(await upgraded.profiles.get('f1', 'north')).toEqual(profile);
    expect(lines.find((l) => l.into === 'field_profile')).toMatchObject({ rows: 1, inserted: 0, skipped: 1 });
  });
});
