/**
 * Which InfluxDB fieldhook talks to, and whether it is set up for fieldhook: the check that
 * `fieldhook start` runs before any part starts (services/host/influxdb-component.ts) and that
 * `fieldhook doctor` can run on its own. Three questions, each answered by the server itself:
 *
 * 1. What is it? `GET /ping` headers (`X-Influxdb-Version`, `X-Influxdb-Build`), the host name
 *    for InfluxDB Cloud, and `/api/v2/setup` for a build that reports no version
 *    ({@link classifyInfluxServer}).
 * 2. Can fieldhook write? An empty write to `/api/v2/write?org&bucket`: every version resolves the
 *    organisation, the bucket (1.x: database) and the token's permission before it reads the
 *    body, so 404/401/403 name what is wrong and 204 (or 400 for an empty body, on 2.0) says
 *    nothing is.
 * 3. Can fieldhook read back? InfluxQL `SHOW FIELD KEYS` on `/query` (the predictor rebuilds
 *    its windows with InfluxQL). On 2.x a token that may only write, or a bucket without a DBRP
 *    mapping, answers 200 with `database not found`: that is a problem, never "no history".
 *    `SHOW MEASUREMENTS` would not do: 2.7 answers it for a token that may not read with an
 *    empty result, exactly as for an empty bucket.
 *
 * Each problem names the setting to change (`INFLUX_TOKEN`, `INFLUX_ORG`, `INFLUX_BUCKET`,
 * `INFLUX_URL`). docs/influxdb.md gives the set-up for each version.
 */
import { Errors } from './error-catalog.js';
import type { InfluxTarget } from './influx.js';

/** The InfluxDB products fieldhook tells apart: they differ in what a write and a query need. */
export type InfluxKind = '1.x' | '2.x' | '3.x' | 'cloud-tsm' | 'cloud-serverless' | 'cloud-dedicated' | 'unknown';

export interface InfluxServer {
  kind: InfluxKind;
  /** `X-Influxdb-Version` as sent ('' when absent). */
  version: string;
  /** `X-Influxdb-Build` as sent ('' when absent). */
  build: string;
}

/** A setting fieldhook reads InfluxDB's address and credentials from. */
export type InfluxSetting = 'INFLUX_URL' | 'INFLUX_TOKEN' | 'INFLUX_ORG' | 'INFLUX_BUCKET';

export interface InfluxProblem {
  setting: InfluxSetting;
  message: string;
}

export interface InfluxCheckReport {
  /** Undefined when the server could not be reached. */
  server?: InfluxServer;
  /** False when `/ping` got no answer: nothing else could be asked. */
  reachable: boolean;
  problems: InfluxProblem[];
}

/** The `/ping` answer detection reads: status and the two headers, plus the URL's host. */
export interface PingAnswer {
  status: number;
  version: string;
  build: string;
  host: string;
}

/** InfluxDB Cloud Serverless regions (docs.influxdata.com "identify version"); other cloud2 hosts run Cloud on TSM. */
const SERVERLESS_HOSTS = new Set(['us-east-1-1.aws.cloud2.influxdata.com', 'eu-central-1-1.aws.cloud2.influxdata.com']);

/** A repeated header arrives joined with ", " (2.1 sends `X-Influxdb-Build: OSS` and `oss2`): each value, lower case. */
const values = (header: string) =>
  header
    .split(',')
    .map((v) => v.trim().toLowerCase())
    .filter((v) => v !== '');

/** The major version of `1.8.10`, `v2.7.12`, `3.1.0-nightly`; undefined for `unknown` or ''. */
function major(version: string): number | undefined {
  const m = /^v?(\d+)\./.exec(values(version)[0] ?? '');
  return m ? Number(m[1]) : undefined;
}

/**
 * What a `/ping` answer says the server is, or `undefined` when the headers alone cannot tell
 * (a source build reporting version `unknown`, 2.0 sending an empty one): the caller then asks
 * `/api/v2/setup`, which 2.x serves and 1.x does not.
 */
