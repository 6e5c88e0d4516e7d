import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, startProcess, tcpOpen, waitUntil, type ManagedProcess } from './process.js';
import { buildTelegraf, telegrafAgent } from './telegraf.js';

/**
 * Telegraf as a client of fieldhook's line protocol endpoints: points posted to its HTTP listener
 * (line protocol in) go out through `outputs.influxdb_v2` (`/api/v2/write`) or `outputs.influxdb`
 * (`/write`) to a fieldhook that stands where InfluxDB would. A build of its own, with only those
 * plugins, cached next to the comparison build of ./telegraf.ts.
 */
const TAGS = 'custom,inputs.http_listener_v2,parsers.influx,outputs.influxdb,outputs.influxdb_v2,serializers.influx';

export function ensureLineProtocolTelegraf(log?: (line: string) => void): string {
  return buildTelegraf({ build: 'line-protocol', tags: TAGS, plugins: 'HTTP listener, InfluxDB v1 and v2 outputs only' }, log);
}

export interface TelegrafRelayOptions {
  dir: string;
  /** Which Telegraf output writes to fieldhook. */
  output: 'influxdb_v2' | 'influxdb';
  /** fieldhook's base URL, where InfluxDB would be. */
  fieldhookUrl: string;
  /** A device's secret: the v2 output's token, the v1 output's password. */
  secret: string;
  /** Points per write request. */
  batchSize?: number;
}

export interface TelegrafRelay {
  /** Where to POST line protocol (nanosecond timestamps) for Telegraf to forward. */
  inputUrl: string;
  process: ManagedProcess;
  stop(): Promise<void>;
}

/**
 * Telegraf with an HTTP listener taking line protocol and one InfluxDB output pointed at fieldhook.
 * It flushes every 100 ms and keeps what it could not write in its buffer, retrying at each flush,
 * as an agent in the field does while the server is away.
 */
export async function startTelegrafRelay(options: TelegrafRelayOptions): Promise<TelegrafRelay> {
  const binary = ensureLineProtocolTelegraf();
  const port = await freePort();
  mkdirSync(options.dir, { recursive: true });
  const output =
    options.output === 'influxdb_v2'
      ? `[[outputs.influxdb_v2]]
  urls = ["${options.fieldhookUrl}"]
  token = "${options.secret}"
  organization = "farm"
  bucket = "readings"
  timeout = "5s"`
      : `[[outputs.influxdb]]
  urls = ["${options.fieldhookUrl}"]
  database = "readings"
  # fieldhook has no /query: the database is fieldhook's bucket, nothing to create.
  skip_database_creation = true
  username = "telegraf"
  password = "${options.secret}"
  timeout = "5s"`;
  const config = join(options.dir, 'telegraf.conf');
  writeFileSync(
    config,
    `${telegrafAgent({ batch: options.batchSize ?? 50, buffer: 100_000 })}
[[inputs.http_listener_v2]]
  service_address = "127.0.0.1:${port}"
  paths = ["/points"]
  methods = ["POST"]
  data_format = "influx"

${output}
`,
    { mode: 0o600 },
  );
  const proc = startProcess(binary, ['--config', config], process.env);
  try {
    await waitUntil(() => tcpOpen(port), 15_000, 'Telegraf');
  } catch (err) {
    await proc.stop('SIGKILL');
    throw new Error(`${(err as Error).message}\n${proc.output()}`);
  }
  return { inputUrl: `http://127.0.0.1:${port}/points`, process: proc, stop: () => proc.stop() };
}
