/**
 * The JSON requests of `fieldhook agronomy`: snake_case objects in, the same objects out with
 * the result and every intermediate value added. Validation lives here, not in the CLI, so any
 * other front end (an HTTP route, a notebook) gets the same checks and messages.
 */
import { computeDailyEt0, type DailyEt0Result, type DailyHumidity, type DailyRadiation } from './et0-daily.js';
import { computeHourlyEt0 } from './et0-hourly.js';
import { saturationVapourPressure } from './humidity.js';
import { InputReader } from './input-reader.js';
import { dayOfYear, daylightHours, extraterrestrialRadiationDaily } from './radiation.js';
import { runWaterBalance, totalAvailableWater, type WaterBalanceInput } from './water-balance.js';

type Json = Record<string, unknown>;

/** Fields that may ride along untouched, to label a row. */
const PASSTHROUGH = ['id', 'name', 'station', 'note'];

/** Rounds the numbers we print: 4 decimals is well below the precision of any input. */
const r4 = (x: number) => Math.round(x * 1e4) / 1e4;

/** Validate and compute one ET0 request: daily, or hourly when it has an `hour` field. */
export function evaluateEt0Request(value: unknown, path = ''): Json {
  const reader = new InputReader(value, path);
  return reader.has('hour') ? hourlyEt0(reader, value as Json) : dailyEt0(reader, value as Json);
}

function dailyEt0(in_: InputReader, original: Json): Json {
  const date = in_.date('date');
  const latitudeDeg = in_.number('latitude', { required: true, min: -90, max: 90 });
  const elevationM = in_.number('elevation', { required: true, min: -450, max: 8850 });
  const tmaxC = in_.number('tmax', { required: true, min: -60, max: 60 });
  const tminC = in_.number('tmin', { required: true, min: -60, max: 60 });
  if (tminC > tmaxC) in_.fail('tmin', `must not exceed tmax (${tminC} > ${tmaxC})`);
  const doy = dayOfYear(date);

  let humidity: DailyHumidity;
  switch (in_.oneOf([['rh_max', 'rh_min'], ['tdew'], ['ea'], ['rh_mean']])) {
    case 0: {
      const rhMaxPct = in_.number('rh_max', { required: true, min: 0, max: 100 });
      const rhMinPct = in_.number('rh_min', { required: true, min: 0, max: 100 });
      if (rhMinPct > rhMaxPct) in_.fail('rh_min', `must not exceed rh_max (${rhMinPct} > ${rhMaxPct})`);
      humidity = { kind: 'rh-max-min', rhMaxPct, rhMinPct };
      break;
    }
    case 1: {
      const tdewC = in_.number('tdew', { required: true, min: -80, max: 60 });
      if (tdewC > tmaxC) in_.fail('tdew', `must not exceed tmax (${tdewC} > ${tmaxC})`);
      humidity = { kind: 'dew-point', tdewC };
      break;
    }
    case 2: {
      const eaKpa = in_.number('ea', { required: true, min: 0, exclusiveMin: true });
      const limit = saturationVapourPressure(tmaxC);
      if (eaKpa > limit * 1.01) in_.fail('ea', `exceeds the saturation vapour pressure at tmax (${r4(limit)} kPa)`);
      humidity = { kind: 'vapour-pressure', eaKpa };
      break;
    }
    case 3:
      humidity = { kind: 'rh-mean', rhMeanPct: in_.number('rh_mean', { required: true, min: 0, max: 100 }) };
      break;
    default:
      humidity = { kind: 'tmin', dewPointOffsetC: in_.number('dew_point_offset', { min: 0, max: 10 }) ?? 0 };
  }
  if (humidity.kind !== 'tmin' && in_.has('dew_point_offset')) {
    in_.fail('dew_point_offset', 'only applies when no humidity field is given');
  }

  const windSpeedMs = in_.number('wind_speed', { min: 0, max: 75 });
  const windHeightM = in_.number('wind_height', { min: 0.5, max: 100 });
  if (windHeightM !== undefined && windSpeedMs === undefined) in_.fail('wind_height', 'given without wind_speed');

  let radiation: DailyRadiation;
  const ra = extraterrestrialRadiationDaily(latitudeDeg, doy);
  switch (in_.oneOf([['solar_radiation'], ['sunshine_hours']])) {
    case 0: {
      const rsMj = in_.number('solar_radiation', { required: true, min: 0, max: 50 });
      if (rsMj > ra) in_.fail('solar_radiation', `exceeds the extraterrestrial radiation of the day (${r4(ra)} MJ m-2 day-1)`);
      radiation = { kind: 'measured', rsMj };
      break;
    }
    case 1: {
      const sunshineHours = in_.number('sunshine_hours', { required: true, min: 0, max: 24 });
      const n = daylightHours(latitudeDeg, doy);
      if (sunshineHours > n + 0.05) in_.fail('sunshine_hours', `exceeds the daylight hours of the day (${r4(n)} h)`);
      radiation = { kind: 'sunshine', sunshineHours };
      break;
    }
    default:
      radiation = { kind: 'temperature', coastal: in_.boolean('coastal') ?? false };
  }
  if (radiation.kind !== 'temperature' && in_.has('coastal')) {
    in_.fail('coastal', 'only applies when radiation is estimated from temperature (no solar_radiation or sunshine_hours)');
  }
  const soilHeatFluxMj = in_.number('soil_heat_flux', { min: -10, max: 10 });
  in_.rejectUnknown(PASSTHROUGH);

  const res = computeDailyEt0({
    doy,
    latitudeDeg,
    elevationM,
    tmaxC,
    tminC,
    humidity,
    radiation,
    ...(windSpeedMs !== undefined ? { windSpeedMs, windHeightM: windHeightM ?? 2 } : {}),
    ...(soilHeatFluxMj !== undefined ? { soilHeatFluxMj } : {}),
  });
  return {
    ...original,
    et0: r4(res.et0),
    doy,
    humidity_source: humidity.kind,
    radiation_source: radiation.kind,
    ra: r4(res.ra),
    daylight_hours: r4(res.daylightHours),
    rs: r4(res.rs),
    rso: r4(res.rso),
    tmean: r4(res.tmean),
    ...balanceTerms(res),
  };
}

