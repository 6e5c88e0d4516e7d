import { z } from 'zod';

const HOUR_MS = 3_600_000;

/** Defaults of the forecast settings. */
export const DEFAULT_FORECAST_OPTIONS = {
  /** Pull each field's forecast this often, ms: Open-Meteo's models update every 1–6 h. */
  pullIntervalMs: 3 * HOUR_MS,
  /** Forecast hours are kept this long after they ended, ms (replays and the status page look back). */
  keepMs: 7 * 24 * HOUR_MS,
} as const;

/**
 * Settings of the weather forecasts: env `FIELDHOOK_<KEY>` or `<KEY>` in the config file. The
 * README's configuration table renders every default.
 */
export const FORECAST_CONFIG = {
  FORECAST_OPEN_METEO_URL: z
    .string()
    .url()
    .refine((u) => /^https?:/i.test(u), 'an http(s) URL')
    .optional()
    .describe('Base URL of an Open-Meteo forecast API (`https://api.open-meteo.com`, the customer API with its key `https://customer-api.open-meteo.com/?apikey=…`, or your own instance, path prefix kept) to pull the hourly forecast of every field in season from, one request per site (`/v1/forecast` under it); unset: forecasts arrive only through POST /v1/forecasts and the gateways\' MQTT topic'),
  FORECAST_PULL_INTERVAL_MS: z.coerce.number().int().min(60_000).default(DEFAULT_FORECAST_OPTIONS.pullIntervalMs).describe('How often forecasts are pulled from FORECAST_OPEN_METEO_URL (at least 60,000)'),
  FORECAST_KEEP_MS: z.coerce.number().int().min(3_600_000).default(DEFAULT_FORECAST_OPTIONS.keepMs).describe('Forecast hours are kept this long after they ended'),
};
