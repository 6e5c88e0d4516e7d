/**
 * The weather ahead for a farm or one of its fields: hourly amounts and states, each hour
 * stamped with the end of the period it describes (as readings are). What a forecast says and
 * the checks it passes before it is stored; no I/O.
 */
import { hasControlCharacter, ID_PATTERN } from '../shared/ids.js';
import { Errors } from '../shared/error-catalog.js';
import { parseApiTime, timeRefusal } from '../shared/timestamps.js';

/** One forecast hour. Every quantity is optional: a forecast says what its source knows. */
export interface ForecastHour {
  /** End of the hour, epoch ms (on the hour). */
  ts: number;
  /** Rain in the hour, mm. */
  rainMm?: number;
  /** Probability of that rain, 0–1 (absent: taken as certain). */
  rainProbability?: number;
  /** Reference evapotranspiration of the hour, mm. */
  et0Mm?: number;
  /** Mean air temperature °C, relative humidity %, wind speed m/s, solar radiation W/m2. */
  airTemperature?: number;
  relativeHumidity?: number;
  windSpeed?: number;
  solarRadiation?: number;
}

export interface Forecast {
  farm: string;
  /** The field it is for; absent: every field of the farm. */
  field?: string;
  /** When the source issued it, epoch ms: a newer issue replaces an older one hour by hour. */
  issuedAt: number;
  /** Who made it (`open-meteo`, a gateway's id, `api`). */
  source: string;
  hours: ForecastHour[];
}

const HOUR_MS = 3_600_000;
/** Longest forecast kept, h: 16 days, the longest public hourly forecasts. */
export const MAX_FORECAST_HOURS = 16 * 24;
/**
 * How far ahead of the clock a forecast hour may end, ms: 16 days, Open-Meteo's longest forecast
 * (its 16th day ends at most 16 days after now). An hour beyond it is no forecast anyone makes;
 * kept, it would sit in the store and in every predictor's memory until its time came.
 */
export const MAX_FORECAST_AHEAD_MS = MAX_FORECAST_HOURS * HOUR_MS;
/**
 * How far ahead of the clock `issued_at` may lie (clock skew), ms. A newer issue replaces an
 * older one, so a forecast "issued" in the future would hold its hours against every real one.
 */
export const MAX_ISSUED_AHEAD_MS = 5 * 60_000;

/** JSON names of the hour fields, with their bounds (the canonical quantities' where they exist). */
const HOUR_FIELDS = {
  rain_mm: ['rainMm', 0, 500],
  rain_probability: ['rainProbability', 0, 1],
  et0_mm: ['et0Mm', 0, 5],
  air_temperature: ['airTemperature', -50, 60],
  relative_humidity: ['relativeHumidity', 0, 100],
  wind_speed: ['windSpeed', 0, 75],
  solar_radiation: ['solarRadiation', 0, 1500],
} as const satisfies Record<string, readonly [keyof ForecastHour, number, number]>;

/** The bounds of each hour field by its JSON name, `[min, max]`: for the route's schema. */
export const FORECAST_HOUR_BOUNDS: Readonly<Record<string, readonly [min: number, max: number]>> = Object.fromEntries(
  Object.entries(HOUR_FIELDS).map(([name, [, min, max]]) => [name, [min, max]]),
);

const invalid = (field: string, what: string) => Errors.forecastInvalid(`${field}: ${what}`, { field });

/** The same time rule as readings: ISO 8601 with a zone, or epoch milliseconds. */
function time(v: unknown, field: string): number {
  const t = parseApiTime(v);
  if (t === undefined) throw Errors.forecastInvalid(timeRefusal(field, v), { field });
  return t;
}

/**
 * A forecast from its JSON form: `{farm, field?, issued_at?, source?, hours: [{ts, rain_mm?,
 * rain_probability?, et0_mm?, air_temperature?, relative_humidity?, wind_speed?,
 * solar_radiation?}]}`. Refuses with `FH_ERR_FORECAST_INVALID` naming the first bad property;
 * `issued_at` may lie at most `MAX_ISSUED_AHEAD_MS` ahead of `now`, an hour at most
 * `MAX_FORECAST_AHEAD_MS` (`FH_ERR_FORECAST_BEYOND_HORIZON`). Hours in the past are taken (a
 * replay may send them): they are never read ahead of the clock and go with the store's prune.
 * @param now default for `issued_at`, and the clock it is checked against, epoch ms
 */
