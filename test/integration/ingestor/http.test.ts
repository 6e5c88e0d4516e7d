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

describe(`a line InfluxDB ${influx.kind} refuses for good`, () => {
  const refusing = `refusal_${process.pid}`;
  let fx: IngestFixture;

  beforeAll(async () => {
    await influx.createDatabase(refusing);
    fx = createIngestFixture({ database: refusing });
  });
  afterAll(() => fx.close());

  it('goes to the dead letters with InfluxDB\'s status (400 on 1.8, 422 on 2.x), the rest of the batch is stored and readiness holds', async () => {
    const base = Date.parse('2026-11-27T10:00:00Z');
    // soil_moisture is a string in this shard already: a float for it is a field type conflict.
    await influx.write(refusing, `reading,device=other,farm=farm-a,field=north soil_moisture="wet" ${base - 1000}`);
    const { secret } = await fx.devices.add({ id: 'dl-1', farm: 'farm-a', field: 'north', kind: 'device' });
    await fx.ingestor.start();
    const batch = [
      ...Array.from({ length: 4 }, (_, i) => ({ ...reading('dl-1', i, base), values: { battery_voltage: 3.7 } })),
      reading('dl-1', 4, base),
    ];
    const res = await fx.app.inject({ method: 'POST', url: '/v1/readings', headers: { authorization: `Bearer ${secret}` }, payload: batch });
    expect(res.json()).toMatchObject({ accepted: 5 });

    const [letter] = await eventually(async () => {
      const letters = await fx.ingestor.spool.listDeadLetters(10);
      return letters.length > 0 ? letters : undefined;
    }, { what: 'the refused line dead-lettered' });
    expect(letter).toMatchObject({ status: influx.kind === '2.x' ? 422 : 400, reason: expect.stringContaining('field type conflict'), reading: expect.objectContaining({ device: 'dl-1' }) });
    await eventually(async () => (await countPoints(refusing)) === 4, { what: 'the other four readings stored' });
    await eventually(async () => (await fx.ingestor.spool.usage()).consumers.influx!.pendingReadings === 0, { what: 'the spool drained' });
    expect((await fx.ingestor.spool.listDeadLetters(10)).length).toBe(1);
    // A line refused for its content says nothing about the settings: InfluxDB stays ready.
    expect((await fx.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
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