function hourlyEt0(in_: InputReader, original: Json): Json {
  const date = in_.date('date');
  const hour = in_.integer('hour', { required: true, min: 0, max: 23 });
  const latitudeDeg = in_.number('latitude', { required: true, min: -90, max: 90 });
  const longitudeDeg = in_.number('longitude', { required: true, min: -180, max: 180 });
  const tzLongitudeDeg = in_.number('tz_longitude', { required: true, min: -180, max: 180 });
  const elevationM = in_.number('elevation', { required: true, min: -450, max: 8850 });
  const temperatureC = in_.number('temperature', { required: true, min: -60, max: 60 });
  const rhPct = in_.number('rh', { required: true, min: 0, max: 100 });
  const windSpeedMs = in_.number('wind_speed', { required: true, min: 0, max: 75 });
  const windHeightM = in_.number('wind_height', { min: 0.5, max: 100 }) ?? 2;
  const solarRadiationMj = in_.number('solar_radiation', { required: true, min: 0, max: 5 });
  const rsRsoNight = in_.number('rs_rso_night', { min: 0.25, max: 1 });
  in_.rejectUnknown(PASSTHROUGH);
  const doy = dayOfYear(date);
  const res = computeHourlyEt0({
    doy,
    hour,
    latitudeDeg,
    longitudeDeg,
    tzLongitudeDeg,
    elevationM,
    temperatureC,
    rhPct,
    windSpeedMs,
    windHeightM,
    solarRadiationMj,
    ...(rsRsoNight !== undefined ? { rsRsoNight } : {}),
  });
  if (res.ra === 0 && solarRadiationMj > 0.05) {
    in_.fail('solar_radiation', 'is positive but the sun is below the horizon for the whole hour (check hour, longitude and tz_longitude)');
  }
  return {
    ...original,
    et0: r4(res.et0),
    doy,
    daytime: res.daytime,
    ra: r4(res.ra),
    rs: r4(res.rs),
    rso: r4(res.rso),
    rs_rso: r4(res.rsRso),
    ...balanceTerms(res),
  };
}

