import { join } from 'node:path';
import { startInfluxDB, type RunningInfluxDB } from '../../infra/harness/influxdb.js';
import type { Logger } from '../shared/logger.js';

/** Port of the local InfluxDB `fieldhook start` runs when none is configured (InfluxDB's usual one). */
export const LOCAL_INFLUX_PORT = 8086;

/**
 * With no INFLUX_URL, `fieldhook start` runs InfluxDB 1.8 itself (built once with Go) under the
 * data folder, so that one command gives a working pipeline with a real database behind it.
 */
export async function startLocalInfluxDB(dataDir: string, logger: Logger): Promise<RunningInfluxDB> {
  logger.info({ port: LOCAL_INFLUX_PORT }, 'no INFLUX_URL: starting a local InfluxDB 1.8');
  return startInfluxDB({ dataDir: join(dataDir, 'influxdb'), port: LOCAL_INFLUX_PORT });
}

/** On 1.x, `CREATE DATABASE` is idempotent; 2.x/3.x answer 404 or 401 to it and are left alone. */
export async function ensureInfluxDatabase(url: string, token: string, database: string, logger: Logger): Promise<void> {
  try {
    const res = await fetch(new URL('/query', url), {
      method: 'POST',
      headers: token ? { authorization: `Token ${token}` } : {},
      body: new URLSearchParams({ q: `CREATE DATABASE "${database}"` }),
    });
    await res.body?.cancel();
    if (!res.ok) logger.info({ status: res.status }, 'InfluxDB did not take CREATE DATABASE (not 1.x?): skipped');
  } catch (err) {
    logger.warn({ err: (err as Error).message }, 'InfluxDB unreachable at start: the spool holds readings until it is back');
  }
}
