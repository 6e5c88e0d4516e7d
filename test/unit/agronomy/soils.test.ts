import { describe, expect, it } from 'vitest';
import { SOIL_NAMES, getSoil } from '../../../services/agronomy/soils.js';

describe('soil presets (FAO-56 Table 19)', () => {
  it('has the textures, with θWP < θFC', () => {
    for (const name of ['sand', 'loamy-sand', 'sandy-loam', 'loam', 'silt-loam', 'silt', 'clay-loam', 'silty-clay', 'clay']) {
      expect(SOIL_NAMES).toContain(name);
    }
    for (const name of SOIL_NAMES) {
      const s = getSoil(name);
      expect(s.thetaWp).toBeLessThan(s.thetaFc);
    }
    expect(getSoil('sandy_loam')).toEqual({ name: 'sandy-loam', thetaFc: 0.23, thetaWp: 0.11 });
    expect(() => getSoil('peat')).toThrowError(expect.objectContaining({ code: 'FH_ERR_AGRONOMY_UNKNOWN_PRESET' }));
  });
});