/** The Penman-Monteith terms daily and hourly results share, rounded for display. */
function balanceTerms(res: Pick<DailyEt0Result, 'rns' | 'rnl' | 'rn' | 'g' | 'es' | 'ea' | 'delta' | 'pressure' | 'gamma' | 'u2'>): Json {
  return {
    rns: r4(res.rns),
    rnl: r4(res.rnl),
    rn: r4(res.rn),
    g: r4(res.g),
    es: r4(res.es),
    ea: r4(res.ea),
    delta: r4(res.delta),
    pressure: r4(res.pressure),
    gamma: r4(res.gamma),
    u2: r4(res.u2),
  };
}

/** Validate and run one soil water balance request. */
export function evaluateBalanceRequest(value: unknown, path = ''): Json {
  const in_: InputReader = new InputReader(value, path);
  const thetaFc = in_.number('theta_fc', { required: true, min: 0, max: 0.7, exclusiveMin: true });
  const thetaWp = in_.number('theta_wp', { required: true, min: 0, max: 0.7 });
  if (thetaWp >= thetaFc) in_.fail('theta_wp', `must be below theta_fc (${thetaWp} ≥ ${thetaFc})`);
  const rootDepthM = in_.number('root_depth', { required: true, min: 0, max: 5, exclusiveMin: true });
  const p = in_.number('p', { required: true, min: 0, max: 1, exclusiveMin: true });
  const taw = totalAvailableWater(thetaFc, thetaWp, rootDepthM);
  let initialDepletionMm: number;
  switch (in_.oneOf([['initial_depletion'], ['initial_soil_moisture']])) {
    case 0:
      initialDepletionMm = in_.number('initial_depletion', { required: true, min: 0, max: taw });
      break;
    case 1: {
      const theta = in_.number('initial_soil_moisture', { required: true, min: 0, max: 0.7 });
      // Eq. 87; wetter than field capacity drains to it, drier than wilting point is clipped.
      initialDepletionMm = Math.min(taw, Math.max(0, 1000 * (thetaFc - theta) * rootDepthM));
      break;
    }
    default:
      in_.fail('initial_depletion', 'is required (or initial_soil_moisture)');
  }
  const days: WaterBalanceInput[] = in_.array('days').map((d, i) => {
    const day: InputReader = new InputReader(d, in_.path(`days[${i}]`));
    const et0 = day.number('et0', { required: true, min: 0, max: 30 });
    const kc = day.number('kc', { required: true, min: 0, max: 2 });
    const rain = day.number('rain', { min: 0, max: 1000 }) ?? 0;
    const runoff = day.number('runoff', { min: 0, max: 1000 }) ?? 0;
    if (runoff > rain) day.fail('runoff', `must not exceed rain (${runoff} > ${rain})`);
    const irrigation = day.number('irrigation', { min: 0, max: 1000 }) ?? 0;
    day.rejectUnknown(['date', ...PASSTHROUGH]);
    return { et0, kc, rain, runoff, irrigation };
  });
  in_.rejectUnknown(PASSTHROUGH);

  const run = runWaterBalance({ thetaFc, thetaWp, rootDepthM, p, initialDepletionMm }, days);
  const inputDays = (value as { days: Json[] }).days;
  return {
    ...(value as Json),
    taw: r4(run.taw),
    raw: r4(run.raw),
    initial_depletion: r4(initialDepletionMm),
    days: run.steps.map((s, i) => ({
      ...inputDays[i],
      ks: r4(s.ks),
      etc_adj: r4(s.etcAdj),
      deep_percolation: r4(s.deepPercolation),
      depletion_end: r4(s.depletionEnd),
      irrigate: s.irrigate,
      irrigation_depth: r4(s.irrigationDepth),
    })),
  };
}

/** Apply a request evaluator to one object or to each element of an array (same shape out). */
export function evaluateMany(value: unknown, evaluate: (v: unknown, path: string) => Json): Json | Json[] {
  return Array.isArray(value) ? value.map((v, i) => evaluate(v, `[${i}]`)) : evaluate(value, '');
}
