import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ensurePrivateDir } from '../shared/data-dir.js';
import type { Logger } from '../shared/logger.js';
import { freePort, processExists, startProcess, tcpOpen, waitUntil, type ManagedProcess } from '../shared/child-process.js';

/**
 * The InfluxDB `fieldhook start` runs when no INFLUX_URL is configured: OSS 1.8.10, pure Go, built
 * once per machine with `go install`. The test harness starts the same one.
 */
export const INFLUXDB_VERSION = 'v1.8.10';
export const INFLUXDB_MODULE = 'github.com/influxdata/influxdb/cmd/influxd';

/** Where the built binary is cached: outside the repository, once per machine. */
export function influxdBinaryPath(): string {
  if (process.env.FIELDHOOK_INFLUXD_BIN) return process.env.FIELDHOOK_INFLUXD_BIN;
  const cache = process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  return join(cache, 'fieldhook', `influxdb-${INFLUXDB_VERSION}`, 'bin', 'influxd');
}

/**
 * Build influxd with `go install` unless it is cached. Takes a minute or two the first time; the
 * progress message says so, since a silent pause that long looks like a hang.
 */
export function ensureInfluxd(log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): string {
  const binary = influxdBinaryPath();
  if (existsSync(binary)) return binary;
  const gobin = join(binary, '..');
  mkdirSync(gobin, { recursive: true });
  log(`Building InfluxDB ${INFLUXDB_VERSION} with go install into ${gobin} (once per machine, a few minutes)…`);
  const started = Date.now();
  const ticker = setInterval(() => log(`  …still building InfluxDB (${Math.round((Date.now() - started) / 1000)} s)`), 15_000);
  const result = spawnSync('go', ['install', `${INFLUXDB_MODULE}@${INFLUXDB_VERSION}`], {
    env: { ...process.env, CGO_ENABLED: '0', GOBIN: gobin, GOFLAGS: '-buildvcs=false' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  clearInterval(ticker);
  if (result.status !== 0 || !existsSync(binary)) {
    throw new Error(`go install ${INFLUXDB_MODULE}@${INFLUXDB_VERSION} failed (exit ${result.status}); is Go installed?`);
  }
  log(`InfluxDB ${INFLUXDB_VERSION} built in ${Math.round((Date.now() - started) / 1000)} s`);
  return binary;
}

/**
 * At install time (`npm ci` runs it): build the local InfluxDB now if Go is there, so that the
 * first `fieldhook start` or `fieldhook demo` starts in seconds. Never fails the install: without
 * Go, or when the build fails, it says so and the first start builds (or explains) instead.
 */
export function prebuildInfluxd(log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): void {
  if (existsSync(influxdBinaryPath())) return;
  if (spawnSync('go', ['version'], { stdio: 'ignore' }).status !== 0) {
    log(`fieldhook: Go is not installed, so the local InfluxDB ${INFLUXDB_VERSION} is not built yet; install Go, or set FIELDHOOK_INFLUX_URL to an InfluxDB of yours`);
    return;
  }
  try {
    ensureInfluxd(log);
  } catch (err) {
    log(`fieldhook: ${(err as Error).message}; fieldhook start will try again`);
  }
}

export interface RunningInfluxDB {
  url: string;
  port: number;
  dataDir: string;
  process: ManagedProcess;
  /** Run an InfluxQL statement (1.x `/query`). */
  query(q: string, db?: string): Promise<unknown>;
  createDatabase(name: string): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface StartInfluxOptions {
  dataDir: string;
  /** Fixed port (to restart on the same address); a free one by default. */
  port?: number;
}

/** The local InfluxDB's folder inside fieldhook's data folder. */
export const localInfluxDir = (dataDir: string) => join(dataDir, 'influxdb');

/** Where the pid of the influxd running on a data folder is kept while it runs. */
const pidFile = (dataDir: string) => join(dataDir, 'influxd.pid');

/**
 * Stop an influxd that a previous fieldhook left running on `dataDir`. A fieldhook killed at once
 * (SIGKILL, the kernel's OOM killer) cannot stop its InfluxDB, which then lives on, still holding
 * the folder's WAL and shards. Two servers on one storage folder overwrite each other's files, so
 * the one left behind is stopped (SIGTERM, which lets it flush) before anything starts there. Only
 * a process that is influxd on this very folder is touched (its environment says so, on Linux); the
 * data folder's lock is held, so no fieldhook runs it. Resolves with the pid stopped, if any.
 */
export async function stopOrphanInfluxd(dataDir: string, logger?: Logger): Promise<number | undefined> {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile(dataDir), 'utf8').trim());
  } catch {
    return undefined;
  }
  const alive = () => processExists(pid);
  let environ: string;
  try {
    environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
  } catch {
    // Gone, or no /proc to tell whose it is (then it is left alone, and a port of its own keeps them apart).
    if (alive()) logger?.warn({ pid, dataDir }, 'a process named in influxd.pid is still alive, but whether it is the local InfluxDB cannot be told here; it is left alone');
    rmSync(pidFile(dataDir), { force: true });
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !environ.split('\0').includes(`INFLUXDB_DATA_DIR=${join(dataDir, 'data')}`)) {
    rmSync(pidFile(dataDir), { force: true });
    return undefined;
  }
  logger?.warn({ pid, dataDir }, 'the local InfluxDB of a fieldhook that did not stop is still running on this data folder: stopping it first');
  process.kill(pid, 'SIGTERM');
  try {
    await waitUntil(async () => !alive(), 15_000, 'the previous local InfluxDB to stop');
  } catch {
    process.kill(pid, 'SIGKILL');
    await waitUntil(async () => !alive(), 5_000, 'the previous local InfluxDB to be killed');
  }
  rmSync(pidFile(dataDir), { force: true });
  return pid;
}

/** Start influxd on loopback with its data under `dataDir`, and wait for `/ping`. */
export async function startInfluxDB(options: StartInfluxOptions): Promise<RunningInfluxDB> {
  const binary = ensureInfluxd();
  // Under DATA_DIR, next to the secrets: only fieldhook's user may enter (influxd creates what is inside).
  ensurePrivateDir(options.dataDir);
  await stopOrphanInfluxd(options.dataDir);
  const port = options.port ?? (await freePort());
  // Whatever answers /ping on a port that is already taken is not ours: never write into it.
  const inTheWay = await whatListensOn(port);
  if (inTheWay) throw new Error(`Cannot start the local InfluxDB on 127.0.0.1:${port}: ${inTheWay} already listens there`);
  const spawnedAt = Date.now();
  const url = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    INFLUXDB_HTTP_BIND_ADDRESS: `127.0.0.1:${port}`,
    INFLUXDB_BIND_ADDRESS: `127.0.0.1:${await freePort()}`,
    INFLUXDB_HTTP_FLUX_ENABLED: 'true',
    INFLUXDB_HTTP_LOG_ENABLED: 'false',
    INFLUXDB_REPORTING_DISABLED: 'true',
    INFLUXDB_META_DIR: join(options.dataDir, 'meta'),
    INFLUXDB_DATA_DIR: join(options.dataDir, 'data'),
    INFLUXDB_DATA_WAL_DIR: join(options.dataDir, 'wal'),
    INFLUXDB_DATA_QUERY_LOG_ENABLED: 'false',
    INFLUXDB_LOGGING_LEVEL: 'warn',
  };
  const proc = startProcess(binary, ['run', '-config', '/dev/null'], env);
  // Kept while it runs, so that a start after this process was killed finds and stops it.
  if (proc.child.pid !== undefined) writeFileSync(pidFile(options.dataDir), `${proc.child.pid}\n`, { mode: 0o600 });
  proc.child.once('exit', () => rmSync(pidFile(options.dataDir), { force: true }));
  try {
    await waitUntil(async () => (await fetch(`${url}/ping`)).status === 204, 30_000, 'InfluxDB');
    // A server that grabbed the port between the check and the spawn would answer too; ours is alive and started just now.
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) throw new Error(`influxd exited (${proc.child.exitCode ?? proc.child.signalCode})`);
    const started = await startedAt(url);
    if (started !== undefined && started < spawnedAt - 5_000) throw new Error(`another InfluxDB (up since ${new Date(started).toISOString()}) answers on port ${port}`);
  } catch (err) {
    await proc.stop('SIGKILL');
    throw new Error(`${(err as Error).message}\n${proc.output()}`);
  }
  const query = async (q: string, db?: string) => {
    const params = new URLSearchParams({ q, epoch: 'ms', ...(db ? { db } : {}) });
    const res = await fetch(`${url}/query`, { method: 'POST', body: params });
    const body = (await res.json()) as { error?: string; results?: { error?: string }[] };
    const error = body.error ?? body.results?.find((r) => r.error)?.error;
    if (!res.ok || error) throw new Error(`InfluxQL ${q} failed: ${error ?? res.status}`);
    return body;
  };
  return {
    url,
    port,
    dataDir: options.dataDir,
    process: proc,
    query,
    createDatabase: async (name) => void (await query(`CREATE DATABASE "${name}"`)),
    stop: (signal) => proc.stop(signal),
  };
}

