/**
 * Radiation, FAO-56 chapter 3. Radiation is in MJ m-2 per day (daily functions) or per hour
 * (hourly functions); latitude in decimal degrees, north positive.
 */

/** Solar constant, MJ m-2 min-1. */
export const SOLAR_CONSTANT = 0.082;
/** Stefan-Boltzmann constant per day, MJ K-4 m-2 day-1. */
export const STEFAN_BOLTZMANN_DAILY = 4.903e-9;
/** Stefan-Boltzmann constant per hour, MJ K-4 m-2 h-1. */
export const STEFAN_BOLTZMANN_HOURLY = 2.043e-10;
/** Albedo of the grass reference crop. */
export const REFERENCE_ALBEDO = 0.23;
/** Angstrom coefficients recommended when no calibration exists (FAO-56 Eq. 35). */
export const DEFAULT_ANGSTROM = { as: 0.25, bs: 0.5 } as const;
/** Hargreaves radiation adjustment coefficients kRs (FAO-56 Eq. 50), °C^-0.5. */
export const HARGREAVES_KRS = { interior: 0.16, coastal: 0.19 } as const;

const deg2rad = (deg: number) => (deg * Math.PI) / 180;

/** Day of year (1–366) of a calendar date `YYYY-MM-DD` (FAO-56 "J"). */
export function dayOfYear(date: string): number {
  const t = Date.parse(`${date}T00:00:00Z`);
  const start = Date.UTC(Number(date.slice(0, 4)), 0, 1);
  return Math.round((t - start) / 86_400_000) + 1;
}

/** Inverse relative distance Earth–Sun (FAO-56 Eq. 23). */
export function inverseRelativeDistance(doy: number): number {
  return 1 + 0.033 * Math.cos(((2 * Math.PI) / 365) * doy);
}

/** Solar declination, rad (FAO-56 Eq. 24). */
export function solarDeclination(doy: number): number {
  return 0.409 * Math.sin(((2 * Math.PI) / 365) * doy - 1.39);
}

/**
 * Sunset hour angle, rad (FAO-56 Eq. 25). The argument of acos is clamped so polar day and
 * night give π and 0 instead of NaN.
 */
export function sunsetHourAngle(latitudeDeg: number, doy: number): number {
  const x = -Math.tan(deg2rad(latitudeDeg)) * Math.tan(solarDeclination(doy));
  return Math.acos(Math.min(1, Math.max(-1, x)));
}

/**
 * Daily extraterrestrial radiation (FAO-56 Eq. 21).
 * @returns Ra, MJ m-2 day-1
 */
export function extraterrestrialRadiationDaily(latitudeDeg: number, doy: number): number {
  const phi = deg2rad(latitudeDeg);
  const dr = inverseRelativeDistance(doy);
  const delta = solarDeclination(doy);
  const ws = sunsetHourAngle(latitudeDeg, doy);
  const ra =
    ((24 * 60) / Math.PI) *
    SOLAR_CONSTANT *
    dr *
    (ws * Math.sin(phi) * Math.sin(delta) + Math.cos(phi) * Math.cos(delta) * Math.sin(ws));
  return Math.max(0, ra);
}

/** Daylight hours N (FAO-56 Eq. 34), hours. */
export function daylightHours(latitudeDeg: number, doy: number): number {
  return (24 / Math.PI) * sunsetHourAngle(latitudeDeg, doy);
}

/**
 * Solar radiation from actual sunshine duration (Angstrom formula, FAO-56 Eq. 35).
 * @param sunshineHours actual duration of sunshine n, hours
 * @param daylight maximum possible sunshine N, hours
 * @param ra extraterrestrial radiation, MJ m-2 day-1
 * @returns Rs, MJ m-2 day-1
 */
export function solarRadiationFromSunshine(
  sunshineHours: number,
  daylight: number,
  ra: number,
  angstrom: { as: number; bs: number } = DEFAULT_ANGSTROM,
): number {
  return (angstrom.as + (angstrom.bs * sunshineHours) / daylight) * ra;
}

/**
 * Solar radiation from the air temperature range (Hargreaves' radiation formula, FAO-56
 * Eq. 50), for days without a radiation or sunshine record.
 * @param krs 0.16 for interior locations, 0.19 for coastal ones, °C^-0.5
 * @returns Rs, MJ m-2 day-1
 */
export function solarRadiationFromTemperature(tmaxC: number, tminC: number, ra: number, krs: number): number {
  return krs * Math.sqrt(Math.max(0, tmaxC - tminC)) * ra;
}

/**
 * Clear-sky solar radiation (FAO-56 Eq. 37); works for daily and hourly Ra alike.
 * @returns Rso, same unit as `ra`
 */
export function clearSkyRadiation(ra: number, elevationM: number): number {
  return (0.75 + 2e-5 * elevationM) * ra;
}

