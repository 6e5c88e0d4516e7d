/**
 * The provisioned Grafana dashboards work against what fieldhook really writes and exposes: after
 * a short run of the whole pipeline (readings over HTTP and MQTT, a refused one, a line InfluxDB refuses
 * for good, advice delivered to one subscriber and retried for another, an irrigation recorded),
 * every panel, annotation and variable query, its Grafana variables and time macros filled in,
 * answers with data from the real InfluxDB (InfluxQL on /query, sent with the credentials the
 * provisioned data source gives Grafana) and from a real Prometheus scraping the run's `/metrics`.
 * Runs against InfluxDB 1.8, and 2.7 in the integration-influx2 project (with a read-only token
 * for Grafana).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrometheus, type RunningPrometheus } from '../../../infra/harness/prometheus.js';
import { PIPELINE_CONFIG } from '../../../services/host/config.js';
import { startFieldhook, type RunningFieldhook } from '../../../services/host/fieldhook.js';
import { createSqliteFieldProfiles, openPredictorDb } from '../../../services/predictor/sqlite-predictor-store.js';
import { createSqliteDeviceRepository } from '../../../services/registry/sqlite-devices.js';
import { deviceReadingsTopic } from '../../../services/shared/bus/topics.js';
import { loadConfig } from '../../../services/shared/config.js';
import { INSTANCE_ID_FILE } from '../../../services/shared/instance.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { eventually } from '../../helpers/eventually.js';
import { asEnvironment } from '../../helpers/settings.js';
import { testInflux } from '../../helpers/test-influx.js';
import { startReceiver, verify, type Receiver } from '../dispatcher/helpers.js';
import {
  DATASOURCE_DIR,
  expand,
  loadDashboards,
  provisionedDataSources,
  provisionedInfluxHeaders,
  queriesOf,
  runInfluxQL,
  runPromQL,
  variableValues,
  type Answer,
  type Dashboard,
  type DashboardQuery,
  type DataSourceType,
  type QueryContext,
} from './grafana-queries.js';

const HOUR = 3_600_000;
const ADMIN_TOKEN = 'grafana-dashboards-admin-token-0123';
const FARM = `grafana-${process.pid}`;
/** A field past RAW (loam, θFC 0.25, at θ 0.15), so the predictor advises irrigation. */
const NORTH = { field: 'north', device: `north-${process.pid}` };
/** A field whose only node stopped reporting ten hours ago: a silent device. */
const SOUTH = { field: 'south', device: `south-${process.pid}` };

const dashboards = loadDashboards();

const influx = testInflux();

