/**
 * Atmospheric parameters, FAO-56 chapter 3.
 */

/** Latent heat of vaporisation used throughout FAO-56, MJ/kg (20 °C). */
export const LATENT_HEAT_MJ_PER_KG = 2.45;

/**
 * Atmospheric pressure from elevation (FAO-56 Eq. 7), simplified ideal-gas law at 20 °C.
 * @param elevationM site elevation above sea level, m
 * @returns pressure, kPa
 */
export function atmosphericPressure(elevationM: number): number {
  return 101.3 * ((293 - 0.0065 * elevationM) / 293) ** 5.26;
}

/**
 * Psychrometric constant (FAO-56 Eq. 8).
 * @param pressureKpa atmospheric pressure, kPa
 * @returns gamma, kPa/°C
 */
export function psychrometricConstant(pressureKpa: number): number {
  return 0.665e-3 * pressureKpa;
}

/**
 * Wind speed at 2 m from a measurement at another height over grass (FAO-56 Eq. 47,
 * logarithmic profile).
 * @param speedMs measured wind speed, m/s
 * @param heightM measurement height above ground, m (must be > 0.08 m, where the log is positive)
 * @returns wind speed at 2 m, m/s
 */
export function windSpeedAt2m(speedMs: number, heightM: number): number {
  if (heightM === 2) return speedMs;
  return (speedMs * 4.87) / Math.log(67.8 * heightM - 5.42);
}
