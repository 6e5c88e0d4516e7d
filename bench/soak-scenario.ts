/**
 * The soak: `fieldhook start` as a separate process, hostile traffic from several concurrent
 * attackers (malformed HTTP, oversized bodies and batches, deep and prototype-keyed payloads,
 * impossible dates, slow clients, connection floods past the caps, replayed and ambiguous signed
 * requests, hostile MQTT publishes and logins) next to a well-behaved client that sends one valid
 * reading at a fixed rate over HTTP and over MQTT. Shared by `npm run bench:soak` (minutes) and
 * its short form in the test suite (seconds).
 *
 * Loopback only (the attackers use other 127.0.0.0/8 source addresses, so that the per-address
 * connection cap they run into is not the well-behaved client's); every attacker is paced and
 * stops at the end of the soak, every socket has a deadline.
 */
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { Webhook } from 'standardwebhooks';
import { Pool } from 'undici';
import { freePort, startProcess, waitUntil, type ManagedProcess } from '../infra/harness/process.js';
import { createSqliteDeviceRepository } from '../services/registry/sqlite-devices.js';
import { deviceErrorsTopic, deviceReadingsTopic, EVENTS_TOPIC, fieldReadingsTopic } from '../services/shared/bus/topics.js';
import { rssMb } from './lib/process-stats.js';

// ---------------------------------------------------------------------------------------------
// The target: fieldhook start, its devices, its memory and its logs
// ---------------------------------------------------------------------------------------------

const FARM = 'soak';
/** The well-behaved client's devices: their readings are counted in InfluxDB at the end. */
export const GOOD = { http: 'good-http', mqtt: 'good-mqtt' } as const;
/** The attackers' own devices (a valid login is the stronger attacker). */
const HOSTILE = {
  http: 'h-http',
  signed: 'h-signed',
  gateway: 'h-gw',
  uplink: 'a1b2c3d4e5f60001',
  mqttBig: 'h-mq-big',
  mqttCount: 'h-mq-count',
  mqttBad: 'h-mq-bad',
  mqttIds: 'h-mq-ids',
  mqttTopic: 'h-mq-topic',
} as const;

/** The connection cap per source address (HTTP_MAX_CONNECTIONS_PER_ADDRESS) and in all (HTTP_MAX_CONNECTIONS). */
const CAP_PER_ADDRESS = 64;
const CAP_TOTAL = 1_024;

export interface SoakTargetOptions {
  /**
   * `fieldhook start` as a command line: the program and its arguments, run in the current
   * directory, which must be the repository (npm and vitest run there; the model path is relative).
   */
  command: readonly string[];
  /** A fresh DATA_DIR. */
  dataDir: string;
  influxUrl: string;
  /** InfluxDB 1.8 database (fieldhook creates it at start), or an existing 2.x bucket. */
  database: string;
  /** Headers for the count query (on InfluxDB 2.x the token; INFLUX_TOKEN and INFLUX_ORG go in `settings`). */
  influxHeaders?: Record<string, string>;
  /** More settings, without the FIELDHOOK_ prefix (e.g. shorter HTTP timeouts for a short soak). */
  settings?: Record<string, string>;
}

export interface RssSample {
  /** performance.now() of the sample. */
  atMs: number;
  mb: number;
}

