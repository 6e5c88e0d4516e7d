import { sleep } from '../shared/abortable.js';
import type { Component, ComponentContext } from '../shared/component.js';
import { databaseOf } from '../shared/influx.js';
import { detectInfluxServer, requireInfluxSetup, type InfluxServer } from '../shared/influx-server.js';
import type { Logger } from '../shared/logger.js';
import { LOCAL_INFLUX_PORT, ensureInfluxDatabase, localInfluxDir, startInfluxDB, type RunningInfluxDB } from './local-influxdb.js';

export interface InfluxComponentOptions {
  /** Configured InfluxDB; unset = run a local InfluxDB 1.8 under `dataDir`. */
  url: string | undefined;
  token: string;
  org: string;
  bucket: string;
  /** On 1.x, `CREATE DATABASE` at start. */
  createDatabase: boolean;
  dataDir: string;
  /** Per request of the start-up check, ms. */
  timeoutMs: number;
  /** Port of the local InfluxDB (chooseLocalInfluxPort: 8086 unless taken). Default 8086. */
  localPort?: number;
  /**
   * How long start waits for a configured InfluxDB that does not answer yet, ms, before it goes
   * on unchecked (a compose file may start fieldhook first). Default {@link DEFAULT_INFLUX_START_WAIT_MS}.
   */
  startWaitMs?: number;
}

/** 30 s: long enough for an InfluxDB container started alongside, short enough not to stall a start during an outage. */
export const DEFAULT_INFLUX_START_WAIT_MS = 30_000;
/** Pause between two `/ping`s while waiting, ms. */
const START_POLL_MS = 1_000;

export interface InfluxComponent extends Component {
  /** Where the pipeline writes and reads, known before start. */
  readonly url: string;
}

/**
 * The InfluxDB the process writes to: the configured one, or a local InfluxDB 1.8 that one
 * command runs with a real database behind it. Started first and stopped last, so the writer
 * never outlives it. Its start checks that the server is set up for fieldhook (version, org,
 * bucket or database, a token that can write and read: services/shared/influx-server.ts) and
 * fails with `FH_ERR_INFLUX_SETUP` naming the settings to change, so that no other part starts
 * against an InfluxDB that would refuse every write or hide every reading. An InfluxDB that does
 * not answer yet is waited for (`startWaitMs`); one that still does not is not a set-up error: the
 * spool holds readings until it is back.
 */
export function createInfluxComponent(options: InfluxComponentOptions, logger: Logger): InfluxComponent {
  let local: RunningInfluxDB | undefined;
  const localPort = options.localPort ?? LOCAL_INFLUX_PORT;
  const url = options.url ?? `http://127.0.0.1:${localPort}`;
  const target = { url, token: options.token, org: options.org, bucket: options.bucket };

  /** The server, once it answers `/ping`; undefined when it did not within `startWaitMs` (or the start was aborted). */
  async function waitForServer(context?: ComponentContext): Promise<InfluxServer | undefined> {
    const deadline = Date.now() + (options.startWaitMs ?? DEFAULT_INFLUX_START_WAIT_MS);
    for (let attempt = 0; ; attempt++) {
      const server = await detectInfluxServer(target, { timeoutMs: options.timeoutMs });
      if (server || Date.now() >= deadline || context?.signal.aborted) return server;
      if (attempt === 0) logger.info({ influxUrl: new URL(url).origin }, 'waiting for InfluxDB to answer');
      await sleep(START_POLL_MS, context?.signal);
    }
  }
  return {
    name: 'influxdb',
    url,
    async start(context?: ComponentContext) {
      if (!options.url) {
        logger.info({ port: localPort }, 'no INFLUX_URL: starting a local InfluxDB 1.8');
        local = await startInfluxDB({ dataDir: localInfluxDir(options.dataDir), port: localPort });
      }
      const check = { timeoutMs: options.timeoutMs };
      const server = await waitForServer(context);
      if (!server) {
        logger.warn({ influxUrl: new URL(url).origin }, 'InfluxDB unreachable at start, not checked: the spool holds readings until it is back');
        return;
      }
      if (server.kind === '1.x' && options.createDatabase) await ensureInfluxDatabase(url, options.token, databaseOf(options.bucket), logger);
      await requireInfluxSetup(target, { ...check, server });
      logger.info({ influxUrl: new URL(url).origin, kind: server.kind, version: server.version, build: server.build }, 'InfluxDB checked: fieldhook can write and read');
    },
    async stop() {
      await local?.stop();
      local = undefined;
    },
  };
}
