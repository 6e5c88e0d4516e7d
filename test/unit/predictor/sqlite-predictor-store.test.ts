import { afterEach, describe, expect, it } from 'vitest';
import type { FieldSettings } from '../../../services/predictor/field-profiles.js';
import { createSqliteDecisionStates, createSqliteFieldProfiles, openPredictorDb } from '../../../services/predictor/sqlite-predictor-store.js';

const base: FieldSettings = {
  farm: 'f1', field: 'north', crop: 'tomato', sowingDate: '2026-04-01', soil: 'loam', efficiency: 0.9,
  latitudeDeg: 45.1, longitudeDeg: 9.2, elevationM: 100,
};

describe('SQLite field profiles and decision states', () => {
  const dbs: { close(): void }[] = [];
  afterEach(() => dbs.splice(0).forEach((d) => d.close()));

  it('stores, updates and lists fields in SQLite; states survive a reopen', async () => {
    const db = openPredictorDb(':memory:');
    dbs.push(db);
    const repo = createSqliteFieldProfiles(db);
    await repo.add(base);
    await expect(repo.add(base)).rejects.toMatchObject({ code: 'FH_ERR_FIELD_EXISTS' });
    await repo.add({ ...base, field: 'south', crop: 'potato' });
    expect((await repo.update('f1', 'north', { efficiency: 0.7 })).efficiency).toBe(0.7);
    await expect(repo.update('f1', 'nowhere', {})).rejects.toMatchObject({ code: 'FH_ERR_FIELD_NOT_FOUND' });
    expect((await repo.list('f1')).map((f) => f.field)).toEqual(['north', 'south']);
    expect(await repo.get('f1', 'north')).toMatchObject({ efficiency: 0.7 });
    expect(await repo.remove('f1', 'south')).toBe(true);
    const states = createSqliteDecisionStates(db);
    await states.save('f1', 'north', { advice: { eventId: 'e', issuedAt: 1, validUntil: 2, startBy: 1 }, lastChangeAt: 1, stale: false });
    expect((await states.loadAll()).get('f1/north')?.advice?.eventId).toBe('e');
  });

  it('names the episode of a stale state saved by a release that did not keep it: since it was saved', async () => {
    const db = openPredictorDb(':memory:');
    dbs.push(db);
    const states = createSqliteDecisionStates(db);
    await states.save('f1', 'north', { advice: null, lastChangeAt: null, stale: true });
    await states.save('f1', 'south', { advice: null, lastChangeAt: null, stale: true, staleSince: 5 });
    const savedAt = (db.prepare("SELECT updated_at FROM decision_state WHERE field = 'north'").pluck().get() as number);
    const loaded = await states.loadAll();
    expect(loaded.get('f1/north')).toEqual({ advice: null, lastChangeAt: null, stale: true, staleSince: savedAt });
    expect(loaded.get('f1/south')?.staleSince).toBe(5);
    expect((await states.loadMany(['f1/north'])).get('f1/north')?.staleSince).toBe(savedAt);
  });

  it('forgets a removed field’s decision state, so a field added again starts afresh', async () => {
    const db = openPredictorDb(':memory:');
    dbs.push(db);
    const repo = createSqliteFieldProfiles(db);
    const states = createSqliteDecisionStates(db);
    await repo.add(base);
    await states.save('f1', 'north', { advice: { eventId: 'e', issuedAt: 1, validUntil: 2, startBy: 1 }, lastChangeAt: 1, stale: false });
    expect(await repo.remove('f1', 'north')).toBe(true);
    expect((await states.loadAll()).has('f1/north')).toBe(false);
    expect(await repo.remove('f1', 'north')).toBe(false);
  });
});