export function classifyInfluxServer(ping: PingAnswer): InfluxKind | undefined {
  const host = ping.host.toLowerCase();
  if (host.endsWith('.influxdb.io')) return 'cloud-dedicated';
  if (SERVERLESS_HOSTS.has(host)) return 'cloud-serverless';
  if (host.endsWith('.cloud2.influxdata.com')) return 'cloud-tsm';
  const builds = values(ping.build);
  const v = major(ping.version);
  if (v === 3 || builds.includes('core')) return '3.x';
  if (builds.includes('cloud')) return 'cloud-tsm';
  if (v === 2 || builds.includes('oss2') || builds.includes('cloud2')) return '2.x';
  if (v === 1) return '1.x';
  if (v !== undefined) return 'unknown';
  return undefined;
}

interface Probe {
  status: number;
  text: string;
}

export interface InfluxCheckOptions {
  /** Per request, ms. */
  timeoutMs: number;
  fetch?: typeof fetch;
}

export interface InfluxSetupCheckOptions extends InfluxCheckOptions {
  /** Already detected (the caller acted on it, e.g. created a 1.x database): not asked again. */
  server?: InfluxServer;
}

/** Asks InfluxDB; undefined when it does not answer (down, refused, timed out). */
async function ask(target: Pick<InfluxTarget, 'url' | 'token'>, path: string, init: RequestInit, options: InfluxCheckOptions): Promise<(Probe & { headers: Headers }) | undefined> {
  const doFetch = options.fetch ?? fetch;
  try {
    const res = await doFetch(new URL(path, target.url), {
      ...init,
      headers: { ...(target.token ? { authorization: `Token ${target.token}` } : {}), ...(init.headers as Record<string, string> | undefined) },
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    return { status: res.status, text: (await res.text()).slice(0, 2_000), headers: res.headers };
  } catch {
    return undefined;
  }
}

/**
 * What the server at `target.url` is. The token goes along: InfluxDB 3 asks for one on `/ping`
 * by default. Undefined when the server does not answer.
 */
export async function detectInfluxServer(target: Pick<InfluxTarget, 'url' | 'token'>, options: InfluxCheckOptions): Promise<InfluxServer | undefined> {
  const ping = await ask(target, '/ping', { method: 'GET' }, options);
  if (!ping) return undefined;
  const answer: PingAnswer = {
    status: ping.status,
    version: ping.headers.get('x-influxdb-version') ?? '',
    build: ping.headers.get('x-influxdb-build') ?? '',
    host: new URL(target.url).hostname,
  };
  let kind = classifyInfluxServer(answer);
  if (kind === undefined) {
    const setup = await ask(target, '/api/v2/setup', { method: 'GET' }, options);
    kind = setup?.status === 200 ? '2.x' : answer.build !== '' || ping.status === 204 ? '1.x' : 'unknown';
  }
  return { kind, version: answer.version, build: answer.build };
}

/** Which setting a refused write points at: the status and InfluxDB's own message decide. */
export function settingForRefusal(status: number, message: string): InfluxSetting | undefined {
  if (status === 401 || status === 403) return 'INFLUX_TOKEN';
  if (status === 404) return /organi[sz]ation/i.test(message) ? 'INFLUX_ORG' : 'INFLUX_BUCKET';
  return undefined;
}

/** InfluxDB's error text from a JSON body (`message` on 2.x/3.x, `error` on 1.x), or the text itself. */
function errorText(text: string): string {
  try {
    const body = JSON.parse(text) as { message?: unknown; error?: unknown; results?: { error?: unknown }[] };
    const found = body.message ?? body.error ?? body.results?.find((r) => r.error)?.error;
    if (typeof found === 'string') return found;
  } catch {
    // Not JSON: the text is the message.
  }
  return text.trim();
}

/** What a refused write means, in words an operator can act on. */
function writeProblem(kind: InfluxKind, status: number, text: string, target: Pick<InfluxTarget, 'org' | 'bucket'>): InfluxProblem | undefined {
  const said = errorText(text);
  const setting = settingForRefusal(status, said);
  if (setting === 'INFLUX_TOKEN') {
    return status === 401
      ? { setting, message: `InfluxDB refused the credentials (401 ${said}): set INFLUX_TOKEN to ${kind === '1.x' ? '`user:password` of a user that may write and read the database' : 'an API token that may write and read the bucket'}` }
      : { setting, message: `The token may not write to ${target.bucket} (403 ${said}): give INFLUX_TOKEN write permission` };
  }
  if (setting === 'INFLUX_ORG') return { setting, message: `InfluxDB has no organisation ${JSON.stringify(target.org)} (404 ${said}): set INFLUX_ORG to the organisation's name` };
  if (setting === 'INFLUX_BUCKET') {
    const hint =
      kind === '1.x'
        ? 'create the database (or set INFLUX_CREATE_DATABASE=true) or set INFLUX_BUCKET to `database` or `database/retention-policy`'
        : target.bucket.includes('/')
          ? 'INFLUX_BUCKET is `db/rp`, the 1.x form: set it to the bucket name'
          : 'create the bucket or set INFLUX_BUCKET to its name';
    return { setting, message: `InfluxDB has no ${kind === '1.x' ? 'database' : 'bucket'} ${JSON.stringify(target.bucket)} (404 ${said}): ${hint}` };
  }
  if (status >= 500) return undefined; // A server error is an outage, not a set-up problem.
  return { setting: 'INFLUX_URL', message: `An empty write to ${target.bucket} answered ${status} ${said}: is INFLUX_URL an InfluxDB?` };
}

/** What a refused `/query` means: the predictor must be able to read back what was written. */
function readProblem(kind: InfluxKind, status: number, text: string, target: Pick<InfluxTarget, 'bucket'>): InfluxProblem | undefined {
  const said = errorText(text);
  if (status === 401) return { setting: 'INFLUX_TOKEN', message: `InfluxDB refused the credentials for /query (401 ${said}): set INFLUX_TOKEN` };
  if (status === 403) return { setting: 'INFLUX_TOKEN', message: `The token may not read ${target.bucket} (403 ${said}): give INFLUX_TOKEN read permission` };
  if (status >= 500) return undefined;
  // 200 with the error in the result (1.x, 2.x) or an error status (3.x): the same answer.
  if (/database not found/i.test(said)) {
    // 1.x and 3.x name databases directly: it does not exist (3.x creates one on the first real write).
    if (kind === '1.x' || kind === '3.x' || kind === 'cloud-dedicated') {
      return {
        setting: 'INFLUX_BUCKET',
        message: `/query answered "${said}": create the database ${JSON.stringify(target.bucket.split('/')[0])} or set INFLUX_BUCKET to one that exists; the predictor could not read its history`,
      };
    }
    // 2.x and Cloud answer the same for a token that may only write and for a bucket without a DBRP mapping.
    return {
      setting: 'INFLUX_TOKEN',
      message: `/query answered "${said}": the token cannot read bucket ${JSON.stringify(target.bucket)}, or the bucket has no DBRP mapping for InfluxQL (influx v1 dbrp create); the predictor could not read its history`,
    };
  }
  // INFLUX_BUCKET's `database/retention-policy` form naming a policy the database does not have.
  if (/retention policy not found/i.test(said)) {
    return { setting: 'INFLUX_BUCKET', message: `/query answered "${said}": set INFLUX_BUCKET to \`database\` or \`database/retention-policy\` with a policy the database has; the predictor could not read its history` };
  }
  if (status !== 200) return { setting: 'INFLUX_URL', message: `InfluxQL on /query answered ${status} ${said}: fieldhook reads history with InfluxQL` };
  if (said !== '' && /error|unauthori[sz]ed|forbidden/i.test(text)) {
    return { setting: 'INFLUX_TOKEN', message: `/query answered "${said}": the predictor could not read its history` };
  }
  return undefined;
}

/**
 * The read check: a statement every version answers for an empty database, and that needs read
 * permission (1.x: 403 without it; 2.x: 200 `database not found` for a write-only token).
 */
export const READ_CHECK = 'SHOW FIELD KEYS LIMIT 1';

/**
 * Detect the server, then try an empty write and an InfluxQL read with the configured settings.
 * Never throws: an unreachable server is `reachable: false`; each problem names its setting.
 */
export async function checkInfluxServer(target: Pick<InfluxTarget, 'url' | 'token' | 'org' | 'bucket'>, options: InfluxSetupCheckOptions): Promise<InfluxCheckReport> {
  const server = options.server ?? (await detectInfluxServer(target, options));
  if (!server) return { reachable: false, problems: [] };
  const problems: InfluxProblem[] = [];
  if (server.kind !== '1.x' && server.kind !== 'unknown' && target.token === '') {
    problems.push({ setting: 'INFLUX_TOKEN', message: `InfluxDB ${server.kind} needs an API token: set INFLUX_TOKEN` });
    return { server, reachable: true, problems };
  }
  if (server.kind === '1.x' && target.token !== '' && !target.token.includes(':')) {
    problems.push({ setting: 'INFLUX_TOKEN', message: 'InfluxDB 1.x takes `user:password` as the token: set INFLUX_TOKEN to that form' });
    return { server, reachable: true, problems };
  }
  const params = new URLSearchParams({ org: target.org, bucket: target.bucket, precision: 'ms' });
  const write = await ask(target, `/api/v2/write?${params}`, { method: 'POST', body: '', headers: { 'content-type': 'text/plain; charset=utf-8' } }, options);
  if (!write) return { server, reachable: false, problems };
  // 204: may write. 400 on an empty body: older 2.0 refuses "writing requires points" after its checks passed.
  if (write.status !== 204 && write.status !== 400) {
    const problem = writeProblem(server.kind, write.status, write.text, target);
    if (problem) problems.push(problem);
  }
  const [db, rp] = target.bucket.split('/');
  const query = new URLSearchParams({ db: db!, q: READ_CHECK });
  if (rp) query.set('rp', rp);
  const read = await ask(target, `/query?${query}`, { method: 'GET' }, options);
  if (!read) return { server, reachable: false, problems };
  const problem = readProblem(server.kind, read.status, read.text, target);
  // One problem per setting is enough to act on; a 404 bucket also makes /query "not found".
  if (problem && !problems.some((p) => p.setting === problem.setting || p.setting === 'INFLUX_BUCKET')) problems.push(problem);
  return { server, reachable: true, problems };
}

/**
 * The check every part that writes or reads InfluxDB runs before it trusts the answers: resolves
 * with the server (undefined when it does not answer, left to the caller's own retry), and fails
 * with FH_ERR_INFLUX_SETUP naming each setting to change when the server answers but refuses
 * fieldhook's write or read, so a write-only token never reads as "no history".
 */
export async function requireInfluxSetup(target: Pick<InfluxTarget, 'url' | 'token' | 'org' | 'bucket'>, options: InfluxSetupCheckOptions): Promise<InfluxServer | undefined> {
  const report = await checkInfluxServer(target, options);
  if (!report.server || report.problems.length === 0) return report.server;
  const problems = report.problems.map((p) => `${p.setting}: ${p.message}`);
  throw Errors.influxSetup(`InfluxDB ${report.server.kind} at ${new URL(target.url).origin} is not set up for fieldhook:\n  ${problems.join('\n  ')}`, {
    server: report.server,
    problems: report.problems,
  });
}
