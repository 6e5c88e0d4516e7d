import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * schemathesis (PyPI), pinned: the property-based API tester the contract test runs against the
 * app's own OpenAPI document (test/integration/host/openapi-contract.test.ts). It lives in a
 * Python venv in the cache folder of the InfluxDB build (`~/.cache/fieldhook/`), made once per
 * machine by `npm run services:prepare`.
 */
export const SCHEMATHESIS_VERSION = '4.32.5';

/** The venv, next to the cached InfluxDB binary (services/host/local-influxdb.ts). */
export function schemathesisVenvPath(): string {
  const cache = process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  return join(cache, 'fieldhook', `schemathesis-${SCHEMATHESIS_VERSION}`);
}

const binaryIn = (venv: string) => join(venv, 'bin', 'schemathesis');
/** Written once pip has installed the pinned version: a venv without it is an interrupted install. */
const markerIn = (venv: string) => join(venv, 'fieldhook-installed');

function run(command: string, args: string[]): { ok: boolean; output: string } {
  const result = spawnSync(command, args, { encoding: 'utf8', env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1' } });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? String(result.error) : ''}`.trim();
  return { ok: result.status === 0, output };
}

/**
 * The schemathesis binary, installed (python3 -m venv, pip install schemathesis==VERSION) unless
 * it is already. Throws with the reason when Python, venv or pip fail (PyPI unreachable, say):
 * the contract test must fail then, never skip.
 */
export function ensureSchemathesis(log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): string {
  const venv = schemathesisVenvPath();
  const binary = binaryIn(venv);
  if (existsSync(binary) && existsSync(markerIn(venv)) && readFileSync(markerIn(venv), 'utf8').trim() === SCHEMATHESIS_VERSION) return binary;
  rmSync(venv, { recursive: true, force: true });
  log(`Installing schemathesis ${SCHEMATHESIS_VERSION} from PyPI into ${venv} (once per machine)…`);
  const venvMade = run('python3', ['-m', 'venv', venv]);
  if (!venvMade.ok) {
    throw new Error(`python3 -m venv ${venv} failed (install python3 and python3-venv): ${venvMade.output.slice(-2000)}`);
  }
  const installed = run(join(venv, 'bin', 'pip'), ['install', '--quiet', `schemathesis==${SCHEMATHESIS_VERSION}`]);
  if (!installed.ok || !existsSync(binary)) {
    rmSync(venv, { recursive: true, force: true });
    throw new Error(`pip install schemathesis==${SCHEMATHESIS_VERSION} failed (is PyPI reachable?): ${installed.output.slice(-2000)}`);
  }
  const version = run(binary, ['--version']);
  if (!version.ok || !version.output.includes(SCHEMATHESIS_VERSION)) {
    rmSync(venv, { recursive: true, force: true });
    throw new Error(`schemathesis --version says ${JSON.stringify(version.output)}, not ${SCHEMATHESIS_VERSION}`);
  }
  writeFileSync(markerIn(venv), `${SCHEMATHESIS_VERSION}\n`);
  log(`schemathesis ${SCHEMATHESIS_VERSION} installed`);
  return binary;
}

export interface SchemathesisRun {
  /** URL of the OpenAPI document; the API is at its origin. */
  schemaUrl: string;
  /** Bearer token per security scheme of the document (`bearerAuth`, `deviceSecret`). */
  bearer: Record<string, string>;
  seed: number;
  /** Test cases per operation and phase. */
  maxExamples: number;
  /** Kill schemathesis after this long and report it as a failure. */
  timeoutMs: number;
}

export interface SchemathesisResult {
  exitCode: number | null;
  /** Its report: stdout and stderr. */
  output: string;
  durationMs: number;
}

/**
 * The configuration of the contract run, beyond "every check". Two expectations are widened,
 * each for a reason no schema can carry:
 * - a refused request may be a 413 (body over the limit) or 414 (a path parameter over Fastify's
 *   `maxParamLength`) as well as the 4xx schemathesis expects by default;
 * - the ingest routes judge readings against the server clock (`INGEST_MAX_AGE_MS`,
 *   `INGEST_MAX_FUTURE_MS`) and each reading on its own: a reading of the documented shape may be
 *   refused (400 `FH_ERR_INGEST_ALL_REFUSED`, each reason listed), so a 400 there is not a
 *   schema-valid request wrongly refused.
 */
export function schemathesisConfig(bearer: Record<string, string>): string {
  const toml = (value: string) => JSON.stringify(value);
  return [
    ...Object.entries(bearer).flatMap(([scheme, token]) => [`[auth.openapi.${scheme}]`, `bearer = ${toml(token)}`, '']),
    '[checks.negative_data_rejection]',
    'expected-statuses = [400, 401, 403, 404, 405, 406, 409, 413, 414, 415, 422, 428, 429]',
    '',
    '[[operations]]',
    'include-tag = "ingest"',
    'checks.positive_data_acceptance.expected-statuses = [200, 202, 204, 400, 401, 403, 404, 409, 429]',
    '',
  ].join('\n');
}

/**
 * `schemathesis run` with every check, a fixed seed and a bound on examples, one worker (so a seed
 * always means the same requests in the same order), no example database (nothing carried over
 * between runs). Resolves with its exit code and report; never throws for a failing API.
 */
export async function runSchemathesis(options: SchemathesisRun): Promise<SchemathesisResult> {
  const binary = ensureSchemathesis();
  const dir = mkdtempSync(join(tmpdir(), 'fieldhook-schemathesis-'));
  const config = join(dir, 'schemathesis.toml');
  writeFileSync(config, schemathesisConfig(options.bearer), { mode: 0o600 });
  const args = [
    '--config-file', config,
    'run', options.schemaUrl,
    '--checks', 'all',
    '--seed', String(options.seed),
    '--max-examples', String(options.maxExamples),
    '--workers', '1',
    '--generation-database', 'none',
    '--request-timeout', '10',
    '--no-color',
  ];
  const started = Date.now();
  try {
    return await new Promise<SchemathesisResult>((resolve, reject) => {
      // Run in a folder of its own: a schemathesis.toml of the working directory is not read.
      const child = spawn(binary, args, { cwd: dir, env: { ...process.env, NO_COLOR: '1', COLUMNS: '120' }, stdio: ['ignore', 'pipe', 'pipe'] });
      const chunks: Buffer[] = [];
      child.stdout.on('data', (c: Buffer) => chunks.push(c));
      child.stderr.on('data', (c: Buffer) => chunks.push(c));
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, options.timeoutMs);
      child.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        const output = Buffer.concat(chunks).toString('utf8');
        resolve({
          exitCode: timedOut ? null : code,
          output: timedOut ? `${output}\nschemathesis did not finish within ${options.timeoutMs} ms and was killed` : output,
          durationMs: Date.now() - started,
        });
      });
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