export interface SoakTarget {
  url: string;
  httpPort: number;
  mqttUrl: string;
  mqttPort: number;
  pid: number;
  secrets: Readonly<Record<string, string>>;
  /** The process's RSS, sampled every second from /proc/<pid>/status. */
  rss: readonly RssSample[];
  /** Take one RSS sample now. */
  sampleRss(): void;
  /** How the process ended, when it ended before `stop()`: a crash. */
  exited(): { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** Log lines at level error or fatal, and anything on stderr (warnings such as a listener leak). */
  problems(): readonly string[];
  /** Status of GET /healthz, 0 when nothing answers. */
  healthz(): Promise<number>;
  readyz(): Promise<number>;
  /** Readings of one device in InfluxDB (count of soil_moisture points). */
  stored(device: string): Promise<number>;
  output(): string;
  stop(): Promise<void>;
}

/** Registers the devices, starts `fieldhook start` on free loopback ports, waits for /healthz. */
export async function startSoakTarget(options: SoakTargetOptions): Promise<SoakTarget> {
  const devices = createSqliteDeviceRepository(join(options.dataDir, 'registry.db'));
  const secrets: Record<string, string> = {};
  try {
    for (const id of [GOOD.http, GOOD.mqtt, HOSTILE.http, HOSTILE.signed, HOSTILE.mqttBig, HOSTILE.mqttCount, HOSTILE.mqttBad, HOSTILE.mqttIds, HOSTILE.mqttTopic]) {
      secrets[id] = (await devices.add({ id, farm: FARM, field: id.startsWith('good') ? 'f-good' : 'f-hostile', kind: 'device' })).secret;
    }
    secrets[HOSTILE.gateway] = (await devices.add({ id: HOSTILE.gateway, farm: FARM, field: 'f-hostile', kind: 'gateway' })).secret;
    secrets[HOSTILE.uplink] = (await devices.add({ id: HOSTILE.uplink, farm: FARM, field: 'f-hostile', kind: 'device', gateway: HOSTILE.gateway })).secret;
  } finally {
    devices.close();
  }

  const [httpPort, mqttPort, mqttTlsPort] = [await freePort(), await freePort(), await freePort()];
  const settings: Record<string, string> = {
    DATA_DIR: options.dataDir,
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: String(httpPort),
    MQTT_LISTEN_HOST: '127.0.0.1',
    MQTT_LISTEN_PORT: String(mqttPort),
    MQTT_TLS_PORT: String(mqttTlsPort),
    INFLUX_URL: options.influxUrl,
    INFLUX_BUCKET: options.database,
    // On, but above the well-behaved client's 50 requests/s (3,000 a minute).
    INGEST_RATE_LIMIT_PER_MINUTE: '100000',
    ADMIN_TOKEN: randomBytes(16).toString('hex'),
    LOG_LEVEL: 'warn',
    ...options.settings,
  };
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FIELDHOOK_')));
  for (const [k, v] of Object.entries(settings)) env[`FIELDHOOK_${k}`] = v;
  const [program, ...args] = options.command;
  const proc: ManagedProcess = startProcess(program!, args, env);

  const problems: string[] = [];
  let stopping = false;
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  proc.child.once('exit', (code, signal) => {
    if (!stopping) exit = { code, signal };
  });
  createInterface({ input: proc.child.stdout! }).on('line', (line) => {
    const level = /"level":(\d+)/.exec(line)?.[1];
    if (level !== undefined && Number(level) >= 50 && problems.length < 200) problems.push(line.slice(0, 2_000));
  });
  createInterface({ input: proc.child.stderr! }).on('line', (line) => {
    if (problems.length < 200) problems.push(`stderr: ${line.slice(0, 2_000)}`);
  });

  const pid = proc.child.pid!;
  const rss: RssSample[] = [];
  const sample = () => {
    const mb = rssMb(pid);
    if (mb > 0) rss.push({ atMs: performance.now(), mb });
  };
  const sampler = setInterval(sample, 1_000);
  sampler.unref();

  const url = `http://127.0.0.1:${httpPort}`;
  const status = async (path: string) => {
    try {
      const res = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(10_000) });
      await res.arrayBuffer();
      return res.status;
    } catch {
      return 0;
    }
  };
  try {
    await waitUntil(
      async () => {
        if (exit !== undefined) throw new Error(`fieldhook start exited: ${JSON.stringify(exit)}`);
        return (await status('/healthz')) === 200;
      },
      60_000,
      'fieldhook start',
    ).catch((err: Error) => {
      throw exit !== undefined ? new Error(`fieldhook start exited (${JSON.stringify(exit)}) before it answered /healthz`) : err;
    });
  } catch (err) {
    clearInterval(sampler);
    await proc.stop();
    throw new Error(`${(err as Error).message}\n${proc.output()}`);
  }
  sample();

  return {
    url,
    httpPort,
    mqttUrl: `mqtt://127.0.0.1:${mqttPort}`,
    mqttPort,
    pid,
    secrets,
    rss,
    sampleRss: sample,
    exited: () => exit,
    problems: () => problems,
    healthz: () => status('/healthz'),
    readyz: () => status('/readyz'),
    async stored(device) {
      const q = `SELECT count("soil_moisture") FROM "reading" WHERE "device" = '${device}'`;
      const res = await fetch(`${options.influxUrl}/query?${new URLSearchParams({ db: options.database, q })}`, { headers: options.influxHeaders });
      const body = (await res.json()) as { results: { series?: { values: [string, number][] }[] }[] };
      return body.results[0]?.series?.[0]?.values[0]?.[1] ?? 0;
    },
    output: () => proc.output(),
    async stop() {
      stopping = true;
      clearInterval(sampler);
      await proc.stop();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// What the soak reports
// ---------------------------------------------------------------------------------------------

export interface LatencySummary {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

export interface ClientPhase {
  /** Readings sent (each until acknowledged or refused). */
  sent: number;
  /** Readings acknowledged (202 with the reading accepted, or PUBACK without a refusal). */
  acked: number;
  /** Ack latency, ms, from the first attempt to the acknowledgement (retries included). */
  latency: LatencySummary;
  /** Attempts refused by a cap and retried (503 connection cap, 429). */
  retried: number;
  /** Readings not acknowledged, by why. */
  failed: Record<string, number>;
}

export interface SoakResult {
  quiet: { http: ClientPhase; mqtt: ClientPhase };
  soak: { http: ClientPhase; mqtt: ClientPhase };
  /** Every acknowledged well-behaved reading, both phases: InfluxDB must hold exactly these. */
  acked: { http: number; mqtt: number };
  /** Hostile requests by kind: how many, and their outcomes (status and code, or what the socket did). */
  hostile: Record<string, Record<string, number>>;
  /** Every 5xx seen by anyone: the connection caps' 503 is by design; anything else is a bug. */
  fiveXX: { total: number; connectionCap: number; unexpected: string[] };
  /** Times the well-behaved MQTT client lost its connection (a session taken over would show here). */
  mqttDisconnects: number;
  /** performance.now() at the start and end of the soak phase (for the RSS samples). */
  soakStartMs: number;
  soakEndMs: number;
  /** p99 event-loop delay of the load generator itself in each phase, ms: its own share of a latency. */
  loadGeneratorDelayP99Ms: { quiet: number; soak: number };
}

export interface SoakOptions {
  /** The well-behaved client alone, before the attackers start. */
  quietSeconds: number;
  /** The well-behaved client with every attacker. */
  soakSeconds: number;
  /** Well-behaved readings per second, on each of HTTP and MQTT. */
  rate: number;
  /**
   * Include the bodies that are within the size limit but cost the event loop 50 – 250 ms each to
   * refuse (SenML pack of 20,000 records, a reading with 60,000 names). Default true.
   */
  heavyBodies?: boolean;
  /** Progress lines (stderr in the bench). */
  log?: (line: string) => void;
}

class Tally {
  readonly hostile = new Map<string, Map<string, number>>();
  readonly fiveXX = { total: 0, connectionCap: 0, unexpected: [] as string[] };

  /** Any HTTP answer, the well-behaved client's too. */
  status(who: string, status: number | undefined, code: string | undefined): void {
    if (status === undefined || status < 500) return;
    this.fiveXX.total++;
    if (status === 503 && code === 'FH_ERR_HTTP_TOO_MANY_CONNECTIONS') this.fiveXX.connectionCap++;
    else if (this.fiveXX.unexpected.length < 100) this.fiveXX.unexpected.push(`${who}: ${status} ${code ?? ''}`.trim());
  }

  add(kind: string, outcome: string): void {
    let outcomes = this.hostile.get(kind);
    if (!outcomes) this.hostile.set(kind, (outcomes = new Map()));
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  }

  /** A raw HTTP exchange of an attacker. */
  http(kind: string, response: RawResponse): void {
    this.status(kind, response.status, response.code);
    this.add(kind, response.outcome);
  }
}

// ---------------------------------------------------------------------------------------------
// Raw HTTP: every byte is the attacker's
// ---------------------------------------------------------------------------------------------

interface RawResponse {
  status?: number;
  code?: string;
  /** `413 FH_ERR_HTTP_BODY_TOO_LARGE`, or what the socket did (`ECONNRESET`, `closed without an answer`). */
  outcome: string;
}

interface RawRequest {
  /** Request line and headers (or any bytes at all). */
  head: string;
  body?: Buffer | string;
  /** Send the body one byte per `dripMs` instead. */
  dripMs?: number;
  localAddress?: string;
  timeoutMs?: number;
}

/** How many connections the attackers have open (a bound for the soak's own sockets). */
const openSockets = new Set<Socket>();

function parseResponse(bytes: Buffer): { status: number; code?: string; complete: boolean } | undefined {
  const text = bytes.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
  const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(text.slice(0, end))?.[1] ?? -1);
  const chunked = /\r\ntransfer-encoding:\s*chunked/i.test(text.slice(0, end));
  const body = text.slice(end + 4);
  const complete = length >= 0 ? body.length >= length : chunked ? body.includes('0\r\n\r\n') : false;
  const code = /"code"\s*:\s*"([A-Z0-9_]+)"/.exec(body)?.[1];
  return { status, ...(code ? { code } : {}), complete };
}

/** One request on a fresh connection; resolves with the answer, or with what the socket did. */
function rawHttp(port: number, request: RawRequest, stop: AbortSignal): Promise<RawResponse> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    let drip: NodeJS.Timeout | undefined;
    let failure: string | undefined;
    const socket = connect({ host: '127.0.0.1', port, ...(request.localAddress ? { localAddress: request.localAddress } : {}) });
    openSockets.add(socket);
    const finish = (fallback: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      if (drip) clearInterval(drip);
      stop.removeEventListener('abort', onAbort);
      openSockets.delete(socket);
      socket.destroy();
      const parsed = parseResponse(Buffer.concat(chunks));
      if (parsed && parsed.status > 0) resolve({ status: parsed.status, ...(parsed.code ? { code: parsed.code } : {}), outcome: `${parsed.status}${parsed.code ? ` ${parsed.code}` : ''}` });
      else resolve({ outcome: failure ?? fallback });
    };
    const onAbort = () => finish('unanswered when the soak ended');
    stop.addEventListener('abort', onAbort);
    const deadline = setTimeout(() => finish('no answer within the client deadline'), request.timeoutMs ?? 15_000);
    socket.on('data', (chunk: Buffer) => {
      if (received < 65_536) chunks.push(chunk);
      received += chunk.length;
      if (parseResponse(Buffer.concat(chunks))?.complete) finish('answered');
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      failure ??= err.code ?? err.message;
    });
    socket.on('close', () => finish('closed without an answer'));
    socket.on('connect', () => {
      socket.write(request.head);
      const body = request.body === undefined ? undefined : Buffer.isBuffer(request.body) ? request.body : Buffer.from(request.body);
      if (!body) return;
      if (request.dripMs === undefined) {
        socket.write(body);
        return;
      }
      let i = 0;
      drip = setInterval(() => {
        if (i < body.length && !socket.destroyed) socket.write(body.subarray(i, ++i));
      }, request.dripMs);
    });
  });
}

