import { describe, expect, it } from 'vitest';
import { atmosphericPressure, psychrometricConstant, windSpeedAt2m } from '../../../services/agronomy/atmosphere.js';

// Published values: Allen, Pereira, Raes & Smith (1998), "Crop evapotranspiration — Guidelines
// for computing crop water requirements", FAO Irrigation and Drainage Paper 56 ("FAO-56").
// FAO-56 prints rounded intermediates, so the tolerances follow the printed precision.

describe('atmosphere (FAO-56 chapter 3 worked examples)', () => {
  it('pressure and gamma at 1800 m (FAO-56, Example 2: P = 81.8 kPa, γ = 0.054 kPa/°C)', () => {
    const p = atmosphericPressure(1800);
    expect(p).toBeCloseTo(81.8, 1);
    expect(psychrometricConstant(p)).toBeCloseTo(0.054, 3);
  });

  it('wind at 2 m from 10 m (FAO-56, Example 14: 3.2 m/s at 10 m → 2.4 m/s)', () => {
    expect(windSpeedAt2m(3.2, 10)).toBeCloseTo(2.4, 1);
    expect(windSpeedAt2m(3.2, 2)).toBe(3.2);
  });
});
