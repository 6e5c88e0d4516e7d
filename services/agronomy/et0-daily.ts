import { atmosphericPressure, psychrometricConstant, windSpeedAt2m } from './atmosphere.js';
import {
  actualVapourPressureFromDewPoint,
  actualVapourPressureFromRhMaxMin,
  actualVapourPressureFromRhMean,
  actualVapourPressureFromTmin,
  meanSaturationVapourPressure,
  saturationSlope,
} from './humidity.js';
import { PENMAN_MONTEITH_CN, penmanMonteith } from './penman-monteith.js';
import {
  HARGREAVES_KRS,
  clearSkyRadiation,
  daylightHours,
  extraterrestrialRadiationDaily,
  netLongwaveRadiationDaily,
  netShortwaveRadiation,
  solarRadiationFromSunshine,
  solarRadiationFromTemperature,
} from './radiation.js';

/** Where the day's actual vapour pressure comes from, best first (FAO-56 ch. 3). */
export type DailyHumidity =
  | { kind: 'rh-max-min'; rhMaxPct: number; rhMinPct: number }
  | { kind: 'dew-point'; tdewC: number }
  | { kind: 'vapour-pressure'; eaKpa: number }
  | { kind: 'rh-mean'; rhMeanPct: number }
  /** Humidity missing: Tdew ≈ Tmin − offset (FAO-56 Eq. 48). */
  | { kind: 'tmin'; dewPointOffsetC?: number };

/** Where the day's solar radiation comes from. */
export type DailyRadiation =
  | { kind: 'measured'; rsMj: number }
  | { kind: 'sunshine'; sunshineHours: number }
  /** Radiation missing: Hargreaves' formula from Tmax − Tmin (FAO-56 Eq. 50). */
  | { kind: 'temperature'; coastal: boolean };

export interface DailyEt0Input {
  /** Day of year, 1–366. */
  doy: number;
  /** Latitude, decimal degrees, north positive. */
  latitudeDeg: number;
  /** Elevation above sea level, m. */
  elevationM: number;
  /** Daily maximum and minimum air temperature at 2 m, °C. */
  tmaxC: number;
  tminC: number;
  humidity: DailyHumidity;
  radiation: DailyRadiation;
  /** Mean daily wind speed, m/s, at `windHeightM`. Omitted: 2 m/s at 2 m (FAO-56 ch. 3 default). */
  windSpeedMs?: number;
  /** Height of the wind measurement, m (default 2). */
  windHeightM?: number;
  /** Soil heat flux, MJ m-2 day-1 (default 0: negligible for a day, FAO-56 Eq. 42). */
  soilHeatFluxMj?: number;
}

/** ET0 and every intermediate value, so a calculation can be checked line by line. */
export interface DailyEt0Result {
  /** Reference evapotranspiration, mm/day. */
  et0: number;
  /** Extraterrestrial radiation, MJ m-2 day-1. */
  ra: number;
  /** Maximum possible sunshine duration, hours. */
  daylightHours: number;
  /** Solar, clear-sky, net shortwave, net longwave and net radiation, MJ m-2 day-1. */
  rs: number;
  rso: number;
  rns: number;
  rnl: number;
  rn: number;
  /** Soil heat flux, MJ m-2 day-1. */
  g: number;
  /** Mean saturation and actual vapour pressure, kPa. */
  es: number;
  ea: number;
  /** Slope of the vapour pressure curve and psychrometric constant, kPa/°C. */
  delta: number;
  gamma: number;
  /** Atmospheric pressure, kPa. */
  pressure: number;
  /** Wind speed at 2 m, m/s. */
  u2: number;
  /** Mean air temperature (Tmax + Tmin) / 2, °C. */
  tmean: number;
}

/** Wind speed FAO-56 recommends when no wind data exist, m/s at 2 m. */
export const DEFAULT_WIND_SPEED_MS = 2;

/** Actual vapour pressure of a day from whichever humidity record exists, kPa. */
export function dailyActualVapourPressure(tmaxC: number, tminC: number, humidity: DailyHumidity): number {
  switch (humidity.kind) {
    case 'rh-max-min':
      return actualVapourPressureFromRhMaxMin(tmaxC, tminC, humidity.rhMaxPct, humidity.rhMinPct);
    case 'dew-point':
      return actualVapourPressureFromDewPoint(humidity.tdewC);
    case 'vapour-pressure':
      return humidity.eaKpa;
    case 'rh-mean':
      return actualVapourPressureFromRhMean(tmaxC, tminC, humidity.rhMeanPct);
    case 'tmin':
      return actualVapourPressureFromTmin(tminC, humidity.dewPointOffsetC ?? 0);
  }
}

/**
 * Daily grass reference evapotranspiration by FAO Penman-Monteith (FAO-56 Eq. 6), with every
 * supporting equation of chapter 3.
 */
export function computeDailyEt0(input: DailyEt0Input): DailyEt0Result {
  const { doy, latitudeDeg, elevationM, tmaxC, tminC } = input;
  const tmean = (tmaxC + tminC) / 2;
  const pressure = atmosphericPressure(elevationM);
  const gamma = psychrometricConstant(pressure);
  const delta = saturationSlope(tmean);
  const es = meanSaturationVapourPressure(tmaxC, tminC);
  const ea = dailyActualVapourPressure(tmaxC, tminC, input.humidity);

  const ra = extraterrestrialRadiationDaily(latitudeDeg, doy);
  const daylight = daylightHours(latitudeDeg, doy);
  const rso = clearSkyRadiation(ra, elevationM);
  let rs: number;
  switch (input.radiation.kind) {
    case 'measured':
      rs = input.radiation.rsMj;
      break;
    case 'sunshine':
      rs = solarRadiationFromSunshine(input.radiation.sunshineHours, daylight, ra);
      break;
    case 'temperature': {
      const krs = input.radiation.coastal ? HARGREAVES_KRS.coastal : HARGREAVES_KRS.interior;
      // An estimate above the clear-sky value is physically impossible; FAO-56 caps it.
      rs = Math.min(rso, solarRadiationFromTemperature(tmaxC, tminC, ra, krs));
      break;
    }
  }
  const rns = netShortwaveRadiation(rs);
  const rnl = netLongwaveRadiationDaily(tmaxC, tminC, ea, rso > 0 ? rs / rso : 1);
  const rn = rns - rnl;
  const g = input.soilHeatFluxMj ?? 0;
  const u2 =
    input.windSpeedMs === undefined
      ? DEFAULT_WIND_SPEED_MS
      : windSpeedAt2m(input.windSpeedMs, input.windHeightM ?? 2);

  const et0 = penmanMonteith({ delta, gamma, rn, g, temperatureC: tmean, u2, es, ea }, PENMAN_MONTEITH_CN.daily);
  return { et0, ra, daylightHours: daylight, rs, rso, rns, rnl, rn, g, es, ea, delta, gamma, pressure, u2, tmean };
}
