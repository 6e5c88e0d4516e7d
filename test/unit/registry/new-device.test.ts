import { describe, expect, it } from 'vitest';
import { checkNewDevice } from '../../../services/registry/device.js';

describe('a new device', () => {
  const base = { id: 'n-1', farm: 'f', field: 'a', kind: 'device' as const };

  it('may stand anywhere on Earth, the edges included', () => {
    for (const location of [{ latitude: -90, longitude: 180, elevation: -500 }, { latitude: 90, longitude: -180, elevation: 9000 }, { latitude: 47.2, longitude: 8.5, elevation: 410 }]) {
      expect(() => checkNewDevice({ ...base, location })).not.toThrow();
    }
  });

  it('is refused with FH_ERR_DEVICE_INVALID naming the coordinate that is off the Earth', () => {
    for (const [location, field] of [
      [{ latitude: 90.5, longitude: 0, elevation: 0 }, 'latitude'],
      [{ latitude: 0, longitude: -181, elevation: 0 }, 'longitude'],
      [{ latitude: 0, longitude: 0, elevation: 9001 }, 'elevation'],
      [{ latitude: 0, longitude: Number.POSITIVE_INFINITY, elevation: 0 }, 'longitude'],
    ] as const) {
      expect(() => checkNewDevice({ ...base, location })).toThrow(expect.objectContaining({ code: 'FH_ERR_DEVICE_INVALID', details: { field } }));
    }
  });

  it('takes a profile a field can be built from, and refuses one it could not, naming the setting', () => {
    expect(() => checkNewDevice({ ...base, profile: { crop: 'potato', soil: 'loam', windHeightM: 10, soilProbeDepthM: 0.3 } })).not.toThrow();
    for (const [profile, field] of [
      [{ crop: 'banana' }, 'crop'],
      [{ crop: 'constructor' }, 'crop'],
      [{ soil: 'mud' }, 'soil'],
      [{ windHeightM: -3 }, 'windHeightM'],
      [{ windHeightM: 0 }, 'windHeightM'],
      [{ soilProbeDepthM: 12 }, 'soilProbeDepthM'],
    ] as const) {
      expect(() => checkNewDevice({ ...base, profile })).toThrow(expect.objectContaining({ code: 'FH_ERR_DEVICE_INVALID', details: { field } }));
    }
  });

  it('takes a secret of its own only when it could not be guessed or mangled in a header', () => {
    expect(() => checkNewDevice({ ...base, secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' })).not.toThrow();
    for (const secret of ['short', 'has space in it ok?', 'tab\tinside-a-long-secret', '']) {
      expect(() => checkNewDevice({ ...base, secret }), JSON.stringify(secret)).toThrow(expect.objectContaining({ code: 'FH_ERR_DEVICE_INVALID', details: { field: 'secret' } }));
    }
  });
});
