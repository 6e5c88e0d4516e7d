import { createServer, type IncomingMessage, type Server } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createInfluxWriter } from '../../../services/ingestor/influx-writer.js';
import { createIngestMetrics } from '../../../services/ingestor/metrics.js';
import type { NormalizedReading } from '../../../services/ingestor/reading.js';
import { createSqliteSpool } from '../../../services/ingestor/spool/sqlite-spool.js';
import { createInfluxClient } from '../../../services/shared/influx.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { eventually } from '../../helpers/eventually.js';

/** A scripted stand-in for InfluxDB's write endpoint, on a loopback port: replies the real server will not give on demand. */
type Reply = { status: number; headers?: Record<string, string>; body?: string };
let server: Server | undefined;

async function fakeInflux(decide: (lines: string[], call: number) => Reply) {
  const calls: string[][] = [];
  server = createServer(async (req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    let body = Buffer.concat(chunks);
    if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
    const lines = body.toString().split('\n');
    calls.push(lines);
    const reply = decide(lines, calls.length);
    res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
    res.end(reply.body ?? (reply.status >= 300 ? JSON.stringify({ error: `status ${reply.status}` }) : ''));
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const address = server.address();
  return { url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, calls };
}

afterEach(async () => {
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = undefined;
});

const reading = (i: number, value = 3.7): NormalizedReading => ({ device: 'd', farm: 'f', field: 'x', ts: 1_700_000_000_000 + i, values: { battery_voltage: value } });

async function setup(url: string, readings: NormalizedReading[], batchLines = 5000) {
  const spool = createSqliteSpool({ path: ':memory:', consumers: ['influx', 'bus'] });
  await spool.append({ correlationId: 'corr', readings });
  const delays: number[] = [];
  const metrics = createIngestMetrics(new Registry());
  const writer = createInfluxWriter(
    {
      spool,
      influx: createInfluxClient({ url, token: '', org: 'o', bucket: 'b', timeoutMs: 2000 }),
      org: 'o',
      bucket: 'b',
      logger: silentLogger(),
      metrics,
      sleep: async (ms) => void delays.push(ms),
      random: () => 0.5,
    },
    { batchLines },
  );
  return { spool, writer, delays, metrics };
}

describe('InfluxDB writer', () => {
  it('writes in batches of at most batchLines, gzipped, and moves the cursor after success', async () => {
    const influx = await fakeInflux(() => ({ status: 204 }));
    const { spool, writer } = await setup(influx.url, Array.from({ length: 25 }, (_, i) => reading(i)), 10);
    writer.start();
    await eventually(async () => (await spool.usage()).consumers.influx!.pendingReadings === 0);
    await writer.stop();
    expect(influx.calls.map((c) => c.length)).toEqual([10, 10, 5]);
    expect(influx.calls[0]![0]).toBe('reading,device=d,farm=f,field=x battery_voltage=3.7 1700000000000');
    spool.close();
  });

  it('splits a batch InfluxDB finds too large (413) until it fits', async () => {
    const influx = await fakeInflux((lines) => ({ status: lines.length > 3 ? 413 : 204 }));
    const { spool, writer } = await setup(influx.url, Array.from({ length: 8 }, (_, i) => reading(i)));
    writer.start();
    await eventually(async () => (await spool.usage()).consumers.influx!.pendingReadings === 0);
    await writer.stop();
    const written = influx.calls.filter((c) => c.length <= 3).flat();
    expect(new Set(written).size).toBe(8);
    spool.close();
  });

  it('isolates a line InfluxDB refuses (400) into the dead-letter store and writes the rest', async () => {
    const influx = await fakeInflux((lines) => ({ status: lines.some((l) => l.includes('battery_voltage=9')) ? 400 : 204 }));
    const readings = Array.from({ length: 7 }, (_, i) => reading(i, i === 4 ? 9 : 3.7));
    const { spool, writer, metrics } = await setup(influx.url, readings);
    writer.start();
    await eventually(async () => (await spool.usage()).consumers.influx!.pendingReadings === 0);
    await writer.stop();
    const dead = await spool.listDeadLetters(10);
    expect(dead).toEqual([expect.objectContaining({ reading: readings[4], status: 400, correlationId: 'corr' })]);
    const accepted = new Set(influx.calls.filter((c) => !c.some((l) => l.includes('=9 '))).flat());
    expect(accepted.size).toBe(6);
    expect((await metrics.deadLettered.get()).values[0]!.value).toBe(1);
    spool.close();
  });

  it('finds the refused reading of a batch of several records, cut across a record, by its record and line', async () => {
    const influx = await fakeInflux((lines) => ({ status: lines.some((l) => l.includes('battery_voltage=9')) ? 400 : 204 }));
    const first = Array.from({ length: 5 }, (_, i) => reading(i));
    const second = Array.from({ length: 6 }, (_, i) => reading(10 + i, i === 3 ? 9 : 3.7));
    const { spool, writer } = await setup(influx.url, first, 4);
    await spool.append({ correlationId: 'second', readings: second });
    writer.start();
    await eventually(async () => (await spool.usage()).consumers.influx!.pendingReadings === 0);
    await writer.stop();
    expect(await spool.listDeadLetters(10)).toEqual([expect.objectContaining({ reading: second[3], status: 400, correlationId: 'second' })]);
    // Batches of at most 4 lines, and every other line written exactly once.
    expect(influx.calls.every((c) => c.length <= 4)).toBe(true);
    const written = influx.calls.filter((c) => !c.some((l) => l.includes('=9 '))).flat();
    expect(written).toHaveLength(10);
    expect(new Set(written).size).toBe(10);
    spool.close();
  });

  it('retries failures for as long as it takes, honouring Retry-After, and never drops', async () => {
    const influx = await fakeInflux((_lines, call) =>
      call === 1 ? { status: 503, headers: { 'retry-after': '7' } } : call < 5 ? { status: 500 } : { status: 204 },
    );
    const { spool, writer, delays } = await setup(influx.url, [reading(1)]);
    writer.start();
    await eventually(async () => (await spool.usage()).consumers.influx!.pendingReadings === 0);
    await writer.stop();
    expect(influx.calls).toHaveLength(5);
    // Retry-After first, then exponential backoff (random 0.5 = no jitter).
    expect(delays).toEqual([7000, 2000, 4000, 8000]);
    spool.close();
  });

  it('reports unhealthy while writes fail, so the spool absorbs the outage', async () => {
    const { spool, writer } = await setup('http://127.0.0.1:9', [reading(1)]);
    expect(writer.healthy()).toBe(true);
    writer.start();
    await eventually(() => !writer.healthy());
    await writer.stop();
    expect((await spool.usage()).consumers.influx!.pendingReadings).toBe(1);
    spool.close();
  });
});

describe('InfluxDB writer through a day-long outage', () => {
  it('keeps retrying for more than 24 h of backoff and then writes every line', async () => {
    const DAY_MS = 24 * 3_600_000;
    let waitedMs = 0;
    // Down until a simulated day of waiting has passed, then up.
    const influx = await fakeInflux(() => ({ status: waitedMs > DAY_MS ? 204 : 503 }));
    const { spool, writer, delays } = await setup(influx.url, Array.from({ length: 3 }, (_, i) => reading(i)));
    const sleepRecorded = delays.push.bind(delays);
    delays.push = (...ms: number[]) => {
      for (const m of ms) waitedMs += m;
      return sleepRecorded(...ms);
    };
    writer.start();
    await eventually(async () => (await spool.usage()).consumers.influx!.pendingReadings === 0);
    await writer.stop();
    expect(waitedMs).toBeGreaterThan(DAY_MS);
    expect(Math.max(...delays)).toBeLessThanOrEqual(60_000);
    expect(influx.calls.at(-1)).toHaveLength(3);
    spool.close();
  });
});
