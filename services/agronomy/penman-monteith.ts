/**
 * The FAO Penman-Monteith equation for the grass reference surface (FAO-56 Eq. 6 daily,
 * Eq. 53 hourly). The two differ only in the numerator constant Cn (900 per day, 37 per hour)
 * and in the time unit of Rn and G.
 */
export interface PenmanMonteithTerms {
  /** Slope of the saturation vapour pressure curve, kPa/°C. */
  delta: number;
  /** Psychrometric constant, kPa/°C. */
  gamma: number;
  /** Net radiation at the crop surface, MJ m-2 per time step. */
  rn: number;
  /** Soil heat flux density, MJ m-2 per time step. */
  g: number;
  /** Mean air temperature of the time step at 2 m, °C. */
  temperatureC: number;
  /** Wind speed at 2 m, m/s. */
  u2: number;
  /** Saturation vapour pressure, kPa. */
  es: number;
  /** Actual vapour pressure, kPa. */
  ea: number;
}

/** Numerator constant Cn, K mm s³ Mg-1 per time step (FAO-56 Eq. 6 and 53). */
export const PENMAN_MONTEITH_CN = { daily: 900, hourly: 37 } as const;

/**
 * Reference evapotranspiration ET0 (FAO-56 Eq. 6 / Eq. 53).
 * @param cn 900 for a day, 37 for an hour
 * @returns ET0, mm per time step (never negative: condensation is not counted as negative ET)
 */
export function penmanMonteith(t: PenmanMonteithTerms, cn: number): number {
  const numerator =
    0.408 * t.delta * (t.rn - t.g) + t.gamma * (cn / (t.temperatureC + 273)) * t.u2 * (t.es - t.ea);
  const denominator = t.delta + t.gamma * (1 + 0.34 * t.u2);
  return Math.max(0, numerator / denominator);
}