/** Port of the local InfluxDB `fieldhook start` runs when none is configured (InfluxDB's usual one). */
export const LOCAL_INFLUX_PORT = 8086;

/** When the InfluxDB at `url` started (1.x `/debug/vars`), if it says. */
async function startedAt(url: string): Promise<number | undefined> {
  try {
    const res = await fetch(`${url}/debug/vars`, { signal: AbortSignal.timeout(2_000) });
    const vars = (await res.json()) as { system?: { started?: string } };
    const t = Date.parse(vars.system?.started ?? '');
    return Number.isNaN(t) ? undefined : t;
  } catch {
    return undefined;
  }
}

/**
 * What listens on a loopback port, in words (`an InfluxDB 1.8.10`, `an HTTP server`, `a program
 * that does not speak HTTP`), or undefined when the port is free.
 */
export async function whatListensOn(port: number): Promise<string | undefined> {
  if (!(await tcpOpen(port))) return undefined;
  try {
    const res = await fetch(`http://127.0.0.1:${port}/ping`, { signal: AbortSignal.timeout(2_000) });
    await res.body?.cancel();
    const version = res.headers.get('x-influxdb-version');
    if (version !== null) return `an InfluxDB ${version === 'unknown' ? '' : `${version} `}(${res.headers.get('x-influxdb-build') ?? 'OSS'})`.replace('  ', ' ');
    return `an HTTP server (answered ${res.status} to /ping)`;
  } catch {
    return 'a program that does not answer HTTP';
  }
}