describe(`the provisioned Grafana dashboards (InfluxDB ${influx.kind})`, () => {
  const influxUrl = influx.url;
  /** What Grafana reads with: a read-only token on 2.x, nothing on the 1.8 without authentication. */
  let grafanaToken = '';
  /** The headers the provisioned data source makes Grafana send with that token. */
  let grafana: Record<string, string> = {};
  const database = `grafana_${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'fh-grafana-'));
  const hourNow = Math.floor(Date.now() / HOUR) * HOUR;
  let pipeline: RunningFieldhook | undefined;
  let prometheus: RunningPrometheus | undefined;
  let healthy: Receiver;
  let failing: Receiver;
  let startedAt = 0;
  const secrets: Record<string, string> = {};

  const values = (ts: number) => {
    const hour = new Date(ts).getUTCHours();
    return {
      soil_moisture: 0.15,
      air_temperature: 18 + (hour >= 6 && hour <= 17 ? 8 : 0),
      relative_humidity: 55,
      wind_speed: 2,
      solar_radiation: hour >= 6 && hour <= 17 ? 550 : 0,
      rainfall: hour === 3 ? 1.2 : 0,
      battery_voltage: 3.9 - (hourNow - ts) / HOUR / 10_000,
      rssi: -90 - (hour % 5),
    };
  };
  const history = (device: string, fromH: number, toH: number) => {
    const out = [];
    for (let h = fromH; h <= toH; h++) {
      const ts = hourNow + h * HOUR;
      out.push({ device, id: `${device}-${ts}`, ts: new Date(ts).toISOString(), values: values(ts) });
    }
    return out;
  };
  const post = (device: string, body: unknown) =>
    fetch(`${pipeline!.url}/v1/readings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secrets[device]}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  /** Publish readings as the device's node does over MQTT (QoS 1: resolves on the PUBACK, once durable). */
  const publish = async (device: string, readings: ReturnType<typeof history>) => {
    const client = await connectAsync(pipeline!.mqttUrl, { username: device, password: secrets[device]!, clientId: device, protocolVersion: 4, reconnectPeriod: 0 });
    try {
      await client.publishAsync(deviceReadingsTopic(device), JSON.stringify(readings.map(({ id, ts, values: v }) => ({ id, ts, values: v }))), { qos: 1 });
    } finally {
      await client.endAsync();
    }
  };
  const promInstant = async (query: string): Promise<number[]> => {
    const body = (await (await fetch(`${prometheus!.url}/api/v1/query?${new URLSearchParams({ query })}`)).json()) as { data: { result: { value: [number, string] }[] } };
    return body.data.result.map((r) => Number(r.value[1]));
  };
  /** Samples Prometheus holds for each series of a range selector. */
  const samplesPerSeries = async (selector: string): Promise<number[]> => {
    const body = (await (await fetch(`${prometheus!.url}/api/v1/query?${new URLSearchParams({ query: selector })}`)).json()) as { data: { result: { values: unknown[] }[] } };
    return body.data.result.map((r) => r.values.length);
  };

  beforeAll(async () => {
    await influx.createDatabase(database);
    if (influx.kind === '2.x') grafanaToken = await influx.createToken(database, ['read']);
    grafana = provisionedInfluxHeaders({ FIELDHOOK_GRAFANA_INFLUX_TOKEN: grafanaToken });
    const devices = createSqliteDeviceRepository(join(dir, 'registry.db'));
    for (const f of [NORTH, SOUTH]) secrets[f.device] = (await devices.add({ id: f.device, farm: FARM, field: f.field, kind: 'device' })).secret;
    devices.close();
    const db = openPredictorDb(join(dir, 'predictor.db'));
    await createSqliteFieldProfiles(db).add({
      farm: FARM, field: NORTH.field, crop: 'tomato', soil: 'loam', sowingDate: new Date(hourNow - 60 * 24 * HOUR).toISOString().slice(0, 10),
      efficiency: 0.8, latitudeDeg: 45, longitudeDeg: 0, elevationM: 50,
    });
    db.close();
    healthy = await startReceiver();
    failing = await startReceiver(() => ({ status: 503 }));

    const env = {
      DATA_DIR: dir, HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', MQTT_LISTEN_HOST: '127.0.0.1', MQTT_LISTEN_PORT: '0', MQTT_TLS_PORT: '0',
      ...influx.settings(database), ADMIN_TOKEN, WEBHOOK_ALLOW_CIDRS: '{"*":["127.0.0.1/32"]}', LOG_LEVEL: 'silent',
      // A round every second: the predictor's own panels see several between two scrapes.
      PREDICT_INTERVAL_MS: '1000',
    };
    const config = loadConfig(PIPELINE_CONFIG, asEnvironment(env));
    startedAt = Date.now();
    pipeline = await startFieldhook(config, silentLogger(), { handleSignals: false });
    prometheus = await startPrometheus({ dir: join(dir, 'prometheus'), targets: [{ job: 'fieldhook', address: new URL(pipeline.url).host }] });

    for (const [name, receiver] of [['healthy', healthy], ['failing', failing]] as const) {
      const res = await fetch(`${pipeline.url}/v1/subscriptions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ url: receiver.url, events: ['irrigation.*', 'sensor.stale'], farms: [FARM] }),
      });
      expect(res.status, name).toBe(201);
      secrets[name] = (await res.json() as { secret: string }).secret;
    }

    // Someone else's writer stored leaf_wetness as a string: InfluxDB will refuse fieldhook's
    // float for good (field type conflict), a 400 that ends in the dead-letter store.
    const conflictTs = hourNow - 2 * HOUR;
    await influx.write(database, `reading,device=${NORTH.device},farm=${FARM},field=${NORTH.field} leaf_wetness="wet" ${conflictTs}`);

    // First half of the history, then a scrape: histograms and counters must move between two
    // scrapes for a rate (and a quantile of rates) to be drawn.
    // The north node sends over HTTP and MQTT, the south one over HTTP.
    expect((await post(NORTH.device, history(NORTH.device, -72, -55))).status).toBe(202);
    await publish(NORTH.device, history(NORTH.device, -54, -37));
    expect((await post(SOUTH.device, history(SOUTH.device, -72, -10))).status).toBe(202);
    await eventually(async () => (await promInstant('fieldhook_influx_lines_written_total'))[0]! >= 18 * 2 + 63, { timeoutMs: 30_000, intervalMs: 100, what: 'a scrape after the first writes' });

    await publish(NORTH.device, history(NORTH.device, -36, -19));
    expect((await post(NORTH.device, history(NORTH.device, -18, 0))).status).toBe(202);
    const refused = await post(NORTH.device, { device: NORTH.device, id: 'implausible-1', ts: new Date(hourNow).toISOString(), values: { soil_moisture: 5 } });
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(refused.status).toBeLessThan(500);
    expect((await post(NORTH.device, { device: NORTH.device, id: 'leaf-1', ts: new Date(conflictTs).toISOString(), values: { leaf_wetness: 80 } })).status).toBe(202);
    const advice = await eventually(
      () => healthy.received.map((r) => verify(secrets.healthy!, r)).find((e) => e.type === 'irrigation.recommended'),
      { timeoutMs: 30_000, what: 'a signed irrigation.recommended delivery' },
    );
    expect(advice.data).toMatchObject({ farm: FARM, field: NORTH.field });
    // The farmer reports the water through the API; fieldhook forwards it to the `irrigation` measurement.
    const irrigation = await fetch(`${pipeline.url}/v1/irrigations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json', 'idempotency-key': `grafana-${process.pid}` },
      body: JSON.stringify({ farm: FARM, field: NORTH.field, depth_mm: 18, start: new Date(hourNow - 32 * HOUR).toISOString(), end: new Date(hourNow - 30 * HOUR).toISOString() }),
    });
    expect(irrigation.status, await irrigation.clone().text()).toBeLessThan(300);
    await eventually(async () => (await runInfluxQL(influxUrl, database, 'SELECT "depth_mm" FROM "irrigation"', grafana)).values > 0, { timeoutMs: 30_000, what: 'the irrigation record in InfluxDB' });
    await eventually(() => failing.received.length >= 1, { timeoutMs: 30_000, what: 'a failed delivery attempt' });
    await eventually(async () => /^fieldhook_dead_letters 1$/m.test(await (await fetch(`${pipeline!.url}/metrics`)).text()), { timeoutMs: 30_000, what: 'the refused line in the dead-letter store' });
    // Every fieldhook series scraped at least five times: more than the four scrapes a
    // $__rate_interval spans, so each counter and histogram has a rate to draw.
    await eventually(async () => Math.min(...(await samplesPerSeries('{job="fieldhook",__name__=~"fieldhook_.+"}[1h]'))) >= 5, {
      timeoutMs: 30_000, intervalMs: 100, what: 'five scrapes of every fieldhook series',
    });
  }, 180_000);

  afterAll(async () => {
    await prometheus?.stop();
    await pipeline?.stop();
    await healthy?.close();
    await failing?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Grafana's view: the last four days for InfluxDB, the run for Prometheus, everything selected. */
  const context = (d: Dashboard, type: DataSourceType, variables: QueryContext['variables'] = {}): QueryContext => {
    const to = Date.now();
    const all: QueryContext['variables'] = Object.fromEntries(
      d.templating.list.map((v) => [v.name, v.type === 'custom' ? [String(v.current?.value)] : 'all'] as const),
    );
    return {
      from: type === 'influxdb' ? to - 4 * 24 * HOUR : startedAt,
      to,
      maxDataPoints: 1_000,
      // The test's Prometheus scrapes every second; the provisioned data source says 15 s for compose.
      minIntervalMs: type === 'prometheus' ? prometheus!.scrapeIntervalMs : 0,
      variables: { ...all, ...variables },
      definitions: d.templating.list,
    };
  };
  const run = (q: DashboardQuery, ctx: QueryContext): Promise<Answer> => {
    const type = q.datasource.type as DataSourceType;
    const text = expand(q.text, type, ctx);
    return type === 'influxdb' ? runInfluxQL(influxUrl, database, text, grafana) : runPromQL(prometheus!.url, text, ctx);
  };

  it('are three (fleet, field water, pipeline), every query on a provisioned data source of its type', () => {
    expect(dashboards.map((d) => d.uid).sort()).toEqual(['fieldhook-fields', 'fieldhook-fleet', 'fieldhook-pipeline']);
    const provisioned = provisionedDataSources();
    expect([...provisioned.entries()].sort()).toEqual([['fieldhook-influxdb', 'influxdb'], ['fieldhook-prometheus', 'prometheus']]);
    for (const d of dashboards) {
      const refs = [...queriesOf(d).map((q) => q.datasource), ...d.templating.list.flatMap((v) => (v.datasource ? [v.datasource] : []))];
      for (const ref of refs) expect(provisioned.get(ref.uid), `${d.file}: ${ref.uid}`).toBe(ref.type);
    }
    // Field water and fleet read InfluxDB only; the pipeline reads Prometheus only.
    const types = (uid: string) => new Set(queriesOf(dashboards.find((d) => d.uid === uid)!).map((q) => q.datasource.type));
    expect(types('fieldhook-pipeline')).toEqual(new Set(['prometheus']));
    expect(types('fieldhook-fleet')).toEqual(new Set(['influxdb']));
    expect(types('fieldhook-fields')).toEqual(new Set(['influxdb']));
    // $__rate_interval spans four scrapes only if the data source knows the real scrape interval.
    const scrape = /scrape_interval:\s*(\S+)/.exec(readFileSync(new URL('../../../infra/compose/prometheus/prometheus.yml', import.meta.url), 'utf8'))?.[1];
    const timeInterval = /timeInterval:\s*(\S+)/.exec(readFileSync(new URL('prometheus.yml', DATASOURCE_DIR), 'utf8'))?.[1];
    expect(scrape).toBeDefined();
    expect(timeInterval).toBe(scrape);
  });

  it('read with the credentials the provisioned data source sends (`Authorization: Token …`), which this InfluxDB takes', async () => {
    expect(grafana).toEqual({ authorization: `Token ${grafanaToken}`.trim() });
    const q = 'SELECT count("soil_moisture") FROM "reading"';
    expect(await runInfluxQL(influxUrl, database, q, grafana)).toMatchObject({ series: 1, values: 1 });
    if (influx.kind === '2.x') {
      // Without FIELDHOOK_GRAFANA_INFLUX_TOKEN, 2.x refuses the query: the data source needs it.
      expect((await runInfluxQL(influxUrl, database, q, provisionedInfluxHeaders({}))).error).toMatch(/^HTTP 401 /);
    }
  });

  it('show the outbox once, not once per instance: instances sharing PostgreSQL all report it', () => {
    // Gauges of the shared outbox (the dispatcher's), not of the process that exports them.
    const shared = ['fieldhook_webhook_backlog', 'fieldhook_webhook_oldest_pending_age_seconds', 'fieldhook_webhook_endpoints_disabled'];
    const pipeline = queriesOf(dashboards.find((d) => d.uid === 'fieldhook-pipeline')!);
    for (const metric of shared) {
      const uses = pipeline.filter((q) => q.text.includes(metric));
      expect(uses.length, metric).toBeGreaterThan(0);
      for (const q of uses) expect(q.text, `${q.source}: ${metric}`).toMatch(new RegExp(`^max( by \\(subscription\\) )?\\(${metric}\\{`));
    }
  });

  it("offer the run's farm, fields, devices and fieldhook instance in their template variables", async () => {
    const urls = { influx: influxUrl, database, prometheus: prometheus!.url, influxHeaders: grafana };
    const offered: Record<string, string[]> = {};
    for (const d of dashboards) {
      for (const v of d.templating.list) {
        const values = await variableValues(v, urls, context(d, v.datasource?.type === 'prometheus' ? 'prometheus' : 'influxdb'));
        expect(values.length, `${d.file}: $${v.name}`).toBeGreaterThan(0);
        offered[`${d.uid}.${v.name}`] = values.sort();
      }
    }
    expect(offered).toMatchObject({
      'fieldhook-fleet.farm': [FARM],
      'fieldhook-fleet.field': [NORTH.field, SOUTH.field],
      'fieldhook-fleet.device': [NORTH.device, SOUTH.device].sort(),
      'fieldhook-fields.field': [NORTH.field, SOUTH.field],
      'fieldhook-pipeline.instance': [new URL(pipeline!.url).host],
    });
  });

  it('find the fieldhook instance id under instance_id once scraped, next to the address Prometheus calls instance', async () => {
    const id = readFileSync(join(dir, INSTANCE_ID_FILE), 'utf8').trim();
    const query = `fieldhook_instance_info{instance_id="${id}"}`;
    const body = (await (await fetch(`${prometheus!.url}/api/v1/query?${new URLSearchParams({ query })}`)).json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    expect(body.data.result).toEqual([{
      metric: { __name__: 'fieldhook_instance_info', instance_id: id, instance: new URL(pipeline!.url).host, job: 'fieldhook' },
      value: [expect.any(Number), '1'],
    }]);
  });

  it('answer every panel and annotation query with data, with All selected as Grafana starts', async () => {
    const failures: string[] = [];
    let count = 0;
    for (const d of dashboards) {
      for (const q of queriesOf(d)) {
        count++;
        const answer = await run(q, context(d, q.datasource.type as DataSourceType));
        if (answer.error || answer.values === 0) failures.push(`${d.file} ${q.source}: ${answer.error ?? 'no data'}\n  ${q.text}`);
      }
    }
    expect(failures).toEqual([]);
    expect(count).toBeGreaterThanOrEqual(35);
  });

  it('draw the advice, the irrigation record, the silent device and the refusal code where a user looks for them', async () => {
    const find = (uid: string, source: string) => {
      const d = dashboards.find((x) => x.uid === uid)!;
      const q = queriesOf(d).find((x) => x.source.startsWith(source));
      if (!q) throw new Error(`${uid}: no ${source}`);
      return { d, q };
    };
    const influxRows = async (uid: string, source: string) => {
      const { d, q } = find(uid, source);
      const res = await fetch(`${influxUrl}/query?${new URLSearchParams({ q: expand(q.text, 'influxdb', context(d, 'influxdb')), db: database, epoch: 'ms' })}`, { headers: grafana });
      const body = (await res.json()) as { results: { series?: { tags?: Record<string, string>; columns: string[]; values: unknown[][] }[] }[] };
      return (body.results[0]!.series ?? []).flatMap((s) => s.values.map((row) => ({ ...s.tags, ...Object.fromEntries(s.columns.map((c, i) => [c, row[i]])) })));
    };
    expect(await influxRows('fieldhook-fields', 'annotation "Advice"')).toContainEqual(expect.objectContaining({ event: 'irrigation.recommended', field: NORTH.field }));
    expect(await influxRows('fieldhook-fields', 'annotation "Irrigation"')).toEqual([expect.objectContaining({ time: hourNow - 30 * HOUR, depth_mm: 18, field: NORTH.field, source: 'api', who: 'admin' })]);
    expect((await influxRows('fieldhook-fleet', 'panel "Silent devices" A')).map((r) => r.device)).toEqual([SOUTH.device]);
    const lastSeen = await influxRows('fieldhook-fleet', 'panel "Last seen"');
    expect(lastSeen.find((r) => r.device === NORTH.device)?.time).toBe(hourNow);
    expect(lastSeen.find((r) => r.device === SOUTH.device)?.time).toBe(hourNow - 10 * HOUR);

    const refusals = await fetch(`${prometheus!.url}/api/v1/query?${new URLSearchParams({ query: 'fieldhook_readings_refused_total' })}`);
    const codes = ((await refusals.json()) as { data: { result: { metric: { code: string } }[] } }).data.result.map((r) => r.metric.code);
    expect(codes).toEqual([expect.stringMatching(/^FH_ERR_/)]);
  });

  it('run every query with one farm, field and device selected', async () => {
    const failures: string[] = [];
    for (const d of dashboards) {
      for (const q of queriesOf(d)) {
        const type = q.datasource.type as DataSourceType;
        const selected = type === 'influxdb' ? { farm: [FARM], field: [NORTH.field], device: [NORTH.device] } : { instance: [new URL(pipeline!.url).host] };
        const ctx = context(d, type, Object.fromEntries(Object.entries(selected).filter(([k]) => d.templating.list.some((v) => v.name === k))));
        const answer = await run(q, ctx);
        if (answer.error) failures.push(`${d.file} ${q.source}: ${answer.error}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('would catch a panel that names a measurement, field or metric fieldhook does not write', async () => {
    const all = dashboards.flatMap((d) => queriesOf(d).map((q) => ({ d, q })));
    const mutate = (needle: string, replacement: string) => {
      const hit = all.find(({ q }) => q.text.includes(needle));
      if (!hit) throw new Error(`no query uses ${needle}`);
      return { d: hit.d, q: { ...hit.q, text: hit.q.text.replaceAll(needle, replacement) } };
    };
    for (const { d, q } of [
      mutate('"soil_moisture"', '"soil_moist"'),
      mutate('FROM "recommendation"', 'FROM "recommendations"'),
      mutate('fieldhook_spool_depth_readings', 'fieldhook_spool_depth'),
      mutate('fieldhook_webhook_deliveries_total', 'fieldhook_deliveries_total'),
    ]) {
      const answer = await run(q, context(d, q.datasource.type as DataSourceType));
      expect(answer.values, q.text).toBe(0);
    }
  });
});
