import { describe, expect, it } from 'vitest';
import { checkInfluxServer, classifyInfluxServer, detectInfluxServer, settingForRefusal, type PingAnswer } from '../../../services/shared/influx-server.js';

/**
 * `/ping` answers as servers sent them, each with where it was recorded. A repeated header is
 * joined with ", " by fetch, as 2.1 sends `X-Influxdb-Build` twice.
 */
const RECORDED: { what: string; source: string; ping: PingAnswer; kind: ReturnType<typeof classifyInfluxServer> }[] = [
  {
    what: 'InfluxDB OSS 1.7.4',
    source: 'github.com/toni-moreno/influxdb-srelay issue 3 (curl -I /ping)',
    ping: { status: 204, version: '1.7.4', build: 'OSS', host: 'myinfluxserver.mydomain.org' },
    kind: '1.x',
  },
  {
    what: 'InfluxDB OSS 2.1.1 (docker influxdb:latest, 2022), both headers sent twice',
    source: 'github.com/influxdata/influxdb-client-csharp issue 275',
    ping: { status: 204, version: '2.1.1, 2.1.1', build: 'OSS, oss2', host: 'localhost' },
    kind: '2.x',
  },
  {
    what: 'InfluxDB OSS 2.0.x: build cloud2 and an empty version on a self-hosted server',
    source: 'a Grafana tutorial on GitHub (curl -i http://172.16.0.200:8086/ping, 2021-09-15)',
    ping: { status: 204, version: '', build: 'cloud2', host: '172.16.0.200' },
    kind: '2.x',
  },
  {
    what: 'InfluxDB 3 Core nightly',
    source: 'github.com/influxdata/influxdb pull request 26433 (example response)',
    ping: { status: 200, version: '3.1.0-nightly', build: 'Core', host: 'localhost' },
    kind: '3.x',
  },
  {
    what: 'InfluxDB 3 Enterprise',
    source: 'docs.influxdata.com "Identify your InfluxDB version" (x-influxdb-version ^3, x-influxdb-build Enterprise)',
    ping: { status: 200, version: '3.6.0', build: 'Enterprise', host: 'influxdb3.farm.example' },
    kind: '3.x',
  },
  {
    what: 'InfluxDB Cloud (TSM), recognised by its regional host whatever the headers say',
    source: 'docs.influxdata.com "Identify your InfluxDB version" (URL patterns); influxdb-client-python issue 366 (empty version from Cloud)',
    ping: { status: 204, version: '', build: 'Cloud', host: 'us-west-2-1.aws.cloud2.influxdata.com' },
    kind: 'cloud-tsm',
  },
  {
    what: 'InfluxDB Cloud Serverless',
    source: 'docs.influxdata.com "Identify your InfluxDB version" (us-east-1-1 and eu-central-1-1 are Serverless)',
    ping: { status: 204, version: '', build: '', host: 'eu-central-1-1.aws.cloud2.influxdata.com' },
    kind: 'cloud-serverless',
  },
  {
    what: 'InfluxDB Cloud Dedicated',
    source: 'docs.influxdata.com "Identify your InfluxDB version" (*.influxdb.io)',
    ping: { status: 204, version: '', build: '', host: 'cluster-id.a.influxdb.io' },
    kind: 'cloud-dedicated',
  },
  {
    what: 'a Cloud answer behind a proxy (build Cloud, no cloud2 host)',
    source: 'the Build = "Cloud" convention of github.com/influxdata/influxdb issue 20224',
    ping: { status: 204, version: '', build: 'Cloud', host: 'influx.proxy.example' },
    kind: 'cloud-tsm',
  },
];

