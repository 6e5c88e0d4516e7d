import type { ControlPlane } from '../shared/database/control-plane.js';
import type { Logger } from '../shared/logger.js';
import { createPostgresForecasts } from './postgres-store.js';
import { createSqliteForecasts, type ForecastRepository } from './store.js';

/** The forecasts' file in the data folder on the SQLite backend. */
export const FORECASTS_FILE = 'forecasts.db';

/** The forecasts on the control plane's backend; `open()` readies them (`save` waits for it). */
export function createForecastRepository(plane: ControlPlane, logger: Logger): ForecastRepository {
  return plane.kind === 'postgres' ? createPostgresForecasts(plane, logger) : createSqliteForecasts(plane.path(FORECASTS_FILE));
}
