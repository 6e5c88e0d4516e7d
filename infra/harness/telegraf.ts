import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { freePort, startProcess, tcpOpen, waitUntil, type ManagedProcess } from './process.js';

/**
 * Telegraf, the ingestion agent fieldhook is compared with in `npm run bench:ingest`: built once
 * with only the plugins the comparison needs (HTTP listener and MQTT consumer in, InfluxDB out),
 * which takes a minute instead of the full build's many.
 */
export const TELEGRAF_VERSION = 'v1.36.4';
const TAGS = 'custom,inputs.http_listener_v2,inputs.mqtt_consumer,outputs.influxdb,parsers.json,serializers.influx';
/** Names the build in the cache folder: a build with other plugins is another binary. */
const BUILD = 'http-mqtt';

export function ensureTelegraf(log?: (line: string) => void): string {
  return buildTelegraf({ build: BUILD, tags: TAGS, plugins: 'HTTP listener, MQTT consumer and InfluxDB output only' }, log);
}

/**
 * A Telegraf with only the given plugins (`go install -tags custom,…`), built once into its own
 * cache folder named by `build`: a build with other plugins is another binary.
 */
export function buildTelegraf(
  what: { build: string; tags: string; plugins: string },
  log: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): string {
  const cache = process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  const gobin = join(cache, 'fieldhook', `telegraf-${TELEGRAF_VERSION}-${what.build}`, 'bin');
  const binary = join(gobin, 'telegraf');
  if (existsSync(binary)) return binary;
  mkdirSync(gobin, { recursive: true });
  log(`Building Telegraf ${TELEGRAF_VERSION} (${what.plugins}) with go install…`);
  const result = spawnSync('go', ['install', '-tags', what.tags, `github.com/influxdata/telegraf/cmd/telegraf@${TELEGRAF_VERSION}`], {
    env: { ...process.env, CGO_ENABLED: '0', GOBIN: gobin, GOFLAGS: '-buildvcs=false' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (result.status !== 0 || !existsSync(binary)) throw new Error(`building Telegraf failed (exit ${result.status})`);
  return binary;
}

/**
 * The `[agent]` section of every Telegraf run here: flushing every 100 ms (the interval is for
 * polled inputs, which these runs have none of), no host tag, and a buffer that drops nothing.
 */
export function telegrafAgent(options: { batch: number; buffer: number }): string {
  return `[agent]
  interval = "10s"
  flush_interval = "100ms"
  flush_jitter = "0s"
  metric_batch_size = ${options.batch}
  metric_buffer_limit = ${options.buffer}
  omit_hostname = true
`;
}

/** fieldhook's native JSON reading parsed into a `reading` point (fields named `values_<quantity>`). */
const JSON_READINGS = `  data_format = "json"
  name_override = "reading"
  tag_keys = ["device"]
  json_time_key = "ts"
  json_time_format = "unix_ms"
`;

function influxOutput(options: { influxUrl: string; database: string }): string {
  return `[[outputs.influxdb]]
  urls = ["${options.influxUrl}"]
  database = "${options.database}"
  skip_database_creation = true
`;
}

export interface RunningTelegraf {
  url: string;
  process: ManagedProcess;
  stop(): Promise<void>;
}

/**
 * Telegraf taking fieldhook's native JSON batches on `POST /v1/readings` and writing them to
 * InfluxDB as `reading` points (fields named `values_<quantity>` by its JSON parser), with a
 * 5,000-metric batch and a buffer large enough that it drops nothing in the run.
 */
export async function startTelegraf(options: { dir: string; influxUrl: string; database: string }): Promise<RunningTelegraf> {
  const binary = ensureTelegraf();
  const port = await freePort();
  mkdirSync(options.dir, { recursive: true });
  const config = join(options.dir, 'telegraf.conf');
  writeFileSync(
    config,
    `${telegrafAgent({ batch: 5_000, buffer: 1_000_000 })}
[[inputs.http_listener_v2]]
  service_address = "127.0.0.1:${port}"
  paths = ["/v1/readings"]
  methods = ["POST"]
${JSON_READINGS}
${influxOutput(options)}`,
  );
  const proc = startProcess(binary, ['--config', config], process.env);
  await waitUntil(() => tcpOpen(port), 15_000, 'Telegraf');
  return { url: `http://127.0.0.1:${port}`, process: proc, stop: () => proc.stop() };
}

export interface TelegrafMqttOptions {
  dir: string;
  influxUrl: string;
  database: string;
  /** Broker port on loopback, and the login that may read every device's readings topic. */
  mqttPort: number;
  username: string;
  password: string;
  /** Metrics per InfluxDB write; at most `max_undelivered_messages`, so a full batch can form. */
  batch?: number;
}

/**
 * Telegraf's `mqtt_consumer` acknowledging after the write: with a persistent session, a fixed
 * client id and QoS 1, Telegraf acknowledges a message only once the output has written its metric
 * (up to `max_undelivered_messages` outstanding), so a SIGKILL loses nothing the broker holds.
 */
export async function startTelegrafMqtt(options: TelegrafMqttOptions): Promise<{ process: ManagedProcess; stop(signal?: NodeJS.Signals): Promise<void> }> {
  const binary = ensureTelegraf();
  const batch = options.batch ?? 5_000;
  mkdirSync(options.dir, { recursive: true });
  const config = join(options.dir, 'telegraf-mqtt.conf');
  writeFileSync(
    config,
    `${telegrafAgent({ batch, buffer: 1_000_000 })}
[[inputs.mqtt_consumer]]
  servers = ["tcp://127.0.0.1:${options.mqttPort}"]
  topics = ["fieldhook/v1/devices/+/readings"]
  topic_tag = ""
  qos = 1
  client_id = "telegraf-bench"
  persistent_session = true
  max_undelivered_messages = ${Math.max(batch, 10_000)}
  username = "${options.username}"
  password = "${options.password}"
${JSON_READINGS}
${influxOutput(options)}`,
  );
  const proc = startProcess(binary, ['--config', config], process.env);
  return { process: proc, stop: (signal) => proc.stop(signal) };
}