describe('classifyInfluxServer: the product from /ping headers and host', () => {
  for (const r of RECORDED) {
    it(`${r.what} is ${r.kind} (${r.source})`, () => {
      expect(classifyInfluxServer(r.ping)).toBe(r.kind);
    });
  }

  it('a build that reports no version (1.8 built from source says "unknown", 2.0.8 sends "") cannot be told by headers alone', () => {
    expect(classifyInfluxServer({ status: 204, version: 'unknown', build: 'OSS', host: '127.0.0.1' })).toBeUndefined();
    expect(classifyInfluxServer({ status: 204, version: '', build: 'OSS', host: '127.0.0.1' })).toBeUndefined();
  });

  it('a version of another major is unknown, not guessed', () => {
    expect(classifyInfluxServer({ status: 204, version: '4.0.0', build: 'OSS', host: 'x' })).toBe('unknown');
  });
});

/** A fetch that answers from a table by method and path, recording what it was asked. */
function fakeInflux(routes: Record<string, { status: number; headers?: Record<string, string>; body?: string }>) {
  const asked: { method: string; path: string; authorization: string | null }[] = [];
  const fetchFn = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    const method = init?.method ?? 'GET';
    asked.push({ method, path: url.pathname, authorization: new Headers(init?.headers).get('authorization') });
    const route = routes[`${method} ${url.pathname}`];
    if (!route) return new Response('404 page not found', { status: 404 });
    return new Response(route.status === 204 ? null : (route.body ?? ''), { status: route.status, headers: route.headers ?? {} });
  }) as typeof fetch;
  return { fetchFn, asked };
}

describe('detectInfluxServer', () => {
  it('asks /api/v2/setup when the version is unknown: 2.x serves it, 1.x does not', async () => {
    const v2 = fakeInflux({ 'GET /ping': { status: 204, headers: { 'x-influxdb-build': 'OSS', 'x-influxdb-version': 'dev' } }, 'GET /api/v2/setup': { status: 200, body: '{"allowed":false}' } });
    expect(await detectInfluxServer({ url: 'http://influx:8086', token: 't' }, { timeoutMs: 1000, fetch: v2.fetchFn })).toEqual({ kind: '2.x', version: 'dev', build: 'OSS' });
    const v1 = fakeInflux({ 'GET /ping': { status: 204, headers: { 'x-influxdb-build': 'OSS', 'x-influxdb-version': 'unknown' } } });
    expect((await detectInfluxServer({ url: 'http://influx:8086', token: '' }, { timeoutMs: 1000, fetch: v1.fetchFn }))?.kind).toBe('1.x');
  });

  it('sends the token with /ping (InfluxDB 3 asks for one there) and is undefined when nothing answers', async () => {
    const v3 = fakeInflux({ 'GET /ping': { status: 200, headers: { 'x-influxdb-build': 'Core', 'x-influxdb-version': '3.1.0' }, body: '{}' } });
    await detectInfluxServer({ url: 'http://influx:8181', token: 'apiv3_x' }, { timeoutMs: 1000, fetch: v3.fetchFn });
    expect(v3.asked[0]).toEqual({ method: 'GET', path: '/ping', authorization: 'Token apiv3_x' });
    const down = (async () => {
      throw new TypeError('fetch failed');
    }) as typeof fetch;
    expect(await detectInfluxServer({ url: 'http://influx:8086', token: '' }, { timeoutMs: 1000, fetch: down })).toBeUndefined();
  });
});

