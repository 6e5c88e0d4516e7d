import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { freePort, startProcess, tcpOpen, waitUntil, type ManagedProcess } from './process.js';

/**
 * Node-RED with node-red-contrib-influxdb, a flow-based alternative users compare fieldhook with in
 * `npm run bench:ingest`. Installed on demand into the cache folder (not a dependency of fieldhook).
 */
export const NODE_RED_MAJOR = '4';

function cacheDir(): string {
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'fieldhook', 'node-red');
}

export function ensureNodeRed(log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): { red: string; modules: string; version: string } {
  const dir = cacheDir();
  const modules = join(dir, 'node_modules');
  const red = join(modules, 'node-red', 'red.js');
  if (!existsSync(red) || !existsSync(join(modules, 'node-red-contrib-influxdb'))) {
    mkdirSync(dir, { recursive: true });
    log(`Installing Node-RED ${NODE_RED_MAJOR} and node-red-contrib-influxdb into ${dir}…`);
    const result = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--prefix', dir, `node-red@${NODE_RED_MAJOR}`, 'node-red-contrib-influxdb'], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (result.status !== 0 || !existsSync(red)) throw new Error(`installing Node-RED failed (exit ${result.status})`);
  }
  const { version } = JSON.parse(spawnSync(process.execPath, ['-p', `JSON.stringify(require(${JSON.stringify(join(modules, 'node-red', 'package.json'))}))`]).stdout.toString()) as { version: string };
  return { red, modules, version };
}

export interface NodeRedOptions {
  dir: string;
  mqttPort: number;
  username: string;
  password: string;
  influxPort: number;
  database: string;
  /** Readings per InfluxDB write (the join node's count; it also sends after 200 ms). */
  batch?: number;
}

/**
 * The usual flow: `mqtt in` (QoS 1, persistent session, fixed client id, JSON) → a function that
 * shapes a point → `join` (arrays of `batch`) → `influxdb batch`. Node-RED acknowledges a message
 * as it arrives (mqtt.js does, before the flow has run), so what a SIGKILL finds in the join is lost.
 */
export async function startNodeRed(options: NodeRedOptions): Promise<{ process: ManagedProcess; stop(signal?: NodeJS.Signals): Promise<void> }> {
  const { red, modules } = ensureNodeRed();
  const port = await freePort();
  mkdirSync(options.dir, { recursive: true });
  // Node-RED loads the nodes installed in its user directory's node_modules.
  if (!existsSync(join(options.dir, 'node_modules'))) symlinkSync(modules, join(options.dir, 'node_modules'));
  writeFileSync(
    join(options.dir, 'settings.js'),
    `module.exports = { flowFile: 'flows.json', credentialSecret: false, uiHost: '127.0.0.1', uiPort: ${port}, logging: { console: { level: 'warn' } }, editorTheme: { tours: false }, telemetry: { enabled: false } };\n`,
  );
  const z = 'bench';
  const flows = [
    { id: z, type: 'tab', label: 'bench' },
    {
      id: 'broker', type: 'mqtt-broker', name: 'mosquitto', broker: '127.0.0.1', port: String(options.mqttPort), clientid: 'nodered-bench',
      autoConnect: true, usetls: false, protocolVersion: '4', keepalive: '60', cleansession: false, autoUnsubscribe: false,
      birthTopic: '', closeTopic: '', willTopic: '',
    },
    { id: 'influx', type: 'influxdb', hostname: '127.0.0.1', port: String(options.influxPort), protocol: 'http', database: options.database, name: '', usetls: false, tls: '', influxdbVersion: '1.x', url: '', rejectUnauthorized: true },
    { id: 'in', type: 'mqtt in', z, topic: 'fieldhook/v1/devices/+/readings', qos: '1', datatype: 'json', broker: 'broker', nl: false, rap: true, rh: 0, inputs: 0, x: 100, y: 100, wires: [['shape']] },
    {
      id: 'shape', type: 'function', z, name: 'point', outputs: 1, x: 300, y: 100, wires: [['join']],
      func: "const r = msg.payload;\nmsg.payload = { measurement: 'reading', tags: { device: r.device }, fields: r.values, timestamp: new Date(r.ts) };\nreturn msg;",
    },
    {
      id: 'join', type: 'join', z, mode: 'custom', build: 'array', property: 'payload', propertyType: 'msg', key: 'topic', joiner: '\\n', joinerType: 'str',
      accumulate: false, timeout: '0.2', count: String(options.batch ?? 100), reduceRight: false, x: 500, y: 100, wires: [['batch']],
    },
    { id: 'batch', type: 'influxdb batch', z, influxdb: 'influx', precision: '', retentionPolicy: '', name: '', database: '', precisionV18FluxV20: 'ms', retentionPolicyV18Flux: '', org: '', bucket: '', x: 700, y: 100, wires: [] },
  ];
  writeFileSync(join(options.dir, 'flows.json'), JSON.stringify(flows));
  writeFileSync(join(options.dir, 'flows_cred.json'), JSON.stringify({ broker: { user: options.username, password: options.password } }));
  const proc = startProcess(process.execPath, [red, '--userDir', options.dir, '--settings', join(options.dir, 'settings.js')], process.env);
  await waitUntil(() => tcpOpen(port), 60_000, 'Node-RED');
  return { process: proc, stop: (signal) => proc.stop(signal) };
}
