/**
 * Pulling forecasts from Open-Meteo's hourly forecast API (`GET /v1/forecast`), optional: off
 * unless a base URL is configured. One request per site (fields at the same coordinates share
 * it), the hourly JSON turned into a forecast for each field it was asked for. Open-Meteo documents the hourly amounts (precipitation, its
 * probability, ET0, radiation) as the sum or mean of the *preceding* hour, so each value is
 * stamped with the end of its hour, as readings and forecasts are here.
 */
import { windSpeedAt2m } from '../agronomy/index.js';
import type { Clock } from '../shared/clock.js';
import { Errors } from '../shared/error-catalog.js';
import type { Logger } from '../shared/logger.js';
import { checkForecast, type Forecast, type ForecastHour } from './forecast.js';

/** The hourly variables asked for, and the unit each must come back in. */
export const OPEN_METEO_HOURLY = {
  precipitation: 'mm',
  precipitation_probability: '%',
  et0_fao_evapotranspiration: 'mm',
  temperature_2m: '°C',
  relative_humidity_2m: '%',
  wind_speed_10m: 'm/s',
  shortwave_radiation: 'W/m²',
} as const;

export interface OpenMeteoOptions {
  /** Base URL, e.g. `https://api.open-meteo.com`. */
  baseUrl: string;
  /** Days ahead asked for. Default 3 (the advice looks at most 48 h + 12 h ahead). */
  forecastDays: number;
  /** Give up on a request after this long, ms. Default 10 s. */
  timeoutMs: number;
}

export const DEFAULT_OPEN_METEO_OPTIONS: Omit<OpenMeteoOptions, 'baseUrl'> = { forecastDays: 3, timeoutMs: 10_000 };

/** Where to ask for: one field and its coordinates. */
export interface ForecastSite {
  farm: string;
  field: string;
  latitudeDeg: number;
  longitudeDeg: number;
}

/**
 * The request URL for a site: UTC times, wind in m/s. Under the base URL's own path (an instance
 * behind a prefix) and with its query kept (the customer API's `apikey`).
 */
export function openMeteoUrl(site: ForecastSite, options: Pick<OpenMeteoOptions, 'baseUrl' | 'forecastDays'>): string {
  const url = new URL(options.baseUrl);
  // The endpoint's own URL, as people copy it from Open-Meteo's docs, is taken as its base.
  url.pathname = `${url.pathname.replace(/\/+$/, '').replace(/\/v1(\/forecast)?$/, '')}/v1/forecast`;
  url.searchParams.set('latitude', site.latitudeDeg.toFixed(4));
  url.searchParams.set('longitude', site.longitudeDeg.toFixed(4));
  url.searchParams.set('hourly', Object.keys(OPEN_METEO_HOURLY).join(','));
  url.searchParams.set('wind_speed_unit', 'ms');
  url.searchParams.set('timezone', 'GMT');
  url.searchParams.set('forecast_days', String(options.forecastDays));
  return url.toString();
}

const bad = (what: string) => Errors.forecastSource(`Open-Meteo: ${what}`);

/**
 * A forecast from an Open-Meteo hourly response (`hourly_units`, `hourly.time` in ISO 8601 local to
 * `utc_offset_seconds` or unix seconds, one array per variable, nulls where it has no value).
 * A variable that is missing or in another unit is left out, not guessed at; one in another unit
 * is named to `onOtherUnit` (the puller logs it: its hours are unknown from this issue on).
 */
