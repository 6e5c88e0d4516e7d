import { describe, expect, it } from 'vitest';
import { inSeason, profileOf, seasonEndTs, validateFieldSettings, waterBudgetOf, type FieldSettings } from '../../../services/predictor/field-profiles.js';

const base: FieldSettings = {
  farm: 'f1', field: 'north', crop: 'tomato', sowingDate: '2026-04-01', soil: 'loam', efficiency: 0.9,
  latitudeDeg: 45.1, longitudeDeg: 9.2, elevationM: 100,
};

describe('field profiles', () => {
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
    // Names as device ids have them (topics, tags, chat commands), and dates that exist: a catalog error, never a RangeError.
    for (const field of ['<img src=x onerror=alert(1)>', 'a/b', 'x'.repeat(65), '']) {
      expect(() => validateFieldSettings({ ...base, field }), field).toThrow(expect.objectContaining({ code: 'FH_ERR_FIELD_INVALID' }));
    }
    for (const sowingDate of ['2026-13-45', '2026-02-30', '2026-1-1']) {
      expect(() => validateFieldSettings({ ...base, sowingDate }), sowingDate).toThrow(expect.objectContaining({ code: 'FH_ERR_FIELD_INVALID', message: expect.stringContaining('sowingDate must be YYYY-MM-DD') }));
    }
    expect(() => validateFieldSettings({ ...base, harvestedOn: '2026-13-45' })).toThrow(/harvestedOn must be YYYY-MM-DD/);
    expect(() => validateFieldSettings({ ...base, soil: undefined, thetaFc: 0.1, thetaWp: 0.2 })).toThrow(/field capacity/);
    expect(() => validateFieldSettings({ ...base, sowingDate: 'April' })).toThrow(/sowingDate/);
    expect(() => validateFieldSettings({ ...base, sowingDate: undefined as unknown as string })).toThrow(/sowingDate is required \(YYYY-MM-DD\)/);
  });

  it('grows roots from the crop\'s minimum unless told otherwise, and validates the crop\'s development', () => {
    expect(profileOf(base)).toMatchObject({ rootDepthM: 1.0, rootDepthMinM: 0.25 });
    // A managed depth below the crop's minimum is a fixed depth.
    expect(profileOf({ ...base, rootDepthM: 0.2 })).toMatchObject({ rootDepthM: 0.2, rootDepthMinM: 0.2 });
    expect(profileOf({ ...base, kc: { stageDays: [10, 20, 30, 10] } }).crop).toMatchObject({ kcIni: 0.6, stageDays: [10, 20, 30, 10] });
    expect(() => validateFieldSettings({ ...base, kc: { stageDays: [10, 20, 30] as never } })).toThrow(/stageDays/);
    expect(() => validateFieldSettings({ ...base, kc: { kcMid: 4 } })).toThrow(/kc\.kcMid/);
    expect(() => validateFieldSettings({ ...base, rootDepthMinM: 1.5 })).toThrow(/rootDepthMinM/);
    expect(() => validateFieldSettings({ ...base, harvestedOn: '2026-02-30' })).toThrow(/harvestedOn/);
    expect(() => validateFieldSettings({ ...base, harvestedOn: '2026-03-01' })).toThrow(/before sowingDate/);
    expect(validateFieldSettings({ ...base, harvestedOn: '2026-08-01' }).harvestedOn).toBe('2026-08-01');
  });

  it('ends the season at local midnight of the harvest date, or when the crop\'s stages have run out', () => {
    const p = profileOf(base); // tomato 30+40+40+25 = 135 days, UTC+1 standard time
    expect(new Date(seasonEndTs(base, p)).toISOString()).toBe('2026-08-13T23:00:00.000Z');
    expect(new Date(seasonEndTs({ harvestedOn: '2026-07-20' }, p)).toISOString()).toBe('2026-07-19T23:00:00.000Z');
    expect(new Date(seasonEndTs(base, profileOf({ ...base, kc: { stageDays: [10, 10, 10, 10] } }))).toISOString()).toBe('2026-05-10T23:00:00.000Z');
  });

  it('names the water budget by what it resolves to: the same whatever order a store keeps the Kc curve in, another for another soil', () => {
    const a = waterBudgetOf(profileOf({ ...base, kc: { kcIni: 0.5, kcMid: 1.1, stageDays: [10, 20, 30, 10] } }));
    const b = waterBudgetOf(profileOf({ ...base, kc: { stageDays: [10, 20, 30, 10], kcMid: 1.1, kcIni: 0.5 } }));
    expect(a).toBe(b);
    expect(waterBudgetOf(profileOf({ ...base, soil: 'sand' }))).not.toBe(waterBudgetOf(profileOf(base)));
    expect(waterBudgetOf(profileOf({ ...base, efficiency: 0.6 }))).toBe(waterBudgetOf(profileOf(base)));
  });

  it('is in season from local midnight of the sowing date until the season ends', () => {
    const sowing = Date.parse(`${base.sowingDate}T00:00:00Z`) - 3_600_000; // UTC+1 standard time
    expect(inSeason(base, sowing - 1)).toBe(false);
    expect(inSeason(base, sowing)).toBe(true);
    expect(inSeason(base, Date.parse('2026-08-13T22:59:59Z'))).toBe(true);
    expect(inSeason(base, Date.parse('2026-08-13T23:00:00Z'))).toBe(false);
    expect(inSeason({ ...base, harvestedOn: '2026-07-20' }, Date.parse('2026-07-20T12:00:00Z'))).toBe(false);
  });
});