/** Net shortwave radiation (FAO-56 Eq. 38), same unit as `rs`. */
export function netShortwaveRadiation(rs: number, albedo = REFERENCE_ALBEDO): number {
  return (1 - albedo) * rs;
}

/**
 * Daily net outgoing longwave radiation (FAO-56 Eq. 39).
 * @param ea actual vapour pressure, kPa
 * @param rsRso relative shortwave radiation Rs/Rso (limited to ≤ 1)
 * @returns Rnl, MJ m-2 day-1
 */
export function netLongwaveRadiationDaily(tmaxC: number, tminC: number, ea: number, rsRso: number): number {
  const tmaxK4 = (tmaxC + 273.16) ** 4;
  const tminK4 = (tminC + 273.16) ** 4;
  return (
    STEFAN_BOLTZMANN_DAILY *
    ((tmaxK4 + tminK4) / 2) *
    (0.34 - 0.14 * Math.sqrt(ea)) *
    (1.35 * Math.min(1, rsRso) - 0.35)
  );
}

/**
 * Hourly net outgoing longwave radiation (FAO-56 Eq. 39 with the hourly Stefan-Boltzmann
 * constant and the mean hourly temperature).
 * @returns Rnl, MJ m-2 h-1
 */
export function netLongwaveRadiationHourly(temperatureC: number, ea: number, rsRso: number): number {
  return (
    STEFAN_BOLTZMANN_HOURLY *
    (temperatureC + 273.16) ** 4 *
    (0.34 - 0.14 * Math.sqrt(ea)) *
    (1.35 * Math.min(1, rsRso) - 0.35)
  );
}

/** Seasonal correction for solar time, hours (FAO-56 Eq. 32–33). */
export function seasonalCorrection(doy: number): number {
  const b = (2 * Math.PI * (doy - 81)) / 364;
  return 0.1645 * Math.sin(2 * b) - 0.1255 * Math.cos(b) - 0.025 * Math.sin(b);
}

/**
 * Solar time angle at the midpoint of a period (FAO-56 Eq. 31), rad. FAO-56 writes longitudes
 * in degrees west of Greenwich; here they are east positive, so Lz − Lm becomes lon − tzLon.
 * @param clockHourMid local standard clock time at the midpoint of the period, hours (e.g. 14.5)
 * @param longitudeDeg site longitude, east positive
 * @param tzLongitudeDeg central meridian of the local time zone, east positive
 */
export function solarTimeAngle(clockHourMid: number, longitudeDeg: number, tzLongitudeDeg: number, doy: number): number {
  return (Math.PI / 12) * (clockHourMid + 0.06667 * (longitudeDeg - tzLongitudeDeg) + seasonalCorrection(doy) - 12);
}

/**
 * Extraterrestrial radiation for a period shorter than a day (FAO-56 Eq. 28–31). The hour
 * angles are clipped to sunrise/sunset so a period that straddles either gets its daylight part.
 * @param startHour local standard clock time at the start of the period, hours
 * @param periodHours length of the period, hours (1 for hourly)
 * @returns Ra, MJ m-2 per period
 */
export function extraterrestrialRadiationPeriod(
  latitudeDeg: number,
  longitudeDeg: number,
  tzLongitudeDeg: number,
  doy: number,
  startHour: number,
  periodHours = 1,
): number {
  const phi = deg2rad(latitudeDeg);
  const dr = inverseRelativeDistance(doy);
  const delta = solarDeclination(doy);
  const ws = sunsetHourAngle(latitudeDeg, doy);
  const w = solarTimeAngle(startHour + periodHours / 2, longitudeDeg, tzLongitudeDeg, doy);
  const w1 = Math.max(-ws, Math.min(ws, w - (Math.PI * periodHours) / 24));
  const w2 = Math.max(-ws, Math.min(ws, w + (Math.PI * periodHours) / 24));
  if (w2 <= w1) return 0;
  const ra =
    ((12 * 60) / Math.PI) *
    SOLAR_CONSTANT *
    dr *
    ((w2 - w1) * Math.sin(phi) * Math.sin(delta) + Math.cos(phi) * Math.cos(delta) * (Math.sin(w2) - Math.sin(w1)));
  return Math.max(0, ra);
}

/**
 * Whether the sun is above the horizon at the midpoint of a period (solar time angle within
 * ±ωs). Decides daytime vs night-time rules for hourly G and Rs/Rso.
 */
export function isDaytime(
  latitudeDeg: number,
  longitudeDeg: number,
  tzLongitudeDeg: number,
  doy: number,
  clockHourMid: number,
): boolean {
  const w = solarTimeAngle(clockHourMid, longitudeDeg, tzLongitudeDeg, doy);
  // Bring w into (−π, π] so a midpoint just after midnight is not mistaken for daytime.
  const wn = Math.atan2(Math.sin(w), Math.cos(w));
  return Math.abs(wn) < sunsetHourAngle(latitudeDeg, doy);
}