describe('checkInfluxServer on 2.x answers (recorded shapes of InfluxDB 2.7)', () => {
  const ping = { status: 204, headers: { 'x-influxdb-build': 'OSS', 'x-influxdb-version': 'v2.7.12' } };
  const target = { url: 'http://influx:8086', token: 'tok', org: 'farm', bucket: 'fieldhook' };

  it('a write-only token: the empty write passes, /query answers 200 "database not found": a problem naming INFLUX_TOKEN, never "no history"', async () => {
    const { fetchFn } = fakeInflux({
      'GET /ping': ping,
      'POST /api/v2/write': { status: 204 },
      'GET /query': { status: 200, body: '{"results":[{"statement_id":0,"error":"database not found: fieldhook"}]}' },
    });
    const report = await checkInfluxServer(target, { timeoutMs: 1000, fetch: fetchFn });
    expect(report.problems).toEqual([{ setting: 'INFLUX_TOKEN', message: expect.stringMatching(/cannot read bucket "fieldhook", or the bucket has no DBRP mapping/) }]);
  });

  it('a wrong org is INFLUX_ORG; a missing bucket is INFLUX_BUCKET, with the db/rp hint when the name is 1.x-shaped', async () => {
    const org = fakeInflux({
      'GET /ping': ping,
      'POST /api/v2/write': { status: 404, body: '{"code":"not found","message":"organization name \\"farm\\" not found"}' },
      'GET /query': { status: 200, body: '{"results":[{"statement_id":0,"error":"database not found: fieldhook"}]}' },
    });
    expect((await checkInfluxServer(target, { timeoutMs: 1000, fetch: org.fetchFn })).problems.map((p) => p.setting)).toEqual(['INFLUX_ORG', 'INFLUX_TOKEN']);
    const bucket = fakeInflux({
      'GET /ping': ping,
      'POST /api/v2/write': { status: 404, body: '{"code":"not found","message":"bucket \\"fieldhook/autogen\\" not found"}' },
      'GET /query': { status: 200, body: '{"results":[{"statement_id":0}]}' },
    });
    const report = await checkInfluxServer({ ...target, bucket: 'fieldhook/autogen' }, { timeoutMs: 1000, fetch: bucket.fetchFn });
    expect(report.problems).toEqual([{ setting: 'INFLUX_BUCKET', message: expect.stringContaining('`db/rp`, the 1.x form: set it to the bucket name') }]);
  });

  it('no token at all on 2.x is refused before anything is written', async () => {
    const { fetchFn, asked } = fakeInflux({ 'GET /ping': ping });
    const report = await checkInfluxServer({ ...target, token: '' }, { timeoutMs: 1000, fetch: fetchFn });
    expect(report.problems).toEqual([{ setting: 'INFLUX_TOKEN', message: 'InfluxDB 2.x needs an API token: set INFLUX_TOKEN' }]);
    expect(asked.map((a) => a.path)).toEqual(['/ping']);
  });

  it('a token that may read and write, on a bucket with its DBRP mapping: no problem', async () => {
    const { fetchFn } = fakeInflux({ 'GET /ping': ping, 'POST /api/v2/write': { status: 204 }, 'GET /query': { status: 200, body: '{"results":[{"statement_id":0}]}' } });
    expect(await checkInfluxServer(target, { timeoutMs: 1000, fetch: fetchFn })).toEqual({
      server: { kind: '2.x', version: 'v2.7.12', build: 'OSS' },
      reachable: true,
      problems: [],
    });
  });
});

describe('settingForRefusal', () => {
  it('401 and 403 are the token; 404 the org when InfluxDB says organization, else the bucket; others none', () => {
    expect(settingForRefusal(401, 'unauthorized access')).toBe('INFLUX_TOKEN');
    expect(settingForRefusal(403, 'insufficient permissions for write')).toBe('INFLUX_TOKEN');
    expect(settingForRefusal(404, 'organization name "x" not found')).toBe('INFLUX_ORG');
    expect(settingForRefusal(404, 'database not found: "nodb"')).toBe('INFLUX_BUCKET');
    expect(settingForRefusal(503, 'unavailable')).toBeUndefined();
  });
});

describe('checkInfluxServer on 3.x', () => {
  it('a database that does not exist yet is INFLUX_BUCKET (3.x creates databases on the first real write, not on an empty one)', async () => {
    const { fetchFn } = fakeInflux({
      'GET /ping': { status: 200, headers: { 'x-influxdb-build': 'Core', 'x-influxdb-version': '3.6.0' }, body: '{}' },
      'POST /api/v2/write': { status: 204 },
      'GET /query': { status: 200, body: '{"results":[{"statement_id":0,"error":"database not found: fieldhook"}]}' },
    });
    const report = await checkInfluxServer({ url: 'http://influx:8181', token: 'apiv3_x', org: '', bucket: 'fieldhook' }, { timeoutMs: 1000, fetch: fetchFn });
    expect(report.problems).toEqual([{ setting: 'INFLUX_BUCKET', message: expect.stringContaining('create the database "fieldhook"') }]);
  });
});
