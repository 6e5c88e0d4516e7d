import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { NormalizedReading } from '../../../../services/ingestor/reading.js';
import { createSqliteSpool } from '../../../../services/ingestor/spool/sqlite-spool.js';

const r = (device: string, ts: number, id?: string): NormalizedReading => ({
  device,
  farm: 'f',
  field: 'x',
  ts,
  values: { rssi: -50 },
  ...(id ? { id } : {}),
});
const CONSUMERS = ['influx', 'bus'];

describe('SQLite spool', () => {
  it('de-duplicates on (device, id), else (device, ts), across appends', async () => {
    const spool = createSqliteSpool({ path: ':memory:', consumers: CONSUMERS });
    const first = await spool.append({ correlationId: 'c1', readings: [r('a', 1, 'm1'), r('a', 2), r('b', 2)] });
    expect(first.stored).toEqual([true, true, true]);
    const again = await spool.append({ correlationId: 'c2', readings: [r('a', 99, 'm1'), r('a', 2), r('b', 3), r('b', 3)] });
    expect(again.stored).toEqual([false, false, true, false]);
    spool.close();
  });

  it('group-commits appends made in the same turn into one transaction each', async () => {
    const spool = createSqliteSpool({ path: ':memory:', consumers: CONSUMERS });
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => spool.append({ correlationId: `c${i}`, readings: [r('a', i)] })));
    expect(results.every((x) => x.stored[0])).toBe(true);
    const records = await spool.read('influx', 1000);
    expect(records.map((x) => x.correlationId)).toEqual(Array.from({ length: 50 }, (_, i) => `c${i}`));
    spool.close();
  });

  it('gives each consumer its own cursor and deletes only what all have passed', async () => {
    const spool = createSqliteSpool({ path: ':memory:', consumers: CONSUMERS });
    for (let i = 0; i < 5; i++) await spool.append({ correlationId: `c${i}`, readings: [r('a', i), r('a', i + 100)] });
    const influx = await spool.read('influx', 4);
    expect(influx).toHaveLength(2);
    await spool.commit('influx', influx.at(-1)!.seq);
    expect((await spool.usage()).consumers).toEqual({
      influx: { pendingReadings: 6, oldestAgeMs: expect.any(Number) },
      bus: { pendingReadings: 10, oldestAgeMs: expect.any(Number) },
    });
    const before = spool.pendingBytes();
    const bus = await spool.read('bus', 100);
    await spool.commit('bus', bus.at(-1)!.seq);
    expect(spool.pendingBytes()).toBeLessThan(before);
    expect((await spool.read('influx', 100)).length).toBe(3);
    spool.close();
  });

  it('prepares line protocol for InfluxDB and each reading’s bus JSON and topic for the bus, fresh readings only', async () => {
    const spool = createSqliteSpool({ path: ':memory:', consumers: CONSUMERS });
    await spool.append({ correlationId: 'c0', readings: [r('a', 1)] });
    const other = { ...r('b', 2), field: 'y' };
    await spool.append({ correlationId: 'c1', readings: [r('a', 1), r('a', 2, 'm'), other] });
    const [, second] = await spool.read('influx', 10);
    expect(second).toMatchObject({ correlationId: 'c1', count: 2 });
    expect(second!.data.split('\n')).toEqual(['reading,device=a,farm=f,field=x rssi=-50 2', 'reading,device=b,farm=f,field=y rssi=-50 2']);
    const [, bus] = await spool.read('bus', 10);
    expect(bus!.topics!.split('\n')).toEqual(['fieldhook/v1/farms/f/fields/x/readings', 'fieldhook/v1/farms/f/fields/y/readings']);
    expect(bus!.data.split('\n').map((line) => JSON.parse(line) as unknown)).toEqual([
      { device: 'a', farm: 'f', field: 'x', id: 'm', ts: new Date(2).toISOString(), values: { rssi: -50 }, correlation_id: 'c1' },
      { device: 'b', farm: 'f', field: 'y', ts: new Date(2).toISOString(), values: { rssi: -50 }, correlation_id: 'c1' },
    ]);
    expect(await spool.readingsOf(second!.seq)).toEqual([r('a', 2, 'm'), other]);
    spool.close();
  });

  it('resumes every cursor and the de-duplication memory after a reopen', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'spool-')), 'spool.db');
    const spool = createSqliteSpool({ path, consumers: CONSUMERS });
    for (let i = 0; i < 3; i++) await spool.append({ correlationId: `c${i}`, readings: [r('a', i)] });
    const [first] = await spool.read('influx', 1);
    await spool.commit('influx', first!.seq);
    spool.close();

    const reopened = createSqliteSpool({ path, consumers: CONSUMERS });
    expect((await reopened.read('influx', 10)).map((x) => x.correlationId)).toEqual(['c1', 'c2']);
    expect((await reopened.read('bus', 10)).map((x) => x.correlationId)).toEqual(['c0', 'c1', 'c2']);
    expect((await reopened.append({ correlationId: 'dup', readings: [r('a', 0)] })).stored).toEqual([false]);
    reopened.close();
  });

  it('returns a whole first record even when it is larger than the read limit', async () => {
    const spool = createSqliteSpool({ path: ':memory:', consumers: CONSUMERS });
    await spool.append({ correlationId: 'big', readings: Array.from({ length: 20 }, (_, i) => r('a', i)) });
    await spool.append({ correlationId: 'small', readings: [r('a', 999)] });
    const records = await spool.read('influx', 5);
    expect(records.map((x) => [x.correlationId, x.count])).toEqual([['big', 20]]);
    spool.close();
  });

  it('refuses a once-only key the second time and stores nothing then', async () => {
    const spool = createSqliteSpool({ path: ':memory:', consumers: CONSUMERS });
    const once = { device: 'a', key: 'w:msg_1' };
    expect((await spool.append({ correlationId: 'c', readings: [r('a', 1)], onceKey: once })).replayed).toBe(false);
    const replay = await spool.append({ correlationId: 'c', readings: [r('a', 2)], onceKey: once });
    expect(replay).toEqual({ stored: [false], replayed: true });
    expect((await spool.read('influx', 10)).map((x) => x.data)).toEqual(['reading,device=a,farm=f,field=x rssi=-50 1']);
    spool.close();
  });

  it('keeps dead letters with their reason and requeues them for InfluxDB only', async () => {
    const spool = createSqliteSpool({ path: ':memory:', consumers: CONSUMERS });
    await spool.addDeadLetters([{ correlationId: 'c', reading: r('a', 5), status: 400, reason: 'field type conflict' }]);
    expect(await spool.listDeadLetters(10)).toEqual([
      { id: 1, createdAt: expect.any(Number), correlationId: 'c', reading: r('a', 5), status: 400, reason: 'field type conflict' },
    ]);
    expect((await spool.usage()).deadLetters).toBe(1);
    expect(await spool.requeueDeadLetters()).toBe(1);
    const [requeued] = await spool.read('influx', 10);
    expect(requeued!.data).toBe('reading,device=a,farm=f,field=x rssi=-50 5');
    expect(await spool.readingsOf(requeued!.seq)).toEqual([r('a', 5)]);
    expect(await spool.read('bus', 10)).toEqual([]);
    expect((await spool.usage()).deadLetters).toBe(0);
    spool.close();
  });

  it('makes a dead letter from a record with the same content as the reading itself gives', async () => {
    const spool = createSqliteSpool({ path: ':memory:', consumers: CONSUMERS });
    const odd = { device: 'a', farm: 'f', field: 'x', id: 'm "1"\n', ts: 1_767_225_600_123, values: { soil_moisture: 0.1 + 0.2, rssi: -1e-7 } };
    await spool.append({ correlationId: 'c', readings: [r('a', 1), odd] });
    const [record] = await spool.read('influx', 10);
    const readings = await spool.readingsOf(record!.seq);
    expect(readings).toEqual([r('a', 1), odd]);
    await spool.addDeadLetters([{ correlationId: 'c', reading: readings[1]!, status: 400, reason: 'field type conflict' }]);
    const [letter] = await spool.listDeadLetters(10);
    // The JSON the spool kept for a dead letter before it stopped storing the readings twice.
    expect(JSON.stringify(letter!.reading)).toBe(
      '{"device":"a","farm":"f","field":"x","id":"m \\"1\\"\\n","ts":1767225600123,"values":{"soil_moisture":0.30000000000000004,"rssi":-1e-7}}',
    );
    spool.close();
  });

  it('reads the readings of records spooled by earlier versions from their stored JSON', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'spool-')), 'spool.db');
    createSqliteSpool({ path, consumers: CONSUMERS }).close();
    // Rows as earlier versions wrote them: the readings' JSON in `payload`, the bus column in
    // either of its forms (per-field messages with no topics, then each reading's bus JSON).
    const db = new Database(path);
    const insert = db.prepare(
      `INSERT INTO records (created_at, correlation_id, only_consumer, readings, bytes, payload, lines, bus, bus_topics)
       VALUES (0, ?, NULL, 1, 1, ?, ?, ?, ?)`,
    );
    const reading = (ts: number) => JSON.stringify({ device: 'a', farm: 'f', field: 'x', ts, values: { rssi: -50 } });
    insert.run('older', `[${reading(7)}]`, 'reading,device=a,farm=f,field=x rssi=-50 7', '[["fieldhook/v1/farms/f/fields/x/rssi","{}"]]', null);
    insert.run('old', `[${reading(8)}]`, 'reading,device=a,farm=f,field=x rssi=-50 8', '{"device":"a"}', 'fieldhook/v1/farms/f/fields/x/readings');
    db.close();

    const spool = createSqliteSpool({ path, consumers: CONSUMERS });
    const records = await spool.read('influx', 10);
    expect(records.map((x) => x.correlationId)).toEqual(['older', 'old']);
    expect(await spool.readingsOf(records[0]!.seq)).toEqual([r('a', 7)]);
    expect(await spool.readingsOf(records[1]!.seq)).toEqual([r('a', 8)]);
    spool.close();
  });

  it('forgets de-duplication keys older than the window', async () => {
    let now = 1_000_000;
    const spool = createSqliteSpool({ path: ':memory:', consumers: CONSUMERS, now: () => now });
    await spool.append({ correlationId: 'c', readings: [r('a', 1)] });
    now += 73 * 3_600_000;
    expect(await spool.pruneDedup(72 * 3_600_000)).toBe(1);
    expect((await spool.append({ correlationId: 'c', readings: [r('a', 1)] })).stored).toEqual([true]);
    spool.close();
  });
});