/** A request head; `Connection: close`, so each exchange is one connection. */
function head(method: string, path: string, headers: Record<string, string>, body?: string | Buffer): string {
  const all: Record<string, string> = { host: '127.0.0.1', connection: 'close', ...headers };
  if (body !== undefined && all['content-length'] === undefined && all['transfer-encoding'] === undefined) {
    all['content-length'] = String(Buffer.byteLength(body));
  }
  return `${method} ${path} HTTP/1.1\r\n${Object.entries(all)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\r\n')}\r\n\r\n`;
}

function post(path: string, headers: Record<string, string>, body: string | Buffer): RawRequest {
  return { head: head('POST', path, headers, body), body };
}

// ---------------------------------------------------------------------------------------------
// Payloads
// ---------------------------------------------------------------------------------------------

const VALUES = { soil_moisture: 0.25, soil_temperature: 18.5, battery_voltage: 3.7, rssi: -71 };

const nested = (depth: number, leaf: string) => `${'{"a":'.repeat(depth)}${leaf}${'}'.repeat(depth)}`;

function chirpStack(object: string, time = new Date().toISOString()): string {
  return `{"deduplicationId":"${randomBytes(8).toString('hex')}","time":"${time}","deviceInfo":{"devEui":"${HOSTILE.uplink}"},"object":${object}}`;
}

function ttn(decoded: string): string {
  return `{"end_device_ids":{"dev_eui":"${HOSTILE.uplink}"},"correlation_ids":["as:up:${randomBytes(8).toString('hex')}"],"uplink_message":{"received_at":"${new Date().toISOString()}","decoded_payload":${decoded}}}`;
}

/** Bodies built once: the attackers must not spend the load generator's CPU rebuilding them. */
function payloads() {
  const now = Date.now();
  const small = (i: number) => ({ ts: now - 60_000 - i, values: { rssi: -70 } });
  const batch = JSON.stringify(Array.from({ length: 5_001 }, (_, i) => small(i)));
  const wideValues = JSON.stringify({ ts: now - 60_000, values: Object.fromEntries(Array.from({ length: 60_000 }, (_, i) => [`q${i}`, i])) });
  const senmlPack = JSON.stringify(Array.from({ length: 20_000 }, (_, i) => ({ ...(i === 0 ? { bn: `urn:dev:id:${HOSTILE.http}` } : {}), n: 'rssi', v: -70, t: 1.7e9 + i })));
  return {
    batch,
    wideValues,
    senmlPack,
    deepUplink: chirpStack(nested(20_000, '1')),
    deepTtn: ttn(nested(20_000, '{"soil_moisture":0.2}')),
    deepValues: `{"ts":${now},"values":${nested(10_000, '0.2')}}`,
    deepArrays: `${'['.repeat(100_000)}${']'.repeat(100_000)}`,
    /** 2 MiB: twice INGEST_BODY_LIMIT_BYTES. */
    oversized: Buffer.alloc(2 * 1_048_576, 0x20),
    /** 3 MB over MQTT. */
    mqttOversized: Buffer.concat([Buffer.from('['), Buffer.alloc(3_000_000, 0x20), Buffer.from(']')]),
  };
}

const BAD_JSON = ['{"device":', '[1,2,', '\uFEFF{"ts":1}', '{"ts": NaN}', '\u0000', '{"a":1}{"b":2}', 'null', '[]', '"a string"', '{"ts":1e999999}'];

const SENML_PROTO = [
  [{ bn: 'urn:dev:id:h-http', bt: 1.7e9, n: 'soil_moisture', u: '__proto__', v: 0.2 }],
  [{ bn: 'urn:dev:id:h-http', bt: 1.7e9, n: 'soil_moisture', u: 'constructor', v: 0.2 }],
  [{ bn: 'urn:dev:id:h-http', bt: 1.7e9, n: 'soil_moisture', u: 'hasOwnProperty', v: 0.2 }],
  [{ bn: 'urn:dev:id:h-http', bt: 1.7e9, n: '__proto__', v: 0.2 }],
  [{ bn: 'urn:dev:id:h-http', bt: 1.7e9, n: 'constructor', u: 'valueOf', v: 0.2 }],
  [{ bn: '__proto__', bt: 1.7e9, n: 'soil_moisture', u: 'toString', v: 0.2 }],
  [{ bu: '__proto__', bt: 1.7e9, n: 'rssi', v: -70 }],
].map((pack) => JSON.stringify(pack));

const IMPOSSIBLE_TS: unknown[] = ['2023-02-29T12:00:00Z', '2024-02-30T00:00:00Z', '2024-13-01T00:00:00Z', '2024-04-31T10:00:00+02:00', '2024-06-01T24:61:00Z', 1e20, -8.64e15 - 1, '0000-00-00T00:00:00Z', 1.5, '2024-06-01'];

