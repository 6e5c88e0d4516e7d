/**
 * `fieldhook demo`: the whole pipeline on embedded defaults (local InfluxDB, embedded broker) in
 * a data folder of its own, a demo farm seeded into it (seed.ts), a live simulated fleet, and a
 * local receiver subscribed to the farm's webhooks that verifies each delivery and prints it.
 * Wiring and terminal output only: the farm is farm.ts, the seeding seed.ts, the receiver
 * receiver.ts.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PIPELINE_CONFIG } from '../host/config.js';
import { startFieldhook, type PipelineConfig, type RunningFieldhook } from '../host/fieldhook.js';
import { ensureAdminToken, removePipelineRecord, writePipelineRecord } from '../cli/local-pipeline.js';
import { tcpOpen } from '../shared/child-process.js';
import { ENV_PREFIX, loadConfig } from '../shared/config.js';
import { ensurePrivateDir } from '../shared/data-dir.js';
import { redactUrl } from '../shared/secrets.js';
import { databaseOf } from '../shared/influx.js';
import { createLogger, logStream, type LogFormat } from '../shared/logger.js';
import type { DemoField } from './farm.js';
import { humanLine, startReceiver, type ReceivedEvent, type Receiver } from './receiver.js';
import { seedDemoFarm, type SeededFarm } from './seed.js';

export const DEFAULT_DEMO_OPTIONS = {
  dataDir: 'fieldhook-demo-data',
  /** Fields are re-evaluated this often (the pipeline's default is 15 min): new fields show up fast. */
  predictIntervalMs: 5_000,
  /** Ports tried first, as `fieldhook start` uses them; a free one when taken. */
  httpPort: 8080,
  mqttPort: 1883,
} as const;

/** Marks a folder as the demo's, so `--reset` never deletes anything else. */
const STATE_FILE = 'demo.json';

export interface DemoOptions {
  /** Data folder (default `./fieldhook-demo-data`, or FIELDHOOK_DATA_DIR). */
  dataDir?: string;
  /** Delete the demo's data folder first. */
  reset?: boolean;
  /** One JSON line per delivered event on stdout instead of a human line. */
  json?: boolean;
  /** Pipeline log format (stderr). */
  logFormat?: LogFormat;
  /** When the command started, epoch ms (for the time to first advice). Default: process start. */
  startedAt?: number;
}

/** What the demo keeps between runs in its folder (0600: the webhook secret). */
interface DemoState {
  fields: DemoField[];
  subscription?: { id: string; secret: string };
}

function readState(dataDir: string): DemoState | undefined {
  try {
    return JSON.parse(readFileSync(join(dataDir, STATE_FILE), 'utf8')) as DemoState;
  } catch {
    return undefined;
  }
}

