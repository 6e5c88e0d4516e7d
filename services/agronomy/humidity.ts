/**
 * Air humidity, FAO-56 chapter 3. All vapour pressures in kPa, temperatures in °C.
 */

/**
 * Saturation vapour pressure at a temperature (FAO-56 Eq. 11).
 * @param temperatureC air temperature, °C
 * @returns e°(T), kPa
 */
export function saturationVapourPressure(temperatureC: number): number {
  return 0.6108 * Math.exp((17.27 * temperatureC) / (temperatureC + 237.3));
}

/**
 * Mean saturation vapour pressure of a day (FAO-56 Eq. 12). Averaging e° at Tmax and Tmin
 * rather than taking e° at Tmean matters because e°(T) is convex: the difference is the
 * vapour pressure deficit error FAO-56 warns about.
 * @returns es, kPa
 */
export function meanSaturationVapourPressure(tmaxC: number, tminC: number): number {
  return (saturationVapourPressure(tmaxC) + saturationVapourPressure(tminC)) / 2;
}

/**
 * Slope of the saturation vapour pressure curve (FAO-56 Eq. 13).
 * @param temperatureC mean air temperature, °C
 * @returns delta, kPa/°C
 */
export function saturationSlope(temperatureC: number): number {
  return (4098 * saturationVapourPressure(temperatureC)) / (temperatureC + 237.3) ** 2;
}

/**
 * Actual vapour pressure from the dew point (FAO-56 Eq. 14).
 * @returns ea, kPa
 */
export function actualVapourPressureFromDewPoint(tdewC: number): number {
  return saturationVapourPressure(tdewC);
}

/**
 * Actual vapour pressure from daily maximum and minimum relative humidity (FAO-56 Eq. 17).
 * @param rhMaxPct maximum relative humidity, %
 * @param rhMinPct minimum relative humidity, %
 * @returns ea, kPa
 */
export function actualVapourPressureFromRhMaxMin(
  tmaxC: number,
  tminC: number,
  rhMaxPct: number,
  rhMinPct: number,
): number {
  return (
    (saturationVapourPressure(tminC) * (rhMaxPct / 100) +
      saturationVapourPressure(tmaxC) * (rhMinPct / 100)) /
    2
  );
}

/**
 * Actual vapour pressure from mean relative humidity (FAO-56 Eq. 19), the least reliable of
 * the humidity options because RH swings over the day.
 * @returns ea, kPa
 */
export function actualVapourPressureFromRhMean(tmaxC: number, tminC: number, rhMeanPct: number): number {
  return (rhMeanPct / 100) * meanSaturationVapourPressure(tmaxC, tminC);
}

/**
 * Actual vapour pressure when humidity is missing (FAO-56 Eq. 48): the dew point is taken as
 * Tmin, less an offset (FAO-56 Annex 6 suggests about 2–3 °C in arid climates, 0 elsewhere).
 * @param dewPointOffsetC Tmin − Tdew, °C (default 0)
 * @returns ea, kPa
 */
export function actualVapourPressureFromTmin(tminC: number, dewPointOffsetC = 0): number {
  return saturationVapourPressure(tminC - dewPointOffsetC);
}
