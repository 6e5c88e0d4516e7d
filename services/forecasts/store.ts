/**
 * Forecasts on disk: the repository interface and its SQLite implementation (postgres-store.ts
 * is the PostgreSQL one). Hours are kept per farm and field (`''` for the whole farm); a newer
 * issue replaces an older one hour by hour, so a forecast refreshed every few hours never piles
 * up.
 */
import { openSqlite, type Migration, type SqliteDatabase } from '../shared/sqlite.js';
import type { Forecast, ForecastHour } from './forecast.js';

/** What the predictor reads: synchronous, so an evaluation round stays one pass. */
export interface ForecastReader {
  /** Hours ending in (fromTs, toTs] for a field: its own forecast, else its farm's; oldest first. */
  hours(farm: string, field: string, fromTs: number, toTs: number): ForecastHour[];
  /**
   * The fields this reader will be asked about from now on, and the earliest hour it will be
   * asked for (reads are of hours ending after `fromTs`, or later): a store that keeps hours in
   * memory keeps only these fields' (and their farms') and loads those it did not have, so a field
   * that comes in reads its forecast at its first evaluation. Without it (SQLite, read from
   * disk), every field is read.
   */
  follow?(fields: readonly FieldOfForecast[], fromTs: number): Promise<void>;
}

/** A field whose forecast is read: its own hours, else its farm's. */
export interface FieldOfForecast {
  farm: string;
  field: string;
}

export interface ForecastRepository extends ForecastReader {
  /** Store a forecast; resolves with the hours kept (older issues of an hour are not replaced by it). */
  save(forecast: Forecast): Promise<number>;
  /** Drop hours that ended before `beforeTs`; resolves with how many. */
  prune(beforeTs: number): Promise<number>;
  /** Ready the store (PostgreSQL migrates and loads here); `save` waits for it. */
  open(): Promise<void>;
  close(): void | Promise<void>;
}

const MIGRATIONS: Migration[] = [
  (db) => {
    db.exec(`
      CREATE TABLE forecast_hour (
        farm TEXT NOT NULL, field TEXT NOT NULL, ts INTEGER NOT NULL, issued_at INTEGER NOT NULL, source TEXT NOT NULL,
        rain_mm REAL, rain_probability REAL, et0_mm REAL, air_temperature REAL, relative_humidity REAL, wind_speed REAL, solar_radiation REAL,
        PRIMARY KEY (farm, field, ts)
      );`);
  },
];

/** One stored hour as both backends read it. */
export interface ForecastRow {
  ts: number;
  /** When the forecast holding this hour was issued, epoch ms: the newer wins. */
  issued_at: number;
  rain_mm: number | null;
  rain_probability: number | null;
  et0_mm: number | null;
  air_temperature: number | null;
  relative_humidity: number | null;
  wind_speed: number | null;
  solar_radiation: number | null;
}

export function hourOf(r: ForecastRow): ForecastHour {
  const h: ForecastHour = { ts: r.ts };
  if (r.rain_mm !== null) h.rainMm = r.rain_mm;
  if (r.rain_probability !== null) h.rainProbability = r.rain_probability;
  if (r.et0_mm !== null) h.et0Mm = r.et0_mm;
  if (r.air_temperature !== null) h.airTemperature = r.air_temperature;
  if (r.relative_humidity !== null) h.relativeHumidity = r.relative_humidity;
  if (r.wind_speed !== null) h.windSpeed = r.wind_speed;
  if (r.solar_radiation !== null) h.solarRadiation = r.solar_radiation;
  return h;
}

/**
 * The hours of a field, oldest first: hour by hour the newer issue of its own forecast and its
 * farm's, the field's own at the same issue time. A field's pulled forecast does not hide a newer
 * one a gateway sent for the whole farm, nor the other way round.
 */
export function mergeHours(own: readonly ForecastRow[], farmWide: readonly ForecastRow[]): ForecastHour[] {
  if (own.length === 0) return farmWide.map(hourOf);
  const byTs = new Map(farmWide.map((r) => [r.ts, r]));
  for (const r of own) {
    const farm = byTs.get(r.ts);
    if (!farm || r.issued_at >= farm.issued_at) byTs.set(r.ts, r);
  }
  return [...byTs.values()].sort((a, b) => a.ts - b.ts).map(hourOf);
}

/** The columns of one hour of `forecast`, as both backends store it. */
export function rowsOf(f: Forecast) {
  return f.hours.map((h) => ({
    farm: f.farm, field: f.field ?? '', ts: h.ts, issuedAt: f.issuedAt, source: f.source,
    rainMm: h.rainMm ?? null, rainProbability: h.rainProbability ?? null, et0Mm: h.et0Mm ?? null, airTemperature: h.airTemperature ?? null,
    relativeHumidity: h.relativeHumidity ?? null, windSpeed: h.windSpeed ?? null, solarRadiation: h.solarRadiation ?? null,
  }));
}

/** Open (or create) `<path>`; `:memory:` for tests. */
export function createSqliteForecasts(path: string): ForecastRepository {
  // NORMAL: a forecast lost in a crash is replaced by the next issue.
  const db: SqliteDatabase = openSqlite(path, MIGRATIONS, { synchronous: 'NORMAL' });
  const upsert = db.prepare(`
    INSERT INTO forecast_hour (farm, field, ts, issued_at, source, rain_mm, rain_probability, et0_mm, air_temperature, relative_humidity, wind_speed, solar_radiation)
    VALUES (@farm, @field, @ts, @issuedAt, @source, @rainMm, @rainProbability, @et0Mm, @airTemperature, @relativeHumidity, @windSpeed, @solarRadiation)
    ON CONFLICT (farm, field, ts) DO UPDATE SET
      issued_at = excluded.issued_at, source = excluded.source, rain_mm = excluded.rain_mm, rain_probability = excluded.rain_probability,
      et0_mm = excluded.et0_mm, air_temperature = excluded.air_temperature, relative_humidity = excluded.relative_humidity,
      wind_speed = excluded.wind_speed, solar_radiation = excluded.solar_radiation
    WHERE excluded.issued_at >= forecast_hour.issued_at`);
  const select = db.prepare<[string, string, number, number], ForecastRow>(
    'SELECT ts, issued_at, rain_mm, rain_probability, et0_mm, air_temperature, relative_humidity, wind_speed, solar_radiation FROM forecast_hour WHERE farm = ? AND field = ? AND ts > ? AND ts <= ? ORDER BY ts',
  );
  const prune = db.prepare('DELETE FROM forecast_hour WHERE ts < ?');
  const save = db.transaction((f: Forecast) => {
    let kept = 0;
    for (const row of rowsOf(f)) kept += upsert.run(row).changes;
    return kept;
  });
  return {
    save: async (f) => save(f),
    hours: (farm, field, fromTs, toTs) => mergeHours(select.all(farm, field, fromTs, toTs), select.all(farm, '', fromTs, toTs)),
    prune: async (beforeTs) => prune.run(beforeTs).changes,
    open: async () => {},
    close: () => void db.close(),
  };
}
