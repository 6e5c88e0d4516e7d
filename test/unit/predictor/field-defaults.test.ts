import { describe, expect, it } from 'vitest';
import { fieldDefaultsFromDevices } from '../../../services/predictor/field-defaults.js';
import { validateFieldSettings } from '../../../services/predictor/field-profiles.js';
import { createSqliteDeviceRepository } from '../../../services/registry/sqlite-devices.js';

describe('a new field\'s defaults from its devices', () => {
  it('takes each setting from the first device that gives it', async () => {
    const devices = createSqliteDeviceRepository(':memory:');
    // One node knows where it stands and its anemometer's height, another the crop and soil.
    await devices.add({ id: 'mast', farm: 'mix', field: 'f1', kind: 'device', location: { latitude: 50, longitude: 4, elevation: 30 }, profile: { windHeightM: 10 } });
    await devices.add({ id: 'probe', farm: 'mix', field: 'f1', kind: 'device', profile: { crop: 'potato', soil: 'loam' } });
    await devices.add({ id: 'other', farm: 'mix', field: 'f2', kind: 'device', profile: { crop: 'tomato' } });
    expect(await fieldDefaultsFromDevices(devices, 'mix', 'f1')).toEqual({ latitudeDeg: 50, longitudeDeg: 4, elevationM: 30, crop: 'potato', soil: 'loam', windHeightM: 10 });
    devices.close();
  });

  it('leaves out what no device gives, and the field then says the crop is missing, not "undefined"', () => {
    expect(() => validateFieldSettings({ farm: 'f', field: 'a', soil: 'loam', sowingDate: '2026-05-01', efficiency: 0.9, latitudeDeg: 45, longitudeDeg: 9, elevationM: 100 } as never)).toThrow(
      /a crop is required \(a device of the field with one, or --crop\)/,
    );
  });
});
