import type { ControlPlane } from '../shared/database/control-plane.js';
import { importingFromSqlite, type SqliteImport } from '../shared/database/sqlite-import.js';
import type { Logger } from '../shared/logger.js';
import { createPostgresForecasts, FORECASTS_WRITE_LOCK, type PostgresForecastOptions } from './postgres-store.js';
import { createSqliteForecasts, type ForecastRepository } from './store.js';

/** The forecasts' file in the data folder on the SQLite backend. */
export const FORECASTS_FILE = 'forecasts.db';

/** An older version's forecasts in the data folder, copied into PostgreSQL once (an hour PostgreSQL already has keeps its forecast). */
const FORECASTS_IMPORT: SqliteImport = {
  file: FORECASTS_FILE,
  table: 'forecast_hour',
  into: 'forecast_hour',
  columns: ['farm', 'field', 'ts', 'issued_at', 'source', 'rain_mm', 'rain_probability', 'et0_mm', 'air_temperature', 'relative_humidity', 'wind_speed', 'solar_radiation'],
  // The copied rows take revisions like any write: under the writers' lock, so no instance skips them.
  lock: FORECASTS_WRITE_LOCK,
};

/** The forecasts on the control plane's backend; `open()` readies them (`save` waits for it). */
export function createForecastRepository(plane: ControlPlane, logger: Logger, options: PostgresForecastOptions = {}): ForecastRepository {
  return plane.kind === 'postgres'
    ? createPostgresForecasts(importingFromSqlite(plane, [FORECASTS_IMPORT]), logger, options)
    : createSqliteForecasts(plane.path(FORECASTS_FILE));
}
