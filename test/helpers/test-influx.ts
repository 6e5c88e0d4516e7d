/**
 * The InfluxDB of the current vitest project, as settings a test hands to fieldhook and as the
 * few raw requests tests make: the same test file runs against InfluxDB 1.8 (project
 * `integration`) and 2.7 (project `integration-influx2`, test/setup/real-services.ts).
 *
 * A test's "database" is a 1.8 database, or on 2.x a bucket of that name, which InfluxQL reaches
 * as database `name` (retention policy `autogen`) through 2.x's virtual DBRP mapping; fieldhook's
 * INFLUX_BUCKET is the same name on both.
 */
import { inject } from 'vitest';
import { startInfluxDB } from '../../infra/harness/influxdb.js';
import { createInflux2Bucket, createInflux2Token, startInfluxDB2 } from '../../infra/harness/influxdb2.js';
import type { InfluxTarget } from '../../services/shared/influx.js';
import type { ProvidedInflux } from '../setup/real-services.js';

export interface TestInflux extends ProvidedInflux {
  /** Headers for a raw `/query` or `/write` request (the token on 2.x). */
  headers: Record<string, string>;
  /** Where fieldhook writes and reads `database`. */
  target(database: string, timeoutMs?: number): InfluxTarget;
  /** `FIELDHOOK_`-less settings for a fieldhook process: INFLUX_URL, INFLUX_TOKEN, INFLUX_ORG, INFLUX_BUCKET. */
  settings(database: string): Record<string, string>;
  /** The same settings as a fieldhook process's environment (`FIELDHOOK_INFLUX_…`). */
  env(database: string): Record<string, string>;
  /** Create the database (1.8) or bucket (2.x); an existing one is kept. */
  createDatabase(database: string): Promise<void>;
  /** 2.x: a token for `database` that may only do `actions` (the bucket is created first). */
  createToken(database: string, actions: ('read' | 'write')[]): Promise<string>;
  /** InfluxQL on `/query`, times in epoch ms; the parsed body. */
  query<T = InfluxQlBody>(database: string, q: string): Promise<T>;
  /** Line protocol through the 1.x `/write` (2.x serves it through the DBRP mapping), precision ms. */
  write(database: string, lines: string): Promise<void>;
}

export interface InfluxQlBody {
  results: { error?: string; series?: { name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }[] }[];
  error?: string;
}

/** An InfluxDB of the project's version that a test starts itself, to stop it (an outage) and start it again. */
export interface OwnInflux {
  influx: TestInflux;
  /** Stop it; nothing when it is stopped already (a `finally` may call it). */
  stop(): Promise<void>;
  /** Start it again on the same port and data (after `stop`). */
  restart(): Promise<void>;
}

export async function startOwnInflux(dataDir: string, kind: ProvidedInflux['kind'] = inject('influx').kind): Promise<OwnInflux> {
  const start = async (port?: number) => {
    if (kind === '2.x') {
      const v2 = await startInfluxDB2({ dataDir, ...(port ? { port } : {}) });
      return { server: v2, provided: { kind, url: v2.url, token: v2.token, org: v2.org, orgId: v2.orgId, bucket: v2.bucket } };
    }
    const v1 = await startInfluxDB({ dataDir, ...(port ? { port } : {}) });
    return { server: v1, provided: { kind, url: v1.url, token: '', org: '', orgId: '', bucket: '' } };
  };
  let { server, provided } = await start();
  let running = true;
  return {
    influx: testInflux(provided),
    async stop() {
      if (!running) return;
      running = false;
      await server.stop();
    },
    async restart() {
      ({ server } = await start(server.port));
      running = true;
    },
  };
}

export function testInflux(provided: ProvidedInflux = inject('influx')): TestInflux {
  const headers: Record<string, string> = provided.token ? { authorization: `Token ${provided.token}` } : {};
  const admin = { url: provided.url, token: provided.token, orgId: provided.orgId };
  const bucketOf = (database: string) => createInflux2Bucket(admin, database);
  const settings = (database: string): Record<string, string> => ({
    INFLUX_URL: provided.url,
    INFLUX_BUCKET: database,
    ...(provided.token ? { INFLUX_TOKEN: provided.token } : {}),
    ...(provided.org ? { INFLUX_ORG: provided.org } : {}),
  });
  return {
    ...provided,
    headers,
    target: (database, timeoutMs = 5_000) => ({ url: provided.url, token: provided.token, org: provided.org || 'fieldhook', bucket: database, timeoutMs }),
    settings,
    env: (database) => Object.fromEntries(Object.entries(settings(database)).map(([key, value]) => [`FIELDHOOK_${key}`, value])),
    async createDatabase(database) {
      if (provided.kind === '2.x') {
        await bucketOf(database);
        return;
      }
      const res = await fetch(`${provided.url}/query`, { method: 'POST', headers, body: new URLSearchParams({ q: `CREATE DATABASE "${database}"` }) });
      const text = await res.text();
      if (!res.ok || text.includes('"error"')) throw new Error(`CREATE DATABASE ${database}: ${res.status} ${text.slice(0, 200)}`);
    },
    async createToken(database, actions) {
      if (provided.kind !== '2.x') throw new Error('createToken: InfluxDB 2.x only (1.8 tests create users)');
      return createInflux2Token(admin, (await bucketOf(database)).id, actions, `test ${actions.join('+')} ${database}`);
    },
    async query<T>(database: string, q: string) {
      const res = await fetch(`${provided.url}/query?${new URLSearchParams({ q, db: database, epoch: 'ms' })}`, { headers });
      if (!res.ok) throw new Error(`InfluxQL ${q}: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    },
    async write(database, lines) {
      const res = await fetch(`${provided.url}/write?${new URLSearchParams({ db: database, precision: 'ms' })}`, { method: 'POST', headers, body: lines });
      if (res.status !== 204) throw new Error(`write to ${database}: ${res.status} ${await res.text()}`);
    },
  };
}
