import { describe, expect, it } from 'vitest';
import { profileOf, validateFieldSettings, type FieldSettings } from '../../../services/predictor/field-profiles.js';

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
    expect(() => validateFieldSettings({ ...base, soil: undefined, thetaFc: 0.1, thetaWp: 0.2 })).toThrow(/field capacity/);
    expect(() => validateFieldSettings({ ...base, sowingDate: 'April' })).toThrow(/sowingDate/);
  });
});
