import { atmosphericPressure, psychrometricConstant, windSpeedAt2m } from './atmosphere.js';
import { saturationSlope, saturationVapourPressure } from './humidity.js';
import { PENMAN_MONTEITH_CN, penmanMonteith } from './penman-monteith.js';
import {
  clearSkyRadiation,
  extraterrestrialRadiationPeriod,
  isDaytime,
  netLongwaveRadiationHourly,
  netShortwaveRadiation,
} from './radiation.js';

export interface HourlyEt0Input {
  /** Day of year, 1–366. */
  doy: number;
  /** Start of the hour, local standard time, 0–23. */
  hour: number;
  /** Latitude, decimal degrees, north positive. */
  latitudeDeg: number;
  /** Longitude of the site, decimal degrees, east positive. */
  longitudeDeg: number;
  /** Central meridian of the local time zone, decimal degrees, east positive (e.g. 15 for CET). */
  tzLongitudeDeg: number;
  /** Elevation above sea level, m. */
  elevationM: number;
  /** Mean air temperature of the hour at 2 m, °C. */
  temperatureC: number;
  /** Mean relative humidity of the hour, %. */
  rhPct: number;
  /** Mean wind speed of the hour, m/s, at `windHeightM` (default 2 m). */
  windSpeedMs: number;
  windHeightM?: number;
  /** Solar radiation received during the hour, MJ m-2 h-1. */
  solarRadiationMj: number;
  /**
   * Rs/Rso to use at night, when it cannot be measured: FAO-56 takes the ratio of a period
   * 2–3 h before sunset, roughly 0.4–0.6 in humid and 0.7–0.8 in arid climates.
   */
  rsRsoNight?: number;
}

/** Night-time Rs/Rso when none is given (the value FAO-56 Example 19 uses). */
export const DEFAULT_RS_RSO_NIGHT = 0.8;

export interface HourlyEt0Result {
  /** Reference evapotranspiration, mm/hour. */
  et0: number;
  /** Radiation terms, MJ m-2 h-1. */
  ra: number;
  rs: number;
  rso: number;
  rns: number;
  rnl: number;
  rn: number;
  g: number;
  /** Rs/Rso used for the longwave term. */
  rsRso: number;
  daytime: boolean;
  /** Vapour pressures, kPa; slope and psychrometric constant, kPa/°C; pressure, kPa. */
  es: number;
  ea: number;
  delta: number;
  gamma: number;
  pressure: number;
  /** Wind speed at 2 m, m/s. */
  u2: number;
}

/**
 * Hourly grass reference evapotranspiration (FAO-56 Eq. 53), with hourly extraterrestrial
 * radiation (Eq. 28), G = 0.1 Rn by day and 0.5 Rn by night (Eq. 45–46).
 */
export function computeHourlyEt0(input: HourlyEt0Input): HourlyEt0Result {
  const { doy, hour, latitudeDeg, longitudeDeg, tzLongitudeDeg, elevationM, temperatureC } = input;
  const pressure = atmosphericPressure(elevationM);
  const gamma = psychrometricConstant(pressure);
  const delta = saturationSlope(temperatureC);
  const es = saturationVapourPressure(temperatureC);
  const ea = (es * input.rhPct) / 100;

  const ra = extraterrestrialRadiationPeriod(latitudeDeg, longitudeDeg, tzLongitudeDeg, doy, hour, 1);
  const rso = clearSkyRadiation(ra, elevationM);
  const daytime = isDaytime(latitudeDeg, longitudeDeg, tzLongitudeDeg, doy, hour + 0.5);
  const rs = input.solarRadiationMj;
  // Near sunrise and sunset Rso is tiny and the measured ratio meaningless, so those hours use
  // the night-time ratio too.
  const rsRso = daytime && rso > 0.05 ? Math.min(1, rs / rso) : (input.rsRsoNight ?? DEFAULT_RS_RSO_NIGHT);
  const rns = netShortwaveRadiation(rs);
  const rnl = netLongwaveRadiationHourly(temperatureC, ea, rsRso);
  const rn = rns - rnl;
  const g = daytime ? 0.1 * rn : 0.5 * rn;
  const u2 = windSpeedAt2m(input.windSpeedMs, input.windHeightM ?? 2);

  const et0 = penmanMonteith({ delta, gamma, rn, g, temperatureC, u2, es, ea }, PENMAN_MONTEITH_CN.hourly);
  return { et0, ra, rs, rso, rns, rnl, rn, g, rsRso, daytime, es, ea, delta, gamma, pressure, u2 };
}
