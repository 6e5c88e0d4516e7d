/**
 * The field profiles on both control-plane backends, by one suite: SQLite (the predictor's file
 * in the data folder) and PostgreSQL (the run's real server, a fresh database per test). On
 * PostgreSQL a profile written through one instance is read by another, whose change version
 * moves when the change is committed.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { INITIAL_FIELD_LEARNING } from '../../../services/predictor/field-learning.js';
import type { FieldSettings, OpenableFieldProfileRepository } from '../../../services/predictor/field-profiles.js';
import { createFieldProfileRepository } from '../../../services/predictor/open-field-profiles.js';
import { createPredictorStateStore, type PredictorStateStore } from '../../../services/predictor/open-predictor-store.js';
import { openPredictorDb } from '../../../services/predictor/sqlite-predictor-store.js';
import { BACKENDS, planeFixture, type PlaneFixture } from '../../helpers/control-plane-fixture.js';
import { eventually } from '../../helpers/eventually.js';
import { createManualClock } from '../../helpers/manual-clock.js';
import { join } from 'node:path';

const base: FieldSettings = {
  farm: 'f1', field: 'north', crop: 'tomato', sowingDate: '2026-04-01', soil: 'loam', efficiency: 0.9,
  latitudeDeg: 45.1, longitudeDeg: 9.2, elevationM: 100,
};
const exec = promisify(execFile);
const codeOf = (promise: Promise<unknown>) => promise.then(() => 'resolved', (err: { code?: string }) => err.code);

describe.each(BACKENDS)('field profiles on %s', (backend) => {
  let fixture: PlaneFixture;
  const clock = createManualClock(Date.parse('2026-07-06T08:00:00Z'));

  /** The profiles as an instance opens them, and the predictor's state beside them. */
  async function openWithState(instanceId = 'inst-a'): Promise<{ repo: OpenableFieldProfileRepository; state: PredictorStateStore }> {
    const db = openPredictorDb(join(fixture.dataDir, 'predictor.db'));
    const plane = fixture.plane(instanceId);
    const repo = createFieldProfileRepository(plane, { clock, db: () => db });
    const state = createPredictorStateStore(plane, { instance: instanceId, db: () => db });
    fixture.onClose(async () => {
      await repo.close();
      db.close();
    });
    await repo.open();
    return { repo, state };
  }
  const open = async (instanceId?: string) => (await openWithState(instanceId)).repo;

  beforeEach(async () => {
    fixture = await planeFixture(backend, 'field_profiles');
  });
  afterEach(() => fixture.close());

  it('adds, updates, lists in byte order and removes fields', async () => {
    const repo = await open();
    expect(await repo.add(base)).toEqual(base);
    expect(await codeOf(repo.add(base))).toBe('FH_ERR_FIELD_EXISTS');
    await repo.add({ ...base, field: 'south', crop: 'potato' });
    await repo.add({ ...base, field: 'East' });
    await repo.add({ ...base, farm: 'f2' });
    expect((await repo.update('f1', 'north', { efficiency: 0.7, harvestedOn: '2026-08-30' })).efficiency).toBe(0.7);
    expect(await repo.get('f1', 'north')).toEqual({ ...base, efficiency: 0.7, harvestedOn: '2026-08-30' });
    expect(await codeOf(repo.update('f1', 'nowhere', {}))).toBe('FH_ERR_FIELD_NOT_FOUND');
    expect((await repo.list('f1')).map((f) => f.field)).toEqual(['East', 'north', 'south']);
    expect((await repo.list()).map((f) => `${f.farm}/${f.field}`)).toEqual(['f1/East', 'f1/north', 'f1/south', 'f2/north']);
    expect(await repo.remove('f1', 'south')).toBe(true);
    expect(await repo.remove('f1', 'south')).toBe(false);
    expect(await repo.get('f1', 'south')).toBeUndefined();
  });

  it('refuses settings that would fail at prediction with FH_ERR_FIELD_INVALID, adding or updating', async () => {
    const repo = await open();
    expect(await codeOf(repo.add({ ...base, crop: 'kale-ish' }))).toBe('FH_ERR_FIELD_INVALID');
    await repo.add(base);
    expect(await codeOf(repo.update('f1', 'north', { efficiency: 3 }))).toBe('FH_ERR_FIELD_INVALID');
    expect(await repo.get('f1', 'north')).toEqual(base);
  });

  it('forgets a removed field\'s decision state and learning, so a field added again starts afresh', async () => {
    const { repo, state } = await openWithState();
    // Removing before any predictor created its state tables is fine.
    await repo.add(base);
    expect(await repo.remove('f1', 'north')).toBe(true);
    await state.open();
    await repo.add(base);
    await repo.add({ ...base, field: 'south' });
    const advised = { advice: { eventId: 'e', issuedAt: 1, validUntil: 2, startBy: 1 }, lastChangeAt: 1, stale: false };
    await state.states.saveMany([{ farm: 'f1', field: 'north', state: advised }, { farm: 'f1', field: 'south', state: advised }]);
    await state.learning.saveMany([{ farm: 'f1', field: 'north', state: { ...INITIAL_FIELD_LEARNING, dryDays: 3 } }]);
    expect(await repo.remove('f1', 'north')).toBe(true);
    expect([...(await state.states.loadAll()).keys()]).toEqual(['f1/south']);
    expect((await state.learning.loadAll()).size).toBe(0);
  });

  it('keeps fields across a restart', async () => {
    const first = await open();
    await first.add(base);
    await first.close();
    expect(await (await open()).list()).toEqual([base]);
  });

  it('is what `fieldhook fields list` and `fields remove` see with the same settings', { timeout: 60_000 }, async () => {
    const repo = await open();
    await repo.add(base);
    const env = { ...process.env, FIELDHOOK_DATA_DIR: fixture.dataDir, ...(fixture.databaseUrl ? { FIELDHOOK_DATABASE_URL: fixture.databaseUrl } : {}) };
    const cli = async (...args: string[]) => JSON.parse((await exec(process.execPath, ['--import', 'tsx', 'services/cli/main.ts', 'fields', ...args], { env })).stdout) as unknown;
    expect(await cli('list')).toEqual([base]);
    expect(await cli('remove', 'f1', 'north')).toEqual({ removed: true });
    expect(await repo.list()).toEqual([]);
    // Removing it again names the error and fails the command.
    const again = await cli('remove', 'f1', 'north').then(() => undefined, (err: { code: number; stdout: string; stderr: string }) => err);
    expect(again?.code).toBe(1);
    expect(`${again?.stdout}${again?.stderr}`).toContain('FH_ERR_FIELD_NOT_FOUND');
  });

  it('shows a field written through one instance (or process) to another, whose change version moves at commit', async () => {
    const a = await open('inst-a');
    const b = await open('inst-b');
    const seen = b.changeVersion!();
    expect(b.changeVersion!()).toBe(seen);
    await a.add(base);
    expect(await b.get('f1', 'north')).toEqual(base);
    await eventually(() => b.changeVersion!() !== seen, { what: 'the other instance told of the new field' });
    const later = b.changeVersion!();
    await a.update('f1', 'north', { sowingDate: '2026-04-10' });
    await eventually(() => b.changeVersion!() !== later, { what: 'the other instance told of the update' });
    expect((await b.get('f1', 'north'))?.sowingDate).toBe('2026-04-10');
    // Its own writes move its version at once.
    const own = b.changeVersion!();
    await b.remove('f1', 'north');
    expect(b.changeVersion!()).not.toBe(own);
    expect(await a.list()).toEqual([]);
  });
});
