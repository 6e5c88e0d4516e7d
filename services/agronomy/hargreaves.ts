/**
 * Reference evapotranspiration from air temperature alone: the Hargreaves equation (FAO-56
 * Eq. 52), what FAO-56 offers when humidity, wind and radiation are not measured. It rests on
 * the daily temperature range standing in for radiation and humidity, so it is a daily method;
 * over a day it agrees with Penman-Monteith within about 10–15 % in most climates but
 * over-estimates in humid and under-estimates in windy ones (FAO-56 chapter 3).
 */

/** MJ m-2 → mm of water evaporated (FAO-56 Eq. 20: 1 / λ with λ = 2.45 MJ kg-1). */
const MJ_TO_MM = 0.408;

/**
 * Hargreaves ET0 (FAO-56 Eq. 52) for the extraterrestrial radiation of a period: with the day's
 * Ra it is the daily ET0; with an hour's Ra (Eq. 28) it gives that hour's share, and the hours of
 * a day add up to the daily value, so demand still follows the sun.
 * @param tmeanC mean air temperature of the day, °C
 * @param tmaxC maximum air temperature of the day, °C
 * @param tminC minimum air temperature of the day, °C
 * @param raMj extraterrestrial radiation of the period, MJ m-2
 * @returns ET0 of the period, mm
 */
export function hargreavesEt0(tmeanC: number, tmaxC: number, tminC: number, raMj: number): number {
  return Math.max(0, 0.0023 * (tmeanC + 17.8) * Math.sqrt(Math.max(0, tmaxC - tminC)) * MJ_TO_MM * raMj);
}
