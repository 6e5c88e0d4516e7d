import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countPoints, createIngestFixture, reading, type IngestFixture } from '../../helpers/ingest-fixture.js';
import { eventually } from '../../helpers/eventually.js';
import { testInflux } from '../../helpers/test-influx.js';

const influx = testInflux();
const database = `http_${process.pid}`;

describe(`HTTP ingest into a real InfluxDB ${influx.kind}`, () => {
  let fx: IngestFixture;
  let secret: string;

  beforeAll(async () => {
    await influx.createDatabase(database);
    fx = createIngestFixture({ database });
    secret = (await fx.devices.add({ id: 'n-1', farm: 'farm-a', field: 'north', kind: 'device' })).secret;
    await fx.ingestor.start();
  });
  afterAll(() => fx.close());

  it('stores a batch as points with farm/field/device tags and the device time', async () => {
    const base = Date.parse('2026-11-26T10:00:00Z');
    const batch = Array.from({ length: 100 }, (_, i) => reading('n-1', i, base));
    const res = await fx.app.inject({ method: 'POST', url: '/v1/readings', headers: { authorization: `Bearer ${secret}` }, payload: batch });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ accepted: 100, duplicates: 0, refused: [] });

    await eventually(async () => (await countPoints(database)) === 100);
    const params = new URLSearchParams({
      q: `SELECT * FROM "reading" WHERE "device" = 'n-1' ORDER BY time ASC LIMIT 1`,
      db: database,
      epoch: 'ms',
    });
    const body = (await (await fetch(`${influx.url}/query?${params}`, { headers: influx.headers })).json()) as {
      results: { series: { columns: string[]; values: unknown[][] }[] }[];
    };
    const series = body.results[0]!.series[0]!;
    const row = Object.fromEntries(series.columns.map((c, i) => [c, series.values[0]![i]]));
    expect(row).toMatchObject({ time: base, farm: 'farm-a', field: 'north', device: 'n-1', soil_moisture: 0.25, battery_voltage: 3.7 });
  });

  it('acknowledges a re-sent batch as duplicates and writes nothing twice', async () => {
    const base = Date.parse('2026-11-26T12:00:00Z');
    const batch = Array.from({ length: 10 }, (_, i) => reading('n-1', 1000 + i, base));
    const first = await fx.app.inject({ method: 'POST', url: '/v1/readings', headers: { authorization: `Bearer ${secret}` }, payload: batch });
    const again = await fx.app.inject({ method: 'POST', url: '/v1/readings', headers: { authorization: `Bearer ${secret}` }, payload: batch });
    expect(first.json()).toMatchObject({ accepted: 10, duplicates: 0 });
    expect(again.statusCode).toBe(202);
    expect(again.json()).toMatchObject({ accepted: 0, duplicates: 10 });
    const where = `WHERE time >= ${base}ms AND time < ${base + 3_600_000}ms`;
    await eventually(async () => (await countPoints(database, where)) === 10);
  });

  it('reports readiness with InfluxDB reachable and the spool drained', async () => {
    const res = await fx.app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(200);
    expect(res.json().checks.map((c: { name: string }) => c.name)).toEqual(['influxdb', 'spool', 'mqtt']);
    const metrics = await fx.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/fieldhook_readings_accepted_total\{protocol="http"\} 110/);
    expect(metrics.body).toMatch(/fieldhook_readings_duplicate_total 10/);
  });
});

describe('correlation ids', () => {
  it('keeps a well-formed x-correlation-id from the client and replaces anything else', async () => {
    const { buildHostApp } = await import('../../../services/host/http-app.js');
    const { silentLogger } = await import('../../../services/shared/logger.js');
    const echo = { name: 'echo', routes: async (a: FastifyInstance) => void a.get('/echo', async (req) => ({ id: req.id })), start: async () => {}, stop: async () => {} };
    const app = buildHostApp([echo], { logger: silentLogger() });
    const kept = await app.inject({ method: 'GET', url: '/echo', headers: { 'x-correlation-id': 'sensor-batch-42' } });
    expect(kept.json()).toEqual({ id: 'sensor-batch-42' });
    expect(kept.headers['x-correlation-id']).toBe('sensor-batch-42');
    const replaced = await app.inject({ method: 'GET', url: '/echo', headers: { 'x-correlation-id': 'bad id\nwith newline' } });
    expect(replaced.json().id).toMatch(/^[0-9a-f-]{36}$/);
    await app.close();
  });
});