function writeState(dataDir: string, state: DemoState): void {
  writeFileSync(join(dataDir, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}

/** Delete the demo folder, refusing any folder that is not one (no demo.json, not empty). */
function resetDataDir(dataDir: string): void {
  if (!existsSync(dataDir)) return;
  if (!existsSync(join(dataDir, STATE_FILE)) && readdirSync(dataDir).length > 0) {
    throw new Error(`${dataDir} is not a demo data folder (no ${STATE_FILE}): --reset leaves it alone`);
  }
  rmSync(dataDir, { recursive: true, force: true });
}

const portOr = async (port: number) => ((await tcpOpen(port)) ? 0 : port);

/** The pipeline's settings for the demo: embedded everything, whatever the environment configures. */
async function demoConfig(dataDir: string, adminToken: string, logFormat: LogFormat): Promise<PipelineConfig> {
  const demo: Record<string, string> = {
    DATA_DIR: dataDir,
    // Embedded defaults: never the user's InfluxDB or broker.
    INFLUX_URL: '',
    INFLUX_TOKEN: '',
    MQTT_URL: '',
    ADMIN_TOKEN: adminToken,
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: String(await portOr(DEFAULT_DEMO_OPTIONS.httpPort)),
    MQTT_LISTEN_HOST: '127.0.0.1',
    MQTT_LISTEN_PORT: String(await portOr(DEFAULT_DEMO_OPTIONS.mqttPort)),
    PREDICT_INTERVAL_MS: String(DEFAULT_DEMO_OPTIONS.predictIntervalMs),
    // The receiver listens on loopback, which the SSRF guard refuses unless a farm allows it.
    WEBHOOK_ALLOW_CIDRS: JSON.stringify({ demo: ['127.0.0.1/32'] }),
    WEBHOOK_HTTPS_ONLY: 'false',
    LOG_LEVEL: 'warn',
    LOG_FORMAT: logFormat,
  };
  const env: NodeJS.ProcessEnv = { ...process.env, FIELDHOOK_CONFIG_FILE: '' };
  for (const [key, value] of Object.entries(demo)) env[ENV_PREFIX + key] = value;
  return loadConfig(PIPELINE_CONFIG, env);
}

async function api<T>(pipeline: RunningFieldhook, token: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(new URL(path, pipeline.url), {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** The receiver's subscription: created once (its secret kept in demo.json), pointed at this run's receiver. */
async function subscribe(pipeline: RunningFieldhook, token: string, receiver: Receiver, state: DemoState): Promise<{ id: string; secret: string }> {
  if (state.subscription) {
    try {
      await api(pipeline, token, 'PATCH', `/v1/subscriptions/${state.subscription.id}`, { url: receiver.url, enabled: true });
      return state.subscription;
    } catch {
      // Gone (removed by hand): make a new one.
    }
  }
  const created = await api<{ id: string; secret: string }>(pipeline, token, 'POST', '/v1/subscriptions', {
    url: receiver.url,
    events: ['*'],
    farms: ['demo'],
    description: 'fieldhook demo: the terminal receiver',
  });
  return { id: created.id, secret: created.secret };
}

function whereToLook(pipeline: RunningFieldhook, config: PipelineConfig, token: string, tokenFile: string, fields: readonly DemoField[]): string {
  const http = pipeline.url.replace('0.0.0.0', '127.0.0.1');
  const db = databaseOf(config.INFLUX_BUCKET);
  const env = `FIELDHOOK_DATA_DIR=${config.DATA_DIR}`;
  const thirsty = fields.find((f) => f.role === 'thirsty') ?? fields[0]!;
  return [
    '',
    'fieldhook demo is running: farm "demo", six fields, one sensor node each.',
    '',
    `  Status page   ${http}/ui/   (log in with the admin token)`,
    `  Admin token   ${token}   (kept in ${tokenFile})`,
    `  HTTP API      ${http}   MQTT ${pipeline.mqttUrl}   InfluxDB ${pipeline.influxUrl} (database "${db}")`,
    '',
    '  Try:',
    `    curl -s ${http}/readyz`,
    `    curl -s -H "authorization: Bearer ${token}" '${http}/v1/deliveries?limit=5'`,
    `    curl -s '${pipeline.influxUrl}/query?db=${db}' --data-urlencode "q=SELECT last(soil_moisture) FROM reading WHERE farm='demo' GROUP BY \\"field\\""`,
    `    ${env} npx fieldhook predict --field demo/${thirsty.field}`,
    `    ${env} npx fieldhook deliveries list --limit 5`,
    '  Grafana (Docker; dashboards on http://127.0.0.1:3000, docs/grafana.md):',
    `    docker run --rm --network host -e FIELDHOOK_INFLUX_URL=${pipeline.influxUrl} -e FIELDHOOK_INFLUX_DATABASE=${db} \\`,
    `      -e FIELDHOOK_PROMETHEUS_URL=http://127.0.0.1:9090 -v "$PWD/infra/grafana/provisioning:/etc/grafana/provisioning:ro" \\`,
    '      -v "$PWD/infra/grafana/dashboards:/var/lib/grafana/dashboards:ro" grafana/grafana:11.3.0',
    '',
    'Signed webhooks arrive below, one line each. Ctrl-C stops everything; --reset starts over.',
    '',
  ].join('\n');
}

export interface RunningDemo {
  pipeline: RunningFieldhook;
  farm: SeededFarm;
  receiver: Receiver;
  /** Stop the fleet, the pipeline and the receiver, in that order. */
  stop(): Promise<void>;
}

/**
 * Run the demo until `stop()`. Human lines (or JSON lines with `json`) go to stdout, progress and
 * pipeline logs to stderr, so `--json` output can be piped into another program as it is.
 */
export async function runDemo(options: DemoOptions = {}): Promise<RunningDemo> {
  const startedAt = options.startedAt ?? performance.timeOrigin;
  const dataDir = resolve(options.dataDir ?? process.env.FIELDHOOK_DATA_DIR ?? DEFAULT_DEMO_OPTIONS.dataDir);
  const say = (line: string) => void process.stderr.write(`${line}\n`);
  const seconds = () => ((Date.now() - startedAt) / 1000).toFixed(1);
  if (options.reset) {
    resetDataDir(dataDir);
    say(`demo: started over (${dataDir} removed)`);
  }
  ensurePrivateDir(dataDir);
  const previous = readState(dataDir);
  if (!previous && readdirSync(dataDir).length > 0) {
    throw new Error(`${dataDir} is not empty and not a demo data folder: choose another with FIELDHOOK_DATA_DIR`);
  }
  // Marks the folder as the demo's from the start, so --reset may remove it even after a failed first run.
  if (!previous) writeState(dataDir, { fields: [] });
  const { token, path: tokenFile } = ensureAdminToken(dataDir);
  const format = options.logFormat ?? 'auto';
  const config = await demoConfig(dataDir, token, format);
  const logger = createLogger({ level: config.LOG_LEVEL, base: { app: 'fieldhook' } }, logStream(format, 2));

  say(`demo: starting fieldhook in ${dataDir} (local InfluxDB, embedded broker${config.DATABASE_URL ? `, control plane in ${redactUrl(config.DATABASE_URL)}` : ''})…`);
  const pipeline = await startFieldhook(config, logger, { handleSignals: false });
  writePipelineRecord(dataDir, { httpUrl: pipeline.url, influxUrl: pipeline.influxUrl, mqttUrl: pipeline.mqttUrl, pid: process.pid, startedAt: new Date().toISOString() });
  say(`demo: fieldhook is up at ${pipeline.url} (${seconds()} s)`);

  let firstAdvice = true;
  const onEvent = (event: ReceivedEvent) => {
    process.stdout.write(`${options.json ? JSON.stringify(event) : humanLine(event)}\n`);
    if (event.type === 'irrigation.recommended' && firstAdvice) {
      firstAdvice = false;
      say(`demo: first irrigation advice ${seconds()} s after the command started`);
    }
  };
  const state: DemoState = previous ?? { fields: [] };
  let receiver: Receiver | undefined;
  let farm: SeededFarm | undefined;
  try {
    receiver = await startReceiver(onEvent, state.subscription ? { secret: state.subscription.secret } : {});
    state.subscription = await subscribe(pipeline, token, receiver, state);
    receiver.setSecret(state.subscription.secret);
    farm = await seedDemoFarm({
      dataDir,
      // Registered where the pipeline looks: its PostgreSQL when FIELDHOOK_DATABASE_URL is set.
      databaseUrl: config.DATABASE_URL,
      httpUrl: pipeline.url,
      ...(state.fields.length > 0 ? { fields: state.fields } : {}),
      progress: (line) => say(`demo: ${line}`),
    });
    state.fields = [...farm.fields];
    writeState(dataDir, state);
    farm.fleet.start();
  } catch (err) {
    await farm?.fleet.stop().catch(() => {});
    await pipeline.stop().catch(() => {});
    await receiver?.close();
    removePipelineRecord(dataDir);
    throw err;
  }
  say(whereToLook(pipeline, config, token, tokenFile, farm.fields));
  say(`demo: waiting for the predictor's next round (every ${DEFAULT_DEMO_OPTIONS.predictIntervalMs / 1000} s)…`);
  const seeded = farm;
  const listening = receiver;
  let stopping: Promise<void> | undefined;
  return {
    pipeline,
    farm: seeded,
    receiver: listening,
    stop: () =>
      (stopping ??= (async () => {
        await seeded.fleet.stop();
        await pipeline.stop();
        await listening.close();
        removePipelineRecord(dataDir);
      })()),
  };
}