export function parseForecast(body: unknown, now: number, defaults: { source?: string; gateway?: string } = {}): Forecast {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('body', 'must be a JSON object');
  const b = body as Record<string, unknown>;
  for (const key of Object.keys(b)) if (!['farm', 'field', 'issued_at', 'source', 'hours'].includes(key)) throw invalid(key, 'is not a forecast property');
  // Farm and field names follow the same rule as everywhere else (devices, irrigations, chat users).
  if (typeof b.farm !== 'string' || !ID_PATTERN.test(b.farm)) throw invalid('farm', `must match ${ID_PATTERN}`);
  if (b.field !== undefined && (typeof b.field !== 'string' || !ID_PATTERN.test(b.field))) throw invalid('field', `must match ${ID_PATTERN}`);
  if (b.source !== undefined && (typeof b.source !== 'string' || b.source.length === 0 || b.source.length > 64)) throw invalid('source', 'must be 1–64 characters');
  if (typeof b.source === 'string' && hasControlCharacter(b.source)) throw invalid('source', 'may not hold control characters');
  // A gateway's forecast is the gateway's: it may not speak as another source (e.g. `open-meteo`).
  if (defaults.gateway !== undefined && b.source !== undefined && b.source !== defaults.gateway) throw invalid('source', `is the sending gateway (${defaults.gateway}) for a gateway's forecast`);
  const issuedAt = b.issued_at === undefined ? now : time(b.issued_at, 'issued_at');
  if (issuedAt > now + MAX_ISSUED_AHEAD_MS) throw invalid('issued_at', `lies in the future (more than ${MAX_ISSUED_AHEAD_MS / 60_000} min ahead of the server's clock)`);
  if (!Array.isArray(b.hours)) throw invalid('hours', 'must be a non-empty array');
  const hours = b.hours.map((h: unknown, i: number): ForecastHour => {
    const at = `hours[${i}]`;
    if (typeof h !== 'object' || h === null || Array.isArray(h)) throw invalid(at, 'must be an object');
    const o = h as Record<string, unknown>;
    const hour: ForecastHour = { ts: time(o.ts, `${at}.ts`) };
    for (const [key, v] of Object.entries(o)) {
      if (key === 'ts' || v === null) continue;
      const spec = (HOUR_FIELDS as Record<string, readonly [keyof ForecastHour, number, number]>)[key];
      if (!Object.hasOwn(HOUR_FIELDS, key) || !spec) throw invalid(`${at}.${key}`, 'is not a forecast quantity');
      if (typeof v !== 'number') throw invalid(`${at}.${key}`, `must be a number within ${spec[1]}–${spec[2]}`);
      hour[spec[0]] = v;
    }
    return hour;
  });
  return checkForecast({
    farm: b.farm,
    ...(b.field !== undefined ? { field: b.field as string } : {}),
    issuedAt,
    source: defaults.gateway ?? (b.source as string | undefined) ?? defaults.source ?? 'api',
    hours,
  }, now);
}

/**
 * The checks every forecast passes before it is stored, however it came (the API, MQTT, a pull):
 * at least one and at most `MAX_FORECAST_HOURS` hours, each on the hour, none twice, none more
 * than `MAX_FORECAST_AHEAD_MS` ahead of `now` (`FH_ERR_FORECAST_BEYOND_HORIZON`), every value
 * finite and within its bounds (`FH_ERR_FORECAST_INVALID`, naming the hour by its JSON form).
 * Returns the forecast with its hours in time order.
 */
export function checkForecast(forecast: Forecast, now: number): Forecast {
  const { hours } = forecast;
  if (hours.length === 0) throw invalid('hours', 'must be a non-empty array');
  if (hours.length > MAX_FORECAST_HOURS) throw invalid('hours', `holds at most ${MAX_FORECAST_HOURS} hours`);
  const seen = new Set<number>();
  hours.forEach((hour, i) => {
    const at = `hours[${i}]`;
    if (hour.ts % HOUR_MS !== 0) throw invalid(`${at}.ts`, 'must be on the hour (the end of the hour it describes)');
    if (seen.has(hour.ts)) throw invalid(`${at}.ts`, 'appears twice');
    if (hour.ts > now + MAX_FORECAST_AHEAD_MS) {
      throw Errors.forecastBeyondHorizon(`${at}.ts: ends more than ${MAX_FORECAST_AHEAD_MS / (24 * HOUR_MS)} days ahead of the server's clock`, { field: `${at}.ts` });
    }
    seen.add(hour.ts);
    for (const [json, [name, min, max]] of Object.entries(HOUR_FIELDS)) {
      const v = hour[name];
      if (v !== undefined && !(Number.isFinite(v) && v >= min && v <= max)) throw invalid(`${at}.${json}`, `must be a number within ${min}–${max}`);
    }
  });
  return { ...forecast, hours: [...hours].sort((x, y) => x.ts - y.ts) };
}

/** Rain the forecast expects in a span, and when the last of it falls. */
export interface ExpectedRain {
  /** Σ rain × probability over the hours ending in (fromTs, toTs], mm. */
  mm: number;
  /** End of the last hour with rain in the span, epoch ms (null when none). */
  by: number | null;
}

/**
 * Rain expected in (fromTs, toTs]: each hour's amount weighted by its probability (an hour without
 * one counts in full), the expected value of the rain.
 */
export function expectedRain(hours: readonly ForecastHour[], fromTs: number, toTs: number): ExpectedRain {
  let mm = 0;
  let by: number | null = null;
  for (const h of hours) {
    if (h.ts <= fromTs || h.ts > toTs || !h.rainMm) continue;
    mm += h.rainMm * (h.rainProbability ?? 1);
    by = h.ts;
  }
  return { mm, by };
}
