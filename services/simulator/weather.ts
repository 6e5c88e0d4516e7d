import { clearSkyRadiation, dayOfYear, extraterrestrialRadiationPeriod, saturationVapourPressure } from '../agronomy/index.js';
import type { ClimatePreset } from './climates.js';
import type { Random } from './random.js';

/** One simulated day: the statistics hourly values are drawn around. */
export interface DailyWeather {
  date: string;
  doy: number;
  tmaxC: number;
  tminC: number;
  /** Dew point, °C (constant over the day: vapour pressure changes far less than RH). */
  tdewC: number;
  /** Mean wind speed at 2 m, m/s. */
  windMs: number;
  /** Cloud fraction, 0–1. */
  cloud: number;
  /** Rain of the day, mm, falling from `rainStartHour` for `rainHours` hours. */
  rainMm: number;
  rainStartHour: number;
  rainHours: number;
}

/** One simulated hour. Values are means (or sums) over the hour that starts at `ts`. */
export interface HourlyWeather {
  /** Start of the hour, epoch ms (UTC). */
  ts: number;
  /** Local standard date and hour (0–23) of the start of the hour. */
  date: string;
  hour: number;
  doy: number;
  temperatureC: number;
  rhPct: number;
  /** Wind speed at 2 m, m/s. */
  windMs: number;
  /** Solar radiation received in the hour, MJ m-2 h-1. */
  solarRadiationMj: number;
  rainMm: number;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** Epoch ms of local standard midnight of a date at a time-zone meridian (degrees east). */
export function localMidnightUtcMs(date: string, tzLongitudeDeg: number): number {
  return Date.parse(`${date}T00:00:00Z`) - (tzLongitudeDeg / 15) * HOUR_MS;
}

/** `YYYY-MM-DD` plus a number of days. */
export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/**
 * Daily weather from a climate: a two-state Markov chain for wet days (more rain in the
 * climate's rainy season), an AR(1) temperature anomaly so warm and cold spells last a few days,
 * and cloud, wind and humidity that follow the rain.
 */
export function generateDailyWeather(climate: ClimatePreset, startDate: string, days: number, random: Random): DailyWeather[] {
  const out: DailyWeather[] = [];
  let wet = false;
  let anomaly = random.normal(0, 2);
  for (let i = 0; i < days; i++) {
    const date = addDays(startDate, i);
    const doy = dayOfYear(date);
    const season = 1 + climate.rainSeasonality * Math.cos((2 * Math.PI * (doy - climate.rainPeakDoy)) / 365);
    const pWet = Math.min(0.95, (wet ? climate.pWetAfterWet : climate.pWetAfterDry) * season);
    wet = random.chance(pWet);
    // Exponential amounts: many drizzles, a few downpours.
    const rainMm = wet ? Math.min(150, -climate.wetDayRainMm * Math.log(Math.max(random.next(), 1e-9))) : 0;
    const cloud = wet
      ? random.uniform(0.55, 1)
      : Math.min(0.95, Math.max(0, random.normal(climate.cloudiness, 0.15)));
    anomaly = 0.7 * anomaly + random.normal(0, 1.8);
    const tmean =
      climate.tMeanC +
      climate.tSeasonalAmplitudeC * Math.cos((2 * Math.PI * (doy - 200)) / 365) +
      anomaly -
      (wet ? 1.5 : 0);
    // Clouds damp the diurnal range: less heating by day, less cooling by night.
    const range = Math.max(2, climate.diurnalRangeC * (1.25 - 0.6 * cloud) + random.normal(0, 1.2));
    const tmaxC = tmean + range / 2;
    const tminC = tmean - range / 2;
    const depression = wet ? random.uniform(0, 1) : Math.max(0, random.normal(climate.dewDepressionC, climate.dewDepressionC * 0.3 + 0.3));
    const rainHours = random.int(1, 6);
    out.push({
      date,
      doy,
      tmaxC,
      tminC,
      tdewC: tminC - depression,
      windMs: Math.max(0.3, climate.windMs * Math.exp(random.normal(-0.06, 0.35))),
      cloud,
      rainMm,
      // The whole event falls within the day, so daily totals stay exact.
      rainStartHour: random.int(0, 24 - rainHours),
      rainHours,
    });
  }
  return out;
}

/** Temperature at a local clock time from the day's Tmin (at 06:00) and Tmax (at 15:00), °C. */
function diurnalTemperature(hourMid: number, prev: DailyWeather, day: DailyWeather, next: DailyWeather): number {
  if (hourMid < 6) {
    // Cooling from yesterday's maximum to today's minimum.
    const x = (hourMid + 9) / 15;
    return prev.tmaxC - (prev.tmaxC - day.tminC) * (1 - Math.cos(Math.PI * x)) * 0.5;
  }
  if (hourMid < 15) {
    const x = (hourMid - 6) / 9;
    return day.tminC + (day.tmaxC - day.tminC) * (1 - Math.cos(Math.PI * x)) * 0.5;
  }
  const x = (hourMid - 15) / 15;
  return day.tmaxC - (day.tmaxC - next.tminC) * (1 - Math.cos(Math.PI * x)) * 0.5;
}

/**
 * Hourly weather with diurnal cycles: temperature between Tmin at dawn and Tmax mid-afternoon,
 * RH from a constant dew point (so it peaks at dawn), afternoon wind, solar radiation from the
 * hourly extraterrestrial radiation and the day's clouds, and the day's rain over its rain hours.
 */
export function generateHourlyWeather(climate: ClimatePreset, daily: readonly DailyWeather[], random: Random): HourlyWeather[] {
  const out: HourlyWeather[] = [];
  daily.forEach((day, i) => {
    const prev = daily[i - 1] ?? day;
    const next = daily[i + 1] ?? day;
    const midnight = localMidnightUtcMs(day.date, climate.tzLongitudeDeg);
    const ea = saturationVapourPressure(day.tdewC);
    // Split the day's rain unevenly over its rain hours.
    const weights = Array.from({ length: day.rainHours }, () => random.uniform(0.2, 1));
    const weightSum = weights.reduce((a, b) => a + b, 0);
    for (let hour = 0; hour < 24; hour++) {
      const mid = hour + 0.5;
      const temperatureC = diurnalTemperature(mid, prev, day, next) + random.normal(0, 0.3);
      const rhPct = Math.min(100, (100 * ea) / saturationVapourPressure(temperatureC));
      const rainIndex = hour - day.rainStartHour;
      const raining = rainIndex >= 0 && rainIndex < day.rainHours && day.rainMm > 0;
      const rainMm = raining ? (day.rainMm * weights[rainIndex]!) / weightSum : 0;
      const ra = extraterrestrialRadiationPeriod(
        climate.latitudeDeg,
        climate.longitudeDeg,
        climate.tzLongitudeDeg,
        day.doy,
        hour,
        1,
      );
      const cloud = Math.min(1, Math.max(0, day.cloud + random.normal(0, 0.08)));
      const transmission = (1 - 0.7 * cloud) * (raining ? 0.6 : 1);
      out.push({
        ts: midnight + hour * HOUR_MS,
        date: day.date,
        hour,
        doy: day.doy,
        temperatureC,
        rhPct,
        windMs: Math.max(0.1, day.windMs * (1 + 0.45 * Math.cos((2 * Math.PI * (mid - 14)) / 24)) * Math.exp(random.normal(0, 0.15))),
        solarRadiationMj: clearSkyRadiation(ra, climate.elevationM) * transmission,
        rainMm,
      });
    }
  });
  return out;
}
