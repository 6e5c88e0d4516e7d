import { describe, expect, it } from 'vitest';
import { expectedRain, parseForecast } from '../../../services/forecasts/forecast.js';
import { fromOpenMeteo, openMeteoUrl } from '../../../services/forecasts/open-meteo.js';
import { createSqliteForecasts } from '../../../services/forecasts/store.js';

const H = 3_600_000;
const t0 = Date.parse('2026-07-08T00:00:00Z');

describe('forecasts', () => {
  it('reads the JSON form: hours on the hour, sorted, quantities renamed; issued_at defaults to now', () => {
    const f = parseForecast(
      { farm: 'f1', field: 'north', source: 'gw-1', hours: [{ ts: new Date(t0 + 2 * H).toISOString(), rain_mm: 4, rain_probability: 0.5 }, { ts: t0 + H, et0_mm: 0.4, air_temperature: 21 }] },
      t0,
    );
    expect(f).toEqual({
      farm: 'f1', field: 'north', issuedAt: t0, source: 'gw-1',
      hours: [{ ts: t0 + H, et0Mm: 0.4, airTemperature: 21 }, { ts: t0 + 2 * H, rainMm: 4, rainProbability: 0.5 }],
    });
  });

  it('refuses a bad forecast with FH_ERR_FORECAST_INVALID naming the property', () => {
    const bad = (body: unknown, field: string) => {
      try {
        parseForecast(body, t0);
        expect.unreachable();
      } catch (err) {
        expect(err).toMatchObject({ code: 'FH_ERR_FORECAST_INVALID', details: { field } });
      }
    };
    bad([], 'body');
    bad({ hours: [{ ts: t0 }] }, 'farm');
    bad({ farm: 'f', hours: [] }, 'hours');
    bad({ farm: 'f', hours: [{ ts: t0 + 60_000 }] }, 'hours[0].ts');
    bad({ farm: 'f', hours: [{ ts: t0 }, { ts: t0 }] }, 'hours[1].ts');
    bad({ farm: 'f', hours: [{ ts: t0, rain_probability: 40 }] }, 'hours[0].rain_probability');
    bad({ farm: 'f', hours: [{ ts: t0, snow_mm: 1 }] }, 'hours[0].snow_mm');
    bad({ farm: 'f', hours: [{ ts: t0 }], extra: 1 }, 'extra');
    bad({ farm: 'f/../g', hours: [{ ts: t0 }] }, 'farm');
    bad({ farm: 'f', field: 'north field', hours: [{ ts: t0 }] }, 'field');
  });

  it("keeps a gateway's forecast the gateway's: a body may not name another source", () => {
    expect(parseForecast({ farm: 'f', hours: [{ ts: t0 }] }, t0, { gateway: 'gw-1' }).source).toBe('gw-1');
    expect(parseForecast({ farm: 'f', source: 'gw-1', hours: [{ ts: t0 }] }, t0, { gateway: 'gw-1' }).source).toBe('gw-1');
    expect(() => parseForecast({ farm: 'f', source: 'open-meteo', hours: [{ ts: t0 }] }, t0, { gateway: 'gw-1' })).toThrow(
      expect.objectContaining({ code: 'FH_ERR_FORECAST_INVALID', details: { field: 'source' } }),
    );
    // The admin token may name the source it relays.
    expect(parseForecast({ farm: 'f', source: 'met-office', hours: [{ ts: t0 }] }, t0, { source: 'api' }).source).toBe('met-office');
  });

  it('refuses an issued_at more than a few minutes ahead of the clock, which would hold its hours against every later issue', () => {
    expect(() => parseForecast({ farm: 'f', issued_at: '2100-01-01T00:00:00Z', hours: [{ ts: t0 }] }, t0)).toThrow(
      expect.objectContaining({ code: 'FH_ERR_FORECAST_INVALID', details: { field: 'issued_at' }, message: expect.stringContaining('future') }),
    );
    expect(() => parseForecast({ farm: 'f', issued_at: t0 + 5 * 60_000 + 1, hours: [{ ts: t0 }] }, t0)).toThrow(expect.objectContaining({ details: { field: 'issued_at' } }));
    // Clock skew within the margin is fine.
    expect(parseForecast({ farm: 'f', issued_at: t0 + 5 * 60_000, hours: [{ ts: t0 }] }, t0).issuedAt).toBe(t0 + 5 * 60_000);
  });

  it('refuses an hour ending more than 16 days ahead of the clock with FH_ERR_FORECAST_BEYOND_HORIZON; the past is taken', () => {
    expect(parseForecast({ farm: 'f', hours: [{ ts: t0 + 16 * 24 * H }] }, t0).hours).toEqual([{ ts: t0 + 16 * 24 * H }]);
    expect(parseForecast({ farm: 'f', hours: [{ ts: t0 - 30 * 24 * H }] }, t0).hours).toEqual([{ ts: t0 - 30 * 24 * H }]);
    expect(() => parseForecast({ farm: 'f', hours: [{ ts: t0 }, { ts: t0 + 16 * 24 * H + H }] }, t0)).toThrow(
      expect.objectContaining({ code: 'FH_ERR_FORECAST_BEYOND_HORIZON', statusCode: 400, details: { field: 'hours[1].ts' } }),
    );
  });

  it('expects rain as amount × probability, and says when the last of it falls', () => {
    const hours = [{ ts: t0 + H, rainMm: 10, rainProbability: 0.5 }, { ts: t0 + 2 * H, rainMm: 4 }, { ts: t0 + 3 * H, rainMm: 0 }, { ts: t0 + 9 * H, rainMm: 30 }];
    expect(expectedRain(hours, t0, t0 + 6 * H)).toEqual({ mm: 9, by: t0 + 2 * H });
    expect(expectedRain(hours, t0 + 2 * H, t0 + 6 * H)).toEqual({ mm: 0, by: null });
  });

  it('stores hours per farm and field: a newer issue replaces an older one, a field\'s own forecast wins over its farm\'s', async () => {
    const store = createSqliteForecasts(':memory:');
    await store.save({ farm: 'f', issuedAt: t0, source: 'a', hours: [{ ts: t0 + H, rainMm: 5 }, { ts: t0 + 2 * H, rainMm: 6 }] });
    expect(await store.save({ farm: 'f', issuedAt: t0 - H, source: 'old', hours: [{ ts: t0 + H, rainMm: 50 }] })).toBe(0);
    await store.save({ farm: 'f', issuedAt: t0 + H, source: 'b', hours: [{ ts: t0 + 2 * H, rainMm: 1, rainProbability: 0.2 }] });
    await store.save({ farm: 'f', field: 'north', issuedAt: t0, source: 'c', hours: [{ ts: t0 + H, rainMm: 0 }] });
    expect(store.hours('f', 'south', t0, t0 + 3 * H)).toEqual([{ ts: t0 + H, rainMm: 5 }, { ts: t0 + 2 * H, rainMm: 1, rainProbability: 0.2 }]);
    expect(store.hours('f', 'north', t0, t0 + 3 * H)).toEqual([{ ts: t0 + H, rainMm: 0 }, { ts: t0 + 2 * H, rainMm: 1, rainProbability: 0.2 }]);
    expect(await store.prune(t0 + 2 * H)).toBe(2);
    expect(store.hours('f', 'north', t0, t0 + 3 * H)).toEqual([{ ts: t0 + 2 * H, rainMm: 1, rainProbability: 0.2 }]);
    store.close();
  });

  it('a pulled Open-Meteo forecast passes the checks a sent one does: what the API refuses is FH_ERR_FORECAST_SOURCE, the last forecast kept', () => {
    const body = (hourly: Record<string, unknown[]>) => ({ utc_offset_seconds: 0, hourly_units: { precipitation: 'mm', et0_fao_evapotranspiration: 'mm' }, hourly });
    const site = { farm: 'f1', field: 'north' };
    const good = fromOpenMeteo(body({ time: ['2026-07-08T00:00', '2026-07-08T01:00'], precipitation: [0, 1.2], et0_fao_evapotranspiration: [0.1, 0.2] }), site, t0);
    expect(good.hours).toEqual([{ ts: t0, rainMm: 0, et0Mm: 0.1 }, { ts: t0 + H, rainMm: 1.2, et0Mm: 0.2 }]);
    const refused = (hourly: Record<string, unknown[]>, what: RegExp) => {
      expect(() => fromOpenMeteo(body(hourly), site, t0)).toThrow(expect.objectContaining({ code: 'FH_ERR_FORECAST_SOURCE', message: expect.stringMatching(what) }));
    };
    refused({ time: ['2026-07-08T00:00', '2026-07-08T01:00'], precipitation: [0, 800] }, /hours\[1\]\.rain_mm: must be a number within 0–500/);
    refused({ time: ['2026-07-08T00:00'], et0_fao_evapotranspiration: [40] }, /hours\[0\]\.et0_mm/);
    refused({ time: ['2026-07-08T00:00', '2026-07-08T00:00'], precipitation: [0, 0] }, /appears twice/);
    refused({ time: ['2026-08-20T00:00'], precipitation: [0] }, /days ahead/);
    refused({ time: [] }, /non-empty/);
    // A variable in another unit than asked for is left out, and said.
    const other: [string, unknown][] = [];
    const inches = fromOpenMeteo({ hourly_units: { precipitation: 'inch' }, hourly: { time: ['2026-07-08T01:00'], precipitation: [1.2] } }, site, t0, (v, unit) => other.push([v, unit]));
    expect(inches.hours).toEqual([{ ts: t0 + H }]);
    expect(other).toEqual([['precipitation', 'inch']]);
  });

  it("asks Open-Meteo under the base URL's own path, keeping its query (the customer API's apikey)", () => {
    const site = { farm: 'f1', field: 'north', latitudeDeg: 37.5, longitudeDeg: -5.9 };
    const ask = (baseUrl: string) => new URL(openMeteoUrl(site, { baseUrl, forecastDays: 3 }));
    expect(ask('https://api.open-meteo.com').pathname).toBe('/v1/forecast');
    const customer = ask('https://customer-api.open-meteo.com/?apikey=KEY');
    expect([customer.pathname, customer.searchParams.get('apikey'), customer.searchParams.get('latitude')]).toEqual(['/v1/forecast', 'KEY', '37.5000']);
    expect(ask('http://127.0.0.1:8080/om-proxy/').pathname).toBe('/om-proxy/v1/forecast');
    // The endpoint's own URL, as copied from Open-Meteo's docs, is its base.
    expect(ask('https://api.open-meteo.com/v1/forecast').pathname).toBe('/v1/forecast');
  });
});