const BAD_REQUEST_LINES = [
  'GARBAGE\r\n\r\n',
  'GET /healthz HTTP/9.9\r\nhost: x\r\n\r\n',
  'POST /v1/readings HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n',
  'POST /v1/readings HTTP/1.1\r\nhost: x\r\ncontent-length: abc\r\n\r\n',
  'POST /v1/readings HTTP/1.1\r\nhost: x\r\ncontent-length: -1\r\n\r\n',
  'POST /v1/readings HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n',
  'GET /healthz HTTP/1.1\r\nhost: x\r\nx-nul: a\u0000b\r\n\r\n',
  'GET /heal thz HTTP/1.1\r\nhost: x\r\n\r\n',
  'GET /healthz HTTP/1.1\nhost: x\n bad-fold: y\n\n',
  '\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u0001\u00fc\u0003\u0003',
  'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
  'GET /healthz HTTP/1.1\r\nhost: x\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n',
];

// ---------------------------------------------------------------------------------------------
// Attackers
// ---------------------------------------------------------------------------------------------

const ATTACKER_ADDRESS = '127.0.0.2';
const SLOW_ADDRESS = '127.0.0.4';
const FLOOD_ADDRESS = '127.0.0.3';
/** Source addresses of the flood past the server-wide cap: each stays under the per-address cap. */
const GLOBAL_FLOOD_ADDRESSES = Array.from({ length: 24 }, (_, i) => `127.0.1.${i + 1}`);

const wait = (ms: number, stop: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (stop.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      stop.removeEventListener('abort', done);
      resolve();
    }
    stop.addEventListener('abort', done);
  });

/** Run `step` every `everyMs` (one at a time) until the soak ends or `max` steps were taken. */
async function paced(everyMs: number, max: number, stop: AbortSignal, step: (i: number) => Promise<void>): Promise<void> {
  for (let i = 0; i < max && !stop.aborted; i++) {
    const started = performance.now();
    await step(i);
    await wait(Math.max(0, everyMs - (performance.now() - started)), stop);
  }
}

interface AttackContext {
  target: SoakTarget;
  tally: Tally;
  stop: AbortSignal;
  soakSeconds: number;
  /** At most this many steps per attacker: rate × time, with room. */
  bound: (everyMs: number) => number;
  heavyBodies: boolean;
}

function signedHeaders(secret: string, body: string, extra: Record<string, string> = {}, at = new Date()): Record<string, string> {
  const id = `msg_${randomBytes(9).toString('hex')}`;
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(id, at, body),
    ...extra,
  };
}

function httpAttackers(ctx: AttackContext, p: ReturnType<typeof payloads>): Promise<void>[] {
  const { target, tally, stop, bound } = ctx;
  const port = target.httpPort;
  const bearer = { authorization: `Bearer ${target.secrets[HOSTILE.http]}` };
  const gateway = { authorization: `Bearer ${target.secrets[HOSTILE.gateway]}` };
  const send = async (kind: string, request: RawRequest) =>
    tally.http(kind, await rawHttp(port, { localAddress: ATTACKER_ADDRESS, ...request }, stop));
  const json = { ...bearer, 'content-type': 'application/json' };
  const reading = (extra: Record<string, unknown> = {}) => JSON.stringify({ ts: Date.now() - 1_000, values: VALUES, ...extra });

  const attackers: Promise<void>[] = [];
  const every = (everyMs: number, step: (i: number) => Promise<void>) => attackers.push(paced(everyMs, bound(everyMs), stop, step));

  every(100, (i) => send('malformed JSON', post('/v1/readings', json, BAD_JSON[i % BAD_JSON.length]!)));
  every(150, (i) => {
    const types = ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', '', 'application/xml', 'application/json-patch+json', 'text/json'];
    const type = types[i % types.length]!;
    return send('wrong content type', post('/v1/readings', { ...bearer, ...(type ? { 'content-type': type } : {}) }, reading({ ts: 'not a time' })));
  });
  every(200, (i) => {
    const big = 'x'.repeat(20_000);
    const variants: RawRequest[] = [
      { head: head('GET', '/healthz', { 'x-big': big }) },
      { head: head('GET', '/healthz', Object.fromEntries(Array.from({ length: 400 }, (_, k) => [`x-h-${k}`, 'y'.repeat(40)]))) },
      { head: head('POST', '/v1/readings', { ...json, authorization: `Bearer ${'A'.repeat(17_000)}` }, '{}'), body: '{}' },
    ];
    return send('huge headers', variants[i % variants.length]!);
  });
  every(200, (i) => {
    const variants = [`/v1/readings/${'a'.repeat(5_000)}`, `/healthz?${'q=1&'.repeat(1_500)}`, `/${'%2e%2e/'.repeat(700)}`, `/v1/${'b'.repeat(30_000)}`, `/${'x'.repeat(3_000)}`];
    return send('huge path', { head: head('GET', variants[i % variants.length]!, {}) });
  });
  every(200, (i) => send('bad request line', { head: BAD_REQUEST_LINES[i % BAD_REQUEST_LINES.length]! }));
  every(1_000, (i) =>
    i % 2 === 0
      ? send('oversized body', post('/v1/readings', json, p.oversized))
      : send('oversized body', { head: head('POST', '/v1/readings', { ...json, 'transfer-encoding': 'chunked' }), body: Buffer.concat([Buffer.from(`${p.oversized.length.toString(16)}\r\n`), p.oversized, Buffer.from('\r\n0\r\n\r\n')]) }),
  );
  every(1_000, () => send('oversized batch (5,001 readings)', post('/v1/readings', json, p.batch)));
  if (ctx.heavyBodies) {
    // Within the body limit, but costly to refuse: a SenML pack of 20,000 records (20,000 readings,
    // over INGEST_MAX_BATCH) and a reading with 60,000 names.
    every(1_000, (i) =>
      send(
        'CPU-heavy bodies (SenML 20,000 records; 60,000 names)',
        i % 2 === 0 ? post('/v1/readings', { ...bearer, 'content-type': 'application/senml+json' }, p.senmlPack) : post('/v1/readings', json, p.wideValues),
      ),
    );
  }
  every(500, (i) => {
    const variants: RawRequest[] = [
      post('/v1/uplinks/chirpstack', { ...gateway, 'content-type': 'application/json' }, p.deepUplink),
      post('/v1/uplinks/ttn', { ...gateway, 'content-type': 'application/json' }, p.deepTtn),
      post('/v1/readings', json, p.deepValues),
      post('/v1/readings', json, p.deepArrays),
    ];
    return send('deeply nested', variants[i % variants.length]!);
  });
  every(200, (i) => send('SenML prototype keys', post('/v1/readings', { ...bearer, 'content-type': 'application/senml+json' }, SENML_PROTO[i % SENML_PROTO.length]!)));
  every(200, (i) => {
    const ts = IMPOSSIBLE_TS[i % IMPOSSIBLE_TS.length];
    if (i % 5 === 4) return send('impossible date', post('/v1/uplinks/chirpstack', { ...gateway, 'content-type': 'application/json' }, chirpStack('{"soil_moisture":0.2}', '2023-02-30T10:00:00Z')));
    return send('impossible date', post('/v1/readings', json, reading({ ts })));
  });
  every(200, (i) => {
    const variants: Record<string, string>[] = [{ authorization: 'Bearer whsec_nope' }, { authorization: 'Bearer' }, { authorization: 'Basic Zm9vOmJhcg==' }, { authorization: `Bearer ${'z'.repeat(8_000)}` }, {}, { authorization: `Bearer ${target.secrets[HOSTILE.http]} extra` }];
    return send('bad credentials', post('/v1/readings', { ...variants[i % variants.length]!, 'content-type': 'application/json' }, reading()));
  });
  every(250, (i) => {
    if (i % 3 === 0) return send('prototype keys in values', post('/v1/readings', json, reading({ values: JSON.parse('{"__proto__":{"soil_moisture":0.3},"constructor":{"prototype":{"polluted":1}}}') })));
    if (i % 3 === 1) return send('prototype keys in values', post('/v1/readings', json, '{"ts":1700000000000,"__proto__":{"device":"good-http"},"values":{"soil_moisture":0.2}}'));
    return send('prototype keys in values', post('/v1/uplinks/ttn', { ...gateway, 'content-type': 'application/json' }, ttn('{"__proto__":{"soil_moisture":0.1},"constructor":1}')));
  });

  // Signed requests: a body signed once and sent again (the replay check holds whatever else a request carries).
  const signedSecret = target.secrets[HOSTILE.signed]!;
  every(500, async (i) => {
    const body = JSON.stringify({ id: `replayed-${i}`, ts: Date.now() - 2_000, values: VALUES });
    const headers = signedHeaders(signedSecret, body, { 'fieldhook-device': HOSTILE.signed });
    await send('signed, first time', post('/v1/readings', headers, body));
    for (let r = 0; r < 3 && !stop.aborted; r++) await send('signed, replayed', post('/v1/readings', headers, body));
    await send('signed, replayed', post('/v1/readings', { ...headers, authorization: 'Basic Zm9vOmJhcg==' }, body));
  });
  every(250, (i) => {
    const body = JSON.stringify({ ts: Date.now() - 2_000, values: VALUES });
    const variants: RawRequest[] = [
      // A Bearer secret next to a signature: ambiguous.
      post('/v1/readings', signedHeaders(signedSecret, body, { 'fieldhook-device': HOSTILE.signed, authorization: `Bearer ${signedSecret}` }), body),
      post('/v1/readings', signedHeaders(signedSecret, body, { 'fieldhook-device': HOSTILE.signed, authorization: `Bearer ${target.secrets[GOOD.http]}` }), body),
      // No device named.
      post('/v1/readings', signedHeaders(signedSecret, body), body),
      // Another device named, signed with the attacker's own secret.
      post('/v1/readings', signedHeaders(signedSecret, body, { 'fieldhook-device': GOOD.http }), body),
      // Signed long ago.
      post('/v1/readings', signedHeaders(signedSecret, body, { 'fieldhook-device': HOSTILE.signed }, new Date(Date.now() - 3_600_000)), body),
      // Signed over one body, sent with another.
      post('/v1/readings', signedHeaders(signedSecret, body, { 'fieldhook-device': HOSTILE.signed }), body.replace('0.25', '0.26')),
      // One header only.
      post('/v1/readings', { 'content-type': 'application/json', 'webhook-id': 'msg_1', 'fieldhook-device': HOSTILE.signed }, body),
    ];
    return send('Bearer + signature, forged signatures', variants[i % variants.length]!);
  });
  return attackers;
}

