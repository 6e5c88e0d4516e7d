import { afterEach, describe, expect, it } from 'vitest';
import { profileOf, validateFieldSettings, type FieldSettings } from '../../../services/predictor/field-profiles.js';
import { createSqliteDecisionStates, createSqliteFieldProfiles, openPredictorDb } from '../../../services/predictor/sqlite-predictor-store.js';

const base: FieldSettings = {
  farm: 'f1', field: 'north', crop: 'tomato', sowingDate: '2026-04-01', soil: 'loam', efficiency: 0.9,
  latitudeDeg: 45.1, longitudeDeg: 9.2, elevationM: 100,
};

describe('field profiles', () => {
  const dbs: { close(): void }[] = [];
  afterEach(() => dbs.splice(0).forEach((d) => d.close()));

  it('resolves presets, measured soil values win over the preset', () => {
    const p = profileOf(base);
    expect(p.thetaFc).toBe(0.25);
    expect(p.rootDepthM).toBe(1.0);
    expect(p.tzLongitudeDeg).toBe(15);
    expect(p.windHeightM).toBe(2);
    expect(profileOf({ ...base, thetaFc: 0.3, thetaWp: 0.14, rootDepthM: 0.6 })).toMatchObject({ thetaFc: 0.3, thetaWp: 0.14, rootDepthM: 0.6 });
  });

  it('refuses invalid settings with FH_ERR_FIELD_INVALID', () => {
    expect(() => validateFieldSettings({ ...base, crop: 'banana' })).toThrow(expect.objectContaining({ code: 'FH_ERR_FIELD_INVALID' }));
    expect(() => validateFieldSettings({ ...base, efficiency: 1.5 })).toThrow(/efficiency/);
    expect(() => validateFieldSettings({ ...base, soil: undefined })).toThrow(/soil preset/);
    expect(() => validateFieldSettings({ ...base, soil: undefined, thetaFc: 0.1, thetaWp: 0.2 })).toThrow(/field capacity/);
    expect(() => validateFieldSettings({ ...base, sowingDate: 'April' })).toThrow(/sowingDate/);
  });

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
