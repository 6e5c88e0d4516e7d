import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { freePort, startProcess, waitUntil, type ManagedProcess } from './process.js';

/**
 * InfluxDB OSS 2.7, the second InfluxDB the integration tests run against (the first is 1.8,
 * infra/harness/influxdb.ts). Built once per machine from its Go module and cached outside the
 * repository; about five minutes on two cores, most of it Flux's Rust library.
 *
 * Why the build takes several steps instead of one `go install`:
 * - `go install github.com/influxdata/influxdb/v2/cmd/influxd@v2.7.12` is refused: the module has
 *   `replace` directives. So the module is downloaded (`go mod download`), copied out of the
 *   read-only module cache into a writable folder and built there with `go build`.
 * - Flux, which 2.x links, is Go with a Rust core (libflux). InfluxData's own `pkg-config`
 *   (github.com/influxdata/pkg-config) builds that library with cargo when cgo asks for `flux`;
 *   `PKG_CONFIG` points cgo at it. Needs Rust (cargo) and a C compiler (cgo, SQLite).
 * - flux-core says `#![deny(warnings)]`, and newer compilers warn about more: every rustc call
 *   gets `--cap-lints=warn` through a `RUSTC_WRAPPER` script (`RUSTFLAGS` does not reach build
 *   dependencies when cargo is given `--target`). Flux pins an old toolchain in its
 *   rust-toolchain file; `RUSTUP_TOOLCHAIN=stable` makes rustup use the installed one instead.
 * - Without the `assets` tag the UI is not built (no Node/yarn step, no download): the API is all
 *   the tests need.
 */
export const INFLUXDB2_VERSION = 'v2.7.12';
export const INFLUXDB2_MODULE = 'github.com/influxdata/influxdb/v2';
/** The pkg-config that builds libflux with cargo. */
const PKG_CONFIG_MODULE = 'github.com/influxdata/pkg-config@v0.2.7';

function cacheDir(): string {
  const cache = process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  return join(cache, 'fieldhook', `influxdb-${INFLUXDB2_VERSION}`);
}

/** Where the built binary is cached; `FIELDHOOK_INFLUXD2_BIN` points at another one. */
export function influxd2BinaryPath(): string {
  return process.env.FIELDHOOK_INFLUXD2_BIN ?? join(cacheDir(), 'bin', 'influxd');
}