/** Slow clients: a body (or headers) one byte per second, as many as `count` at a time. */
function slowAttackers(ctx: AttackContext): Promise<void>[] {
  const { target, tally, stop } = ctx;
  const port = target.httpPort;
  const body = JSON.stringify({ ts: Date.now(), values: VALUES }).padEnd(120, ' ');
  const signedSecret = target.secrets[HOSTILE.signed]!;
  const kinds: [string, () => RawRequest][] = [
    ['slow body (Bearer)', () => ({ head: head('POST', '/v1/readings', { authorization: `Bearer ${target.secrets[HOSTILE.http]}`, 'content-type': 'application/json' }, body), body, dripMs: 1_000 })],
    ['slow body (signed)', () => ({ head: head('POST', '/v1/readings', signedHeaders(signedSecret, body, { 'fieldhook-device': HOSTILE.signed }), body), body, dripMs: 1_000 })],
    ['slow body (no credential)', () => ({ head: head('POST', '/v1/readings', { 'content-type': 'application/json' }, body), body, dripMs: 1_000 })],
    ['slow headers', () => ({ head: 'POST /v1/readings HTTP/1.1\r\n', body: `host: x\r\n${'x-slow: 1\r\n'.repeat(30)}`, dripMs: 1_000 })],
  ];
  const attackers: Promise<void>[] = [];
  for (const [kind, request] of kinds) {
    for (let n = 0; n < 3; n++) {
      attackers.push(
        paced(100, ctx.bound(1_000), stop, async () => {
          tally.http(kind, await rawHttp(port, { ...request(), localAddress: SLOW_ADDRESS, timeoutMs: 120_000 }, stop));
        }),
      );
    }
  }
  return attackers;
}

