import { join } from 'node:path';
import type { Component } from '../shared/component.js';
import { databaseOf } from '../shared/influx.js';
import type { Logger } from '../shared/logger.js';
import { LOCAL_INFLUX_PORT, ensureInfluxDatabase, startInfluxDB, type RunningInfluxDB } from './local-influxdb.js';

export interface InfluxComponentOptions {
  /** Configured InfluxDB; unset = run a local InfluxDB 1.8 under `dataDir`. */
  url: string | undefined;
  token: string;
  bucket: string;
  /** On 1.x, `CREATE DATABASE` at start. */
  createDatabase: boolean;
  dataDir: string;
}

export interface InfluxComponent extends Component {
  /** Where the pipeline writes and reads, known before start. */
  readonly url: string;
}

/**
 * The InfluxDB the process writes to: the configured one, or a local InfluxDB 1.8 that one
 * command runs with a real database behind it. Started first and stopped last, so the writer
 * never outlives it.
 */
export function createInfluxComponent(options: InfluxComponentOptions, logger: Logger): InfluxComponent {
  let local: RunningInfluxDB | undefined;
  const url = options.url ?? `http://127.0.0.1:${LOCAL_INFLUX_PORT}`;
  return {
    name: 'influxdb',
    url,
    async start() {
      if (!options.url) {
        logger.info({ port: LOCAL_INFLUX_PORT }, 'no INFLUX_URL: starting a local InfluxDB 1.8');
        local = await startInfluxDB({ dataDir: join(options.dataDir, 'influxdb'), port: LOCAL_INFLUX_PORT });
      }
      if (options.createDatabase) await ensureInfluxDatabase(url, options.token, databaseOf(options.bucket), logger);
    },
    async stop() {
      await local?.stop();
      local = undefined;
    },
  };
}