/** Run a build step; throws with the command line when it fails. */
function run(command: string, args: string[], options: SpawnSyncOptions): string {
  const result = spawnSync(command, args, { stdio: ['ignore', 'pipe', 'inherit'], ...options, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`building InfluxDB ${INFLUXDB2_VERSION}: ${command} ${args.join(' ')} failed (exit ${result.status ?? result.signal}${result.error ? `, ${result.error.message}` : ''})`);
  return String(result.stdout ?? '');
}

/**
 * Build influxd 2.7 unless it is cached. The binary is written under a temporary name and moved
 * into place last, so a build that was interrupted is started again, never half used.
 */
export function ensureInfluxd2(log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): string {
  const binary = influxd2BinaryPath();
  if (existsSync(binary)) return binary;
  // Say what is missing before minutes of building fail on it.
  for (const [tool, install] of [['go', 'Go'], ['cargo', 'Rust (rustup, or Debian: apt-get install cargo)'], ['gcc', 'a C compiler (Debian: apt-get install gcc)']] as const) {
    if (spawnSync(tool, ['--version'], { stdio: 'ignore' }).status !== 0 && spawnSync(tool, ['version'], { stdio: 'ignore' }).status !== 0) {
      throw new Error(`building InfluxDB ${INFLUXDB2_VERSION} needs ${install}: \`${tool}\` was not found`);
    }
  }
  const root = cacheDir();
  const work = join(root, 'build');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(join(root, 'bin'), { recursive: true });
  mkdirSync(work, { recursive: true });
  // The steps run synchronously, so no progress ticks while they do: the line says how long to expect.
  log(`Building InfluxDB ${INFLUXDB2_VERSION} (Go, and Flux's Rust library with cargo) into ${root}: once per machine, about 5 minutes on 2 idle cores, longer on a busy machine…`);
  const started = Date.now();
  const env = { ...process.env, GOFLAGS: '-mod=mod -buildvcs=false' };
  // 1. The module's source, out of the read-only module cache into a folder the build may write.
  const download = JSON.parse(run('go', ['mod', 'download', '-json', `${INFLUXDB2_MODULE}@${INFLUXDB2_VERSION}`], { env, cwd: work })) as { Dir?: string; Error?: string };
  if (!download.Dir) throw new Error(`go mod download ${INFLUXDB2_MODULE}@${INFLUXDB2_VERSION}: ${download.Error ?? 'no folder'}`);
  const src = join(work, 'src');
  run('cp', ['-r', download.Dir, src], {});
  run('chmod', ['-R', 'u+w', src], {});
  // 2. The pkg-config that builds libflux, and the wrapper that keeps rustc's new lints warnings.
  const tools = join(work, 'tools');
  run('go', ['install', PKG_CONFIG_MODULE], { env: { ...env, GOBIN: tools }, cwd: work });
  const wrapper = join(tools, 'rustc-cap-lints');
  writeFileSync(wrapper, '#!/bin/sh\n# Called as `wrapper rustc ARGS…`: lints warn instead of failing the build.\nexec "$@" --cap-lints=warn\n', { mode: 0o755 });
  // 3. influxd itself, with the SQLite tags of the upstream build, without the UI (`assets`). The
  //    version is stamped as a release stamps it: a plain source build reports `dev` on /ping.
  const partial = `${binary}.partial`;
  const ldflags = `-X main.version=${INFLUXDB2_VERSION} -X main.commit=go-module`;
  run('go', ['build', '-tags', 'sqlite_foreign_keys,sqlite_json', '-ldflags', ldflags, '-o', partial, './cmd/influxd'], {
    cwd: src,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: {
      ...env,
      PKG_CONFIG: join(tools, 'pkg-config'),
      CGO_ENABLED: '1',
      RUSTUP_TOOLCHAIN: process.env.RUSTUP_TOOLCHAIN ?? 'stable',
      RUSTC_WRAPPER: wrapper,
    },
  });
  renameSync(partial, binary);
  // Only the binary is kept. (pkg-config builds libflux in Go's build cache, where a rebuild finds it.)
  rmSync(work, { recursive: true, force: true });
  log(`InfluxDB ${INFLUXDB2_VERSION} built in ${Math.round((Date.now() - started) / 1000)} s`);
  return binary;
}

/** How to reach a 2.x server as its operator (the all-access token `setup` created). */
export interface Influx2Admin {
  url: string;
  /** All-access token. */
  token: string;
  orgId: string;
}

async function api<T>(admin: Pick<Influx2Admin, 'url' | 'token'>, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(new URL(path, admin.url), {
    method,
    headers: { ...(admin.token ? { authorization: `Token ${admin.token}` } : {}), 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`InfluxDB 2 ${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** A bucket (infinite retention); its name is also its InfluxQL database through 2.x's virtual DBRP mapping. An existing one is reused. */
export async function createInflux2Bucket(admin: Influx2Admin, name: string): Promise<{ id: string }> {
  // Looking a bucket up by name answers 404 when there is none.
  const res = await fetch(new URL(`/api/v2/buckets?${new URLSearchParams({ orgID: admin.orgId, name })}`, admin.url), { headers: { authorization: `Token ${admin.token}` } });
  const found = res.ok ? ((await res.json()) as { buckets: { id: string }[] }).buckets[0] : (await res.body?.cancel(), undefined);
  if (found) return found;
  return api<{ id: string }>(admin, 'POST', '/api/v2/buckets', { orgID: admin.orgId, name, retentionRules: [] });
}

/** An API token limited to `actions` on one bucket: a write-only one, a read-write one, … */
export async function createInflux2Token(admin: Influx2Admin, bucketId: string, actions: ('read' | 'write')[], description = 'test token'): Promise<string> {
  const permissions = actions.map((action) => ({ action, resource: { type: 'buckets', id: bucketId, orgID: admin.orgId } }));
  return (await api<{ token: string }>(admin, 'POST', '/api/v2/authorizations', { orgID: admin.orgId, description, permissions })).token;
}

/** An explicit DBRP mapping (database/retention policy → bucket), as `influx v1 dbrp create` makes. */
export async function createInflux2Dbrp(admin: Influx2Admin, bucketId: string, database: string, retentionPolicy = 'autogen'): Promise<void> {
  await api(admin, 'POST', '/api/v2/dbrps', { orgID: admin.orgId, bucketID: bucketId, database, retention_policy: retentionPolicy, default: true });
}

export interface RunningInfluxDB2 extends Influx2Admin {
  port: number;
  org: string;
  /** The bucket `setup` created. */
  bucket: string;
  bucketId: string;
  dataDir: string;
  process: ManagedProcess;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface StartInflux2Options {
  /** Its data; one a stopped server left is started again as it was (set up already). */
  dataDir: string;
  /** Fixed port (to restart on the same address); a free one by default. */
  port?: number;
  org?: string;
  bucket?: string;
  /** The operator's all-access token (`setup` takes it as given). */
  token?: string;
}

/** The test server's defaults: known values, since the server is thrown away after the run. */
export const INFLUX2_DEFAULTS = { org: 'fieldhook', bucket: 'fieldhook', token: 'fieldhook-test-operator-token', username: 'admin', password: 'admin-password' } as const;

/**
 * Start influxd 2.7 on a free loopback port (or `port`) with its data under `dataDir`, and set it
 * up (org, bucket, operator token), unless that data was set up before: then the same token finds
 * the org and bucket again.
 */
export async function startInfluxDB2(options: StartInflux2Options): Promise<RunningInfluxDB2> {
  const binary = ensureInfluxd2();
  mkdirSync(options.dataDir, { recursive: true });
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const d = options.dataDir;
  const proc = startProcess(
    binary,
    [
      '--http-bind-address', `127.0.0.1:${port}`,
      '--bolt-path', join(d, 'influxd.bolt'),
      '--engine-path', join(d, 'engine'),
      '--sqlite-path', join(d, 'influxd.sqlite'),
      '--reporting-disabled',
      '--log-level', 'warn',
    ],
    // No INFLUXD_* from the caller's environment or a config file in the working folder changes it.
    { PATH: process.env.PATH, HOME: d, INFLUXD_CONFIG_PATH: d },
  );
  const org = options.org ?? INFLUX2_DEFAULTS.org;
  const bucket = options.bucket ?? INFLUX2_DEFAULTS.bucket;
  const token = options.token ?? INFLUX2_DEFAULTS.token;
  try {
    await waitUntil(async () => (await fetch(`${url}/health`)).status === 200, 60_000, `InfluxDB ${INFLUXDB2_VERSION}`);
    const { allowed } = await api<{ allowed: boolean }>({ url, token: '' }, 'GET', '/api/v2/setup');
    const ids = allowed
      ? await api<{ org: { id: string }; bucket: { id: string } }>({ url, token: '' }, 'POST', '/api/v2/setup', {
          username: INFLUX2_DEFAULTS.username,
          password: INFLUX2_DEFAULTS.password,
          org,
          bucket,
          token,
        })
      : {
          org: (await api<{ orgs: { id: string }[] }>({ url, token }, 'GET', `/api/v2/orgs?${new URLSearchParams({ org })}`)).orgs[0]!,
          bucket: (await api<{ buckets: { id: string }[] }>({ url, token }, 'GET', `/api/v2/buckets?${new URLSearchParams({ org, name: bucket })}`)).buckets[0]!,
        };
    return {
      url,
      port,
      token,
      org,
      orgId: ids.org.id,
      bucket,
      bucketId: ids.bucket.id,
      dataDir: d,
      process: proc,
      stop: (signal) => proc.stop(signal),
    };
  } catch (err) {
    await proc.stop('SIGKILL');
    throw new Error(`${(err as Error).message}\n${proc.output()}`);
  }
}