/**
 * The port the local InfluxDB takes: {@link LOCAL_INFLUX_PORT} when it is free, otherwise a free
 * one, saying what is in the way. A farm server often runs its own InfluxDB on 8086: fieldhook
 * never writes into it by accident.
 */
export async function chooseLocalInfluxPort(logger: Logger, preferred: number = LOCAL_INFLUX_PORT): Promise<number> {
  const inTheWay = await whatListensOn(preferred);
  if (!inTheWay) return preferred;
  const port = await freePort();
  logger.warn(
    { port, taken: preferred, inTheWay },
    `port ${preferred} is taken by ${inTheWay}, which fieldhook leaves alone: the local InfluxDB listens on ${port} instead (to write into that InfluxDB, set FIELDHOOK_INFLUX_URL)`,
  );
  return port;
}

/** What `CREATE DATABASE` came to: created (or already there), refused (with InfluxDB's reason), or no answer. */
export type CreateDatabaseOutcome = { created: true } | { created: false; reason: string };

/**
 * `CREATE DATABASE` on 1.x, where it is idempotent. A refusal comes two ways: an error status
 * (1.x without admin rights: 403), or 200 with the error inside the result, which is how 2.x
 * answers it (`{"results":[{"error":"…"}]}`): both are "not created", with InfluxDB's reason, and
 * the set-up check that follows names the setting. Never throws.
 */
export async function ensureInfluxDatabase(url: string, token: string, database: string, logger: Logger): Promise<CreateDatabaseOutcome> {
  try {
    const res = await fetch(new URL('/query', url), {
      method: 'POST',
      headers: token ? { authorization: `Token ${token}` } : {},
      body: new URLSearchParams({ q: `CREATE DATABASE "${database}"` }),
    });
    const text = await res.text();
    const reason = refusalOf(res.status, text);
    if (reason === undefined) return { created: true };
    logger.info({ status: res.status, reason }, `InfluxDB did not take CREATE DATABASE "${database}"`);
    return { created: false, reason };
  } catch (err) {
    logger.warn({ err: (err as Error).message }, 'InfluxDB unreachable at start: the spool holds readings until it is back');
    return { created: false, reason: (err as Error).message };
  }
}

/** The error of a `/query` answer: its status, or the `error` of the body or of a result; undefined when it succeeded. */
function refusalOf(status: number, text: string): string | undefined {
  let body: { error?: unknown; message?: unknown; results?: { error?: unknown }[] } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // Not JSON: only the status tells.
  }
  const error = body.error ?? body.message ?? body.results?.find((r) => r.error !== undefined)?.error;
  if (error !== undefined) return String(error);
  return status >= 200 && status < 300 ? undefined : `${status} ${text.slice(0, 200)}`;
}