/** Open `count` connections from each address, hold them `holdMs`, then ask /healthz on the ones admitted. */
async function flood(ctx: AttackContext, kind: string, addresses: readonly string[], perAddress: number, holdMs: number, probe: boolean): Promise<void> {
  const { target, tally, stop } = ctx;
  const sockets = addresses.flatMap((localAddress) =>
    Array.from({ length: perAddress }, () =>
      new Promise<{ socket: Socket; data: Buffer[]; closed: boolean }>((resolve) => {
        const state = { socket: connect({ host: '127.0.0.1', port: target.httpPort, localAddress }), data: [] as Buffer[], closed: false };
        openSockets.add(state.socket);
        state.socket.on('data', (chunk: Buffer) => state.data.push(chunk));
        state.socket.on('error', () => {});
        state.socket.on('close', () => {
          state.closed = true;
          openSockets.delete(state.socket);
          resolve(state);
        });
        state.socket.on('connect', () => resolve(state));
      }),
    ),
  );
  const all = await Promise.all(sockets);
  await wait(holdMs, stop);
  await Promise.all(
    all.map(async ({ socket, data, closed }) => {
      const refused = parseResponse(Buffer.concat(data));
      if (refused && refused.status > 0) {
        tally.http(kind, { status: refused.status, ...(refused.code ? { code: refused.code } : {}), outcome: `${refused.status}${refused.code ? ` ${refused.code}` : ''}` });
        socket.destroy();
        return;
      }
      if (closed) {
        tally.add(kind, 'closed without an answer');
        return;
      }
      if (!probe || stop.aborted) {
        tally.add(kind, 'admitted, held, closed by the client');
        socket.destroy();
        return;
      }
      // Admitted: the connection works.
      const answer = await new Promise<RawResponse>((resolve) => {
        const timer = setTimeout(() => resolve({ outcome: 'no answer on an admitted connection' }), 10_000);
        const check = () => {
          const parsed = parseResponse(Buffer.concat(data));
          if (parsed?.complete) {
            clearTimeout(timer);
            resolve({ status: parsed.status, outcome: `admitted, then /healthz ${parsed.status}` });
          }
        };
        socket.on('data', check);
        socket.on('close', () => {
          clearTimeout(timer);
          resolve({ outcome: 'admitted, closed before /healthz answered' });
        });
        socket.write('GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
      });
      socket.destroy();
      tally.status(kind, answer.status, undefined);
      tally.add(kind, answer.outcome);
    }),
  );
  for (const { socket } of all) {
    socket.destroy();
    openSockets.delete(socket);
  }
}

function floodAttackers(ctx: AttackContext): Promise<void>[] {
  const { stop, soakSeconds } = ctx;
  return [
    // Past the per-address cap from one address, every 5 s.
    paced(5_000, ctx.bound(5_000), stop, () => flood(ctx, `connection flood, one address (cap ${CAP_PER_ADDRESS})`, [FLOOD_ADDRESS], CAP_PER_ADDRESS + 16, 1_500, true)),
    // Past the server-wide cap from 24 addresses, first at a fifth of the soak, then every 45 s.
    (async () => {
      await wait(Math.min(soakSeconds * 200, 30_000), stop);
      await paced(45_000, ctx.bound(45_000), stop, () =>
        flood(ctx, `connection flood, 24 addresses (cap ${CAP_TOTAL})`, GLOBAL_FLOOD_ADDRESSES, 50, 1_500, false),
      );
    })(),
  ];
}

// MQTT -------------------------------------------------------------------------------------------

const mqttOptions = (target: SoakTarget, device: string, extra: IClientOptions = {}): IClientOptions => ({
  username: device,
  password: target.secrets[device]!,
  clientId: `${device}/soak-${randomBytes(3).toString('hex')}`,
  protocolVersion: 4,
  reconnectPeriod: 0,
  connectTimeout: 10_000,
  ...extra,
});

/**
 * A device client subscribed to its own errors topic: `publish` answers with the PUBACK and the
 * refusal code the broker published there for it (one message at a time per client).
 */
async function refusingClient(target: SoakTarget, device: string) {
  const client = await connectAsync(target.mqttUrl, mqttOptions(target, device));
  const refusals: string[] = [];
  let waiter: (() => void) | undefined;
  client.on('message', (_topic, payload) => {
    try {
      const body = JSON.parse(payload.toString()) as { refused?: { code?: string }[] };
      refusals.push(body.refused?.map((r) => r.code).join(',') ?? 'no code');
    } catch {
      refusals.push('unparsable errors message');
    }
    waiter?.();
  });
  client.on('error', () => {});
  await client.subscribeAsync(deviceErrorsTopic(device), { qos: 0 });
  return {
    client,
    async publish(payload: string | Buffer, retain = false): Promise<string> {
      if (!client.connected) return 'client disconnected';
      refusals.length = 0;
      const acked = await Promise.race([
        client.publishAsync(deviceReadingsTopic(device), payload, { qos: 1, retain }).then(
          () => 'PUBACK',
          (err: Error) => `publish failed: ${err.message}`,
        ),
        new Promise<string>((r) => setTimeout(() => r('no PUBACK within 15 s'), 15_000)),
      ]);
      if (acked !== 'PUBACK') return acked;
      if (refusals.length === 0) await Promise.race([new Promise<void>((r) => (waiter = r)), new Promise((r) => setTimeout(r, 5_000))]);
      waiter = undefined;
      return `PUBACK, ${refusals.length > 0 ? `refused ${refusals.join(' ')}` : 'no refusal'}`;
    },
  };
}

function mqttAttackers(ctx: AttackContext, p: ReturnType<typeof payloads>): Promise<void>[] {
  const { target, tally, stop, bound } = ctx;
  const attackers: Promise<void>[] = [];
  const publisher = (kind: string, device: string, everyMs: number, payload: (i: number) => string | Buffer, retain = (_i: number) => false) =>
    attackers.push(
      (async () => {
        const c = await refusingClient(target, device);
        try {
          await paced(everyMs, bound(everyMs), stop, async (i) => tally.add(kind, await c.publish(payload(i), retain(i))));
        } finally {
          await c.client.endAsync(true).catch(() => {});
        }
      })().catch((err: Error) => tally.add(kind, `attacker failed: ${err.message}`)),
    );

  publisher('MQTT oversized publish (3 MB)', HOSTILE.mqttBig, 2_000, () => p.mqttOversized, (i) => i % 2 === 1);
  publisher('MQTT over-count batch (5,001 readings)', HOSTILE.mqttCount, 1_000, () => p.batch);
  const malformed = [
    'not json',
    '{"ts":',
    '',
    p.deepArrays,
    p.deepValues,
    JSON.stringify({ ts: '2023-02-30T00:00:00Z', values: VALUES }),
    JSON.stringify({ ts: 1e20, values: VALUES }),
    '{"ts":1700000000000,"values":{"__proto__":{"soil_moisture":0.1}}}',
    '{"device":"good-mqtt","ts":1700000000000,"values":{"soil_moisture":0.1}}',
    randomBytes(1_024),
  ];
  publisher('MQTT malformed payload', HOSTILE.mqttBad, 250, (i) => malformed[i % malformed.length]!);

  // Reserved and foreign client ids, internal usernames: each refused at CONNECT.
  attackers.push(
    paced(500, bound(500), stop, async (i) => {
      const variants: IClientOptions[] = [
        mqttOptions(target, HOSTILE.mqttIds, { clientId: 'fieldhook-predict' }),
        mqttOptions(target, HOSTILE.mqttIds, { clientId: 'fieldhook-internal-bus' }),
        mqttOptions(target, HOSTILE.mqttIds, { clientId: GOOD.mqtt }),
        mqttOptions(target, HOSTILE.mqttIds, { clientId: HOSTILE.mqttTopic }),
        { ...mqttOptions(target, HOSTILE.mqttIds), username: 'fieldhook-internal-predictor', password: 'guess', clientId: 'fieldhook-predict' },
        { ...mqttOptions(target, HOSTILE.mqttIds), username: GOOD.mqtt, password: 'whsec_wrong', clientId: GOOD.mqtt },
      ];
      const options = variants[i % variants.length]!;
      try {
        const client = await connectAsync(target.mqttUrl, options);
        tally.add('MQTT reserved or foreign client id / login', `connected as ${options.clientId ?? '?'} (!)`);
        await client.endAsync(true);
      } catch (err) {
        const code = (err as { code?: number }).code;
        tally.add('MQTT reserved or foreign client id / login', code !== undefined ? `CONNACK refused, return code ${code}` : `refused: ${(err as Error).message}`);
      }
    }),
  );

  // Other devices' and the process's own topics.
  attackers.push(
    paced(500, bound(500), stop, async (i) => {
      const topics = [deviceReadingsTopic(GOOD.mqtt), fieldReadingsTopic(FARM, 'f-good'), EVENTS_TOPIC, deviceErrorsTopic(GOOD.mqtt), '$SYS/soak', `${deviceReadingsTopic('h-mq-topic')}/extra`];
      const topic = topics[i % topics.length]!;
      const kind = 'MQTT wrong topic';
      let client: MqttClient;
      try {
        client = await connectAsync(target.mqttUrl, mqttOptions(target, HOSTILE.mqttTopic));
      } catch (err) {
        tally.add(kind, `connect failed: ${(err as Error).message}`);
        return;
      }
      client.on('error', () => {});
      try {
        if (i % 7 === 6) {
          const granted = await client.subscribeAsync('#', { qos: 1 }).catch((err: Error) => err.message);
          tally.add(kind, `SUBSCRIBE #: ${typeof granted === 'string' ? granted : `granted qos ${granted.map((g) => g.qos).join(',')}`}`);
          return;
        }
        // The broker acknowledges such a message, drops it and says why on the device's errors topic
        // (nothing of it may reach InfluxDB or a subscriber: the stored counts check that).
        await client.subscribeAsync(deviceErrorsTopic(HOSTILE.mqttTopic), { qos: 1 });
        const refusal = new Promise<string>((r) =>
          client.once('message', (_t, payload) => r(`acknowledged, refused on its errors topic: ${(JSON.parse(payload.toString()) as { refused: { code: string }[] }).refused[0]?.code}`)),
        );
        const outcome = await Promise.race([
          client.publishAsync(topic, JSON.stringify({ device: GOOD.mqtt, ts: Date.now(), values: VALUES }), { qos: 1 }).then(
            () => Promise.race([refusal, new Promise<string>((r) => setTimeout(() => r('PUBACK without a refusal (!)'), 5_000))]),
            (err: Error) => `publish failed: ${err.message}`,
          ),
          new Promise<string>((r) => client.once('close', () => r('disconnected by the broker'))),
          new Promise<string>((r) => setTimeout(() => r('no answer within 5 s'), 5_000)),
        ]);
        tally.add(kind, outcome);
      } finally {
        await client.endAsync(true).catch(() => {});
      }
    }),
  );

  // Bytes that are not MQTT, or announce a packet larger than any allowed.
  attackers.push(
    paced(500, bound(500), stop, async (i) => {
      const variants = [
        Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x7f]), // a remaining length of five bytes: malformed
        Buffer.concat([Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]), randomBytes(4_096)]), // a CONNECT of 256 MB
        randomBytes(2_048),
        Buffer.from([0x30, 0x05, 0x00, 0x01, 0x61, 0x62, 0x63]), // PUBLISH before CONNECT
        Buffer.from('GET / HTTP/1.1\r\nhost: x\r\n\r\n'),
      ];
      const outcome = await new Promise<string>((resolve) => {
        const socket = connect({ host: '127.0.0.1', port: target.mqttPort });
        openSockets.add(socket);
        const done = (what: string) => {
          clearTimeout(timer);
          openSockets.delete(socket);
          socket.destroy();
          resolve(what);
        };
        // The broker closes a connection that never sends a CONNECT after its own timeout.
        const timer = setTimeout(() => done('still open after 5 s, closed by the client'), 5_000);
        socket.on('error', () => {});
        socket.on('close', () => done('closed by the broker'));
        socket.on('connect', () => socket.write(variants[i % variants.length]!));
      });
      tally.add('MQTT raw garbage', outcome);
    }),
  );
  return attackers;
}

