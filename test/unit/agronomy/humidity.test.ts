import { describe, expect, it } from 'vitest';
import { actualVapourPressureFromRhMaxMin, meanSaturationVapourPressure } from '../../../services/agronomy/humidity.js';

// Published values: Allen, Pereira, Raes & Smith (1998), "Crop evapotranspiration — Guidelines
// for computing crop water requirements", FAO Irrigation and Drainage Paper 56 ("FAO-56").
// FAO-56 prints rounded intermediates, so the tolerances follow the printed precision.

describe('humidity (FAO-56 chapter 3 worked examples)', () => {
  it('mean saturation vapour pressure (FAO-56, Example 3: Tmax 24.5, Tmin 15 °C → es = 2.39 kPa)', () => {
    expect(meanSaturationVapourPressure(24.5, 15)).toBeCloseTo(2.39, 2);
  });

  it('ea from RHmax/RHmin (FAO-56, Example 5: 25/18 °C, 82/54 % → ea = 1.70 kPa)', () => {
    expect(actualVapourPressureFromRhMaxMin(25, 18, 82, 54)).toBeCloseTo(1.7, 2);
  });
});
