import type { AddressInfo } from 'node:net';
import { HttpError, InfluxDB, Point } from '@influxdata/influxdb-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countPoints, createIngestFixture, type IngestFixture } from '../../helpers/ingest-fixture.js';
import { eventually } from '../../helpers/eventually.js';
import { testInflux } from '../../helpers/test-influx.js';

const influx = testInflux();
const database = `line_protocol_${process.pid}`;

/** The InfluxDB client's write API, pointed at fieldhook instead of InfluxDB. */
describe(`line protocol from @influxdata/influxdb-client into a real InfluxDB ${influx.kind}`, () => {
  let fx: IngestFixture;
  let secret: string;
  let url: string;

  beforeAll(async () => {
    await influx.createDatabase(database);
    fx = createIngestFixture({ database });
    secret = (await fx.devices.add({ id: 'lp-1', farm: 'farm-a', field: 'north', kind: 'device' })).secret;
    await fx.ingestor.start();
    await fx.app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(fx.app.server.address() as AddressInfo).port}`;
  });
  afterAll(() => fx.close());

  const points = (base: number) =>
    Array.from({ length: 20 }, (_, i) =>
      new Point('reading').floatField('battery_voltage', 3.7).floatField('soil_moisture', 0.25).timestamp(new Date(base + i * 1000)),
    );

  it('stores each point once, gzip included, and a retried batch is not stored twice', async () => {
    const base = Date.now() - 3_600_000;
    for (let attempt = 0; attempt < 2; attempt++) {
      const writer = new InfluxDB({ url, token: secret }).getWriteApi('any-org', 'any-bucket', 'ms', { gzipThreshold: attempt === 0 ? 1 : 1_000_000, maxRetries: 0 });
      writer.writePoints(points(base));
      await writer.close();
    }
    const where = `WHERE time >= ${base}ms AND time < ${base + 60_000}ms`;
    await eventually(async () => (await countPoints(database, where)) === 20);
    // Once the spool has nothing left for InfluxDB, nothing more can arrive: still 20.
    await eventually(async () => (await fx.ingestor.spool.usage()).consumers.influx!.pendingReadings === 0, { what: 'the spool drained' });
    expect(await countPoints(database, where)).toBe(20);
  });

  it('a body with a bad line: the good points are stored and the client gets 400 "partial write" naming the bad line', async () => {
    const base = Date.now() - 7_200_000;
    const writer = new InfluxDB({ url, token: secret }).getWriteApi('any-org', 'any-bucket', 'ms', { maxRetries: 0 });
    writer.writeRecords([
      `reading battery_voltage=3.6,soil_moisture=0.21 ${base}`,
      `cpu usage_idle=99 ${base + 1000}`,
      `reading battery_voltage=3.6,soil_moisture=0.22 ${base + 2000}`,
    ]);
    const error = (await writer.close().catch((e: unknown) => e)) as HttpError;
    expect(error).toBeInstanceOf(HttpError);
    expect(error.statusCode).toBe(400);
    expect(error.json).toMatchObject({ code: 'invalid', message: expect.stringMatching(/^partial write: 2 points written, 1 dropped: line 2: field usage_idle/) });
    await eventually(async () => (await countPoints(database, `WHERE time >= ${base}ms AND time <= ${base + 2000}ms`)) === 2);
  });

  it('a bad point is refused with the InfluxDB error shape the client reads', async () => {
    const writer = new InfluxDB({ url, token: secret }).getWriteApi('any-org', 'any-bucket', 'ms', { maxRetries: 0 });
    writer.writeRecord('cpu usage_idle=99');
    const error = await writer.close().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(HttpError);
    expect((error as HttpError).statusCode).toBe(400);
    expect((error as HttpError).json).toMatchObject({ code: 'invalid', message: expect.stringContaining('line 1: field usage_idle') });
  });

  it('refuses a line whose two fields name one quantity (`soil moisture=…,soil_moisture=…`) instead of keeping the last', async () => {
    const writer = new InfluxDB({ url, token: secret }).getWriteApi('any-org', 'any-bucket', 'ms', { maxRetries: 0 });
    writer.writeRecord(`soil moisture=0.2,soil_moisture=0.3 ${Date.now() - 60_000}`);
    const error = (await writer.close().catch((e: unknown) => e)) as HttpError;
    expect(error).toBeInstanceOf(HttpError);
    expect(error.statusCode).toBe(400);
    expect(error.json).toMatchObject({ code: 'invalid', message: expect.stringContaining('two fields give soil_moisture') });
  });

  it('an unknown token is 401 unauthorized', async () => {
    const writer = new InfluxDB({ url, token: 'not-a-secret' }).getWriteApi('o', 'b', 'ms', { maxRetries: 0 });
    writer.writeRecord(`reading soil_moisture=0.2 ${Date.now()}`);
    const error = (await writer.close().catch((e: unknown) => e)) as HttpError;
    expect(error.statusCode).toBe(401);
    expect(error.json).toMatchObject({ code: 'unauthorized' });
  });
});