// ---------------------------------------------------------------------------------------------
// The well-behaved client
// ---------------------------------------------------------------------------------------------

function summary(latencies: number[]): LatencySummary {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { n: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? 0 };
}

interface WellBehaved {
  /** Send readings at `rate` per second for `seconds`, open loop; resolves once each is settled. */
  phase(seconds: number): Promise<ClientPhase>;
  close(): Promise<void>;
  acked(): number;
  disconnects(): number;
}

/** One valid reading per request, Bearer, over keep-alive connections; retried when a cap refuses it. */
function httpClient(target: SoakTarget, rate: number, tally: Tally, baseTs: number): WellBehaved {
  const pool = new Pool(target.url, { connections: 4, keepAliveTimeout: 30_000 });
  const headers = { authorization: `Bearer ${target.secrets[GOOD.http]}`, 'content-type': 'application/json' };
  let k = 0;
  let acked = 0;
  return {
    phase: (seconds) =>
      openLoop(rate, seconds, async (result) => {
        const i = k++;
        const body = JSON.stringify({ device: GOOD.http, id: `h-${i}`, ts: baseTs + i, values: VALUES });
        for (let attempt = 0; attempt < 50; attempt++) {
          let status: number;
          let answer: { accepted?: number; duplicates?: number; code?: string } = {};
          try {
            const res = await pool.request({ path: '/v1/readings', method: 'POST', headers, body, headersTimeout: 60_000, bodyTimeout: 60_000 });
            status = res.statusCode;
            answer = (await res.body.json().catch(() => ({}))) as typeof answer;
          } catch {
            // A keep-alive connection the server closed as the request left: the same reading again (de-duplicated).
            result.retry();
            await new Promise((r) => setTimeout(r, 20));
            continue;
          }
          tally.status('well-behaved HTTP', status, answer.code);
          if (status === 202 && (answer.accepted ?? 0) + (answer.duplicates ?? 0) === 1) {
            acked++;
            return true;
          }
          if (status === 429 || (status === 503 && answer.code === 'FH_ERR_HTTP_TOO_MANY_CONNECTIONS')) {
            result.retry();
            await new Promise((r) => setTimeout(r, 50));
            continue;
          }
          result.fail(`${status} ${answer.code ?? ''}`.trim());
          return false;
        }
        result.fail('gave up after 50 attempts');
        return false;
      }),
    close: () => pool.close(),
    acked: () => acked,
    disconnects: () => 0,
  };
}