export function fromOpenMeteo(
  body: unknown,
  site: Pick<ForecastSite, 'farm' | 'field'>,
  issuedAt: number,
  onOtherUnit: (variable: string, unit: unknown) => void = () => {},
): Forecast {
  if (typeof body !== 'object' || body === null) throw bad('the body is not a JSON object');
  const b = body as { utc_offset_seconds?: unknown; hourly?: Record<string, unknown>; hourly_units?: Record<string, unknown> };
  const hourly = b.hourly;
  if (typeof hourly !== 'object' || hourly === null || !Array.isArray(hourly.time)) throw bad('no hourly.time array');
  const offsetMs = typeof b.utc_offset_seconds === 'number' ? b.utc_offset_seconds * 1000 : 0;
  const times = (hourly.time as unknown[]).map((t) => {
    const ms = typeof t === 'number' ? t * 1000 : typeof t === 'string' ? Date.parse(`${t}${t.length === 16 ? ':00' : ''}Z`) - offsetMs : Number.NaN;
    if (!Number.isFinite(ms)) throw bad(`hourly.time holds ${JSON.stringify(t)}`);
    return ms;
  });
  const column = (name: keyof typeof OPEN_METEO_HOURLY): (number | null)[] | undefined => {
    const values = hourly[name];
    if (!Array.isArray(values) || values.length !== times.length) return undefined;
    if (b.hourly_units?.[name] !== undefined && b.hourly_units[name] !== OPEN_METEO_HOURLY[name]) {
      onOtherUnit(name, b.hourly_units[name]);
      return undefined;
    }
    return values.map((v) => (typeof v === 'number' && Number.isFinite(v) ? v : null));
  };
  const rain = column('precipitation');
  const probability = column('precipitation_probability');
  const et0 = column('et0_fao_evapotranspiration');
  const temperature = column('temperature_2m');
  const humidity = column('relative_humidity_2m');
  const wind = column('wind_speed_10m');
  const radiation = column('shortwave_radiation');
  const hours: ForecastHour[] = times.map((ts, i) => {
    const h: ForecastHour = { ts };
    const set = <K extends keyof ForecastHour>(key: K, v: number | null | undefined, f: (x: number) => number = (x) => x) => {
      if (v !== null && v !== undefined) h[key] = f(v) as ForecastHour[K];
    };
    set('rainMm', rain?.[i], (x) => Math.max(0, x));
    set('rainProbability', probability?.[i], (x) => Math.min(1, Math.max(0, x / 100)));
    set('et0Mm', et0?.[i], (x) => Math.max(0, x));
    set('airTemperature', temperature?.[i]);
    set('relativeHumidity', humidity?.[i], (x) => Math.min(100, Math.max(0, x)));
    // Forecast wind is at 10 m; FAO-56 Eq. 47 brings it to the 2 m of the reference surface.
    set('windSpeed', wind?.[i], (x) => Math.max(0, windSpeedAt2m(x, 10)));
    set('solarRadiation', radiation?.[i], (x) => Math.max(0, x));
    return h;
  });
  const forecast: Forecast = { farm: site.farm, field: site.field, issuedAt, source: 'open-meteo', hours: hours.filter((h) => h.ts % 3_600_000 === 0) };
  // The checks a forecast sent to the API passes: an hour of 800 mm, or one 40 days ahead, is no forecast to act on.
  try {
    return checkForecast(forecast, issuedAt);
  } catch (err) {
    throw bad((err as Error).message);
  }
}

export interface OpenMeteoPuller {
  /** Ask for every site once; resolves with the forecasts stored (a failed site is logged and skipped). */
  pullOnce(): Promise<number>;
}

/** Pull each site's forecast and hand it to `save`. Scheduling is the caller's (a component's timer). */
export function createOpenMeteoPuller(
  deps: { sites: () => Promise<ForecastSite[]>; save: (f: Forecast) => unknown; clock: Clock; logger: Logger; fetch?: typeof fetch },
  options: Partial<OpenMeteoOptions> & Pick<OpenMeteoOptions, 'baseUrl'>,
): OpenMeteoPuller {
  const o = { ...DEFAULT_OPEN_METEO_OPTIONS, ...options };
  const get = deps.fetch ?? fetch;
  return {
    async pullOnce() {
      // Fields at the same coordinates (to the 4 decimals asked for, about 10 m) share one request:
      // a farm's fields often carry its one station's position, and the API counts every call.
      const bySite = new Map<string, ForecastSite[]>();
      for (const site of await deps.sites()) {
        const url = openMeteoUrl(site, o);
        const group = bySite.get(url);
        if (group) group.push(site);
        else bySite.set(url, [site]);
      }
      let stored = 0;
      for (const [url, group] of bySite) {
        const fields = group.map((s) => `${s.farm}/${s.field}`);
        try {
          const res = await get(url, { signal: AbortSignal.timeout(o.timeoutMs), headers: { accept: 'application/json' } });
          if (!res.ok) throw bad(`HTTP ${res.status}`);
          const body: unknown = await res.json();
          // Named once per request: every field of it read the same body.
          const told = new Set<string>();
          const otherUnits = (variable: string, unit: unknown) => {
            if (told.has(variable)) return;
            told.add(variable);
            deps.logger.warn({ fields, variable, unit, expected: OPEN_METEO_HOURLY[variable as keyof typeof OPEN_METEO_HOURLY] }, 'Open-Meteo answered a variable in another unit than asked for; its hours are left unknown');
          };
          for (const site of group) {
            deps.save(fromOpenMeteo(body, site, deps.clock.now(), otherUnits));
            stored++;
          }
        } catch (err) {
          // The last stored forecast stays in use; the next pull tries again.
          deps.logger.warn({ err, fields }, 'forecast not pulled from Open-Meteo');
        }
      }
      return stored;
    },
  };
}