/** One valid reading per publish, QoS 1, on one persistent connection; acknowledged = PUBACK and no refusal. */
async function mqttClient(target: SoakTarget, rate: number, baseTs: number): Promise<WellBehaved> {
  const client = await connectAsync(target.mqttUrl, {
    username: GOOD.mqtt,
    password: target.secrets[GOOD.mqtt]!,
    clientId: GOOD.mqtt,
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 1_000,
  });
  let disconnects = 0;
  let refusals = 0;
  client.on('close', () => disconnects++);
  client.on('error', () => {});
  client.on('message', () => refusals++);
  await client.subscribeAsync(deviceErrorsTopic(GOOD.mqtt), { qos: 1 });
  let k = 0;
  let acked = 0;
  return {
    phase: async (seconds) => {
      const before = refusals;
      const result = await openLoop(rate, seconds, async (r) => {
        const i = k++;
        const payload = JSON.stringify({ id: `m-${i}`, ts: baseTs + i, values: VALUES });
        try {
          await Promise.race([
            client.publishAsync(deviceReadingsTopic(GOOD.mqtt), payload, { qos: 1 }),
            new Promise((_, reject) => setTimeout(() => reject(new Error('no PUBACK within 60 s')), 60_000)),
          ]);
        } catch (err) {
          r.fail((err as Error).message);
          return false;
        }
        acked++;
        return true;
      });
      // A refusal on the errors topic would mean a PUBACKed reading that is not stored.
      if (refusals > before) result.failed['refused on the errors topic'] = refusals - before;
      return result;
    },
    close: () => client.endAsync(),
    acked: () => acked,
    disconnects: () => disconnects,
  };
}

interface Attempt {
  /** One attempt was refused by a cap (or its connection closed) and is tried again. */
  retry(): void;
  /** The reading is not acknowledged, because of `why`. */
  fail(why: string): void;
}

/** Open loop: reading k leaves at start + k/rate whatever the others did; latency to its settlement. */
async function openLoop(rate: number, seconds: number, send: (attempt: Attempt) => Promise<boolean>): Promise<ClientPhase> {
  const total = Math.round(rate * seconds);
  const latencies: number[] = [];
  const failed: Record<string, number> = {};
  let retried = 0;
  const started = performance.now();
  const sends: Promise<void>[] = [];
  for (let n = 0; n < total; n++) {
    const wait = started + (n * 1000) / rate - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const t0 = performance.now();
    const attempt: Attempt = {
      retry: () => void retried++,
      fail: (why) => void (failed[why] = (failed[why] ?? 0) + 1),
    };
    sends.push(
      send(attempt).then(
        (ok) => void (ok && latencies.push(performance.now() - t0)),
        (err: Error) => void (failed[err.message] = (failed[err.message] ?? 0) + 1),
      ),
    );
  }
  await Promise.all(sends);
  return { sent: total, acked: latencies.length, latency: summary(latencies), retried, failed };
}

// ---------------------------------------------------------------------------------------------
// The soak
// ---------------------------------------------------------------------------------------------

/**
 * Quiet phase (the well-behaved client alone), then the soak (the same client next to every
 * attacker). Resolves when every attacker has stopped and every well-behaved reading is settled;
 * the caller then compares `acked` with `target.stored()` and reads the RSS samples.
 */
export async function runSoak(target: SoakTarget, options: SoakOptions): Promise<SoakResult> {
  const log = options.log ?? (() => {});
  const tally = new Tally();
  const baseTs = Date.now() - 3_600_000;
  const http = httpClient(target, options.rate, tally, baseTs);
  const mqtt = await mqttClient(target, options.rate, baseTs);
  const delay = monitorEventLoopDelay({ resolution: 10 });
  try {
    log(`quiet: the well-behaved client alone, ${options.rate}/s over HTTP and over MQTT, ${options.quietSeconds} s…`);
    delay.enable();
    const [quietHttp, quietMqtt] = await Promise.all([http.phase(options.quietSeconds), mqtt.phase(options.quietSeconds)]);
    delay.disable();
    const quietDelay = delay.percentile(99) / 1e6;
    delay.reset();

    log(`soak: the same client next to every attacker, ${options.soakSeconds} s…`);
    const p = payloads();
    const stop = new AbortController();
    // Every attacker socket listens to it.
    setMaxListeners(0, stop.signal);
    const ctx: AttackContext = {
      target,
      tally,
      stop: stop.signal,
      soakSeconds: options.soakSeconds,
      heavyBodies: options.heavyBodies ?? true,
      bound: (everyMs) => Math.ceil((options.soakSeconds * 1000) / everyMs) + 2,
    };
    const soakStartMs = performance.now();
    delay.enable();
    const attackers = [...httpAttackers(ctx, p), ...slowAttackers(ctx), ...floodAttackers(ctx), ...mqttAttackers(ctx, p)];
    const progress = setInterval(() => log(`  ${Math.round((performance.now() - soakStartMs) / 1000)} s, ${openSockets.size} attacker sockets open, RSS ${target.rss.at(-1)?.mb.toFixed(0) ?? '?'} MB`), 30_000);
    const [soakHttp, soakMqtt] = await Promise.all([http.phase(options.soakSeconds), mqtt.phase(options.soakSeconds)]);
    stop.abort();
    await Promise.all(attackers);
    clearInterval(progress);
    for (const socket of openSockets) socket.destroy();
    openSockets.clear();
    delay.disable();
    const soakEndMs = performance.now();

    const hostile: Record<string, Record<string, number>> = {};
    for (const [kind, outcomes] of tally.hostile) hostile[kind] = Object.fromEntries(outcomes);
    return {
      quiet: { http: quietHttp, mqtt: quietMqtt },
      soak: { http: soakHttp, mqtt: soakMqtt },
      acked: { http: http.acked(), mqtt: mqtt.acked() },
      hostile,
      fiveXX: tally.fiveXX,
      mqttDisconnects: mqtt.disconnects(),
      soakStartMs,
      soakEndMs,
      loadGeneratorDelayP99Ms: { quiet: quietDelay, soak: delay.percentile(99) / 1e6 },
    };
  } finally {
    await Promise.allSettled([http.close(), mqtt.close()]);
  }
}

/** RSS at the start of the soak, its peak during it, and the last sample (after the drain, when the caller waited). */
export function rssOverSoak(target: SoakTarget, result: SoakResult): { atStart: number; soakStart: number; max: number; end: number } {
  const samples = target.rss;
  const during = samples.filter((s) => s.atMs >= result.soakStartMs);
  const soakStart = during[0]?.mb ?? samples.at(-1)?.mb ?? 0;
  return {
    atStart: samples[0]?.mb ?? 0,
    soakStart,
    max: Math.max(soakStart, ...during.map((s) => s.mb)),
    end: samples.at(-1)?.mb ?? 0,
  };
}

/** The hostile requests' outcomes as Markdown rows: kind | count | outcomes. */
export function hostileRows(result: SoakResult): string[] {
  return Object.entries(result.hostile).map(([kind, outcomes]) => {
    const count = Object.values(outcomes).reduce((a, b) => a + b, 0);
    const list = Object.entries(outcomes)
      .sort((a, b) => b[1] - a[1])
      .map(([what, n]) => `${what} ×${n}`)
      .join('; ');
    return `| ${kind} | ${count} | ${list} |`;
  });
}
