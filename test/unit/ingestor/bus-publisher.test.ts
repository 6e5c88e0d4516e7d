import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createBusPublisher, type BusPublisher } from '../../../services/ingestor/bus-publisher.js';
import { createIngestMetrics } from '../../../services/ingestor/metrics.js';
import type { NormalizedReading } from '../../../services/ingestor/reading.js';
import { createSqliteSpool } from '../../../services/ingestor/spool/sqlite-spool.js';
import { BUS_CONSUMER, INFLUX_CONSUMER, type Spool } from '../../../services/ingestor/spool/spool.js';
import type { FieldReadings } from '../../../services/shared/bus/index.js';
import type { LocalReadings } from '../../../services/shared/bus/local-readings.js';
import { fieldReadingsTopic } from '../../../services/shared/bus/topics.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { eventually } from '../../helpers/eventually.js';

const T0 = Date.UTC(2026, 6, 6, 10);
const reading = (field: string, minute: number): NormalizedReading => ({
  device: `n-${field}`,
  farm: 'f1',
  field,
  id: `${field}-${minute}`,
  ts: T0 + minute * 60_000,
  values: { soil_moisture: 0.2 + minute / 1000 },
});

/**
 * A predictor in this process that owns `owned` and records what it took (`handedBack`: the
 * hand-back after a restart, marked `back`, and when it was over); `refuse` makes take fail.
 */
function localPredictor(owned: string[]) {
  const taken: { key: string; ts: number[]; back?: true }[] = [];
  const calls: string[] = [];
  let refuse = false;
  let refusals = 0;
  const local: LocalReadings = {
    owns: (key) => owned.includes(key),
    async take(batch: ReadonlyMap<string, FieldReadings>) {
      if (refuse && ++refusals) throw new Error('stopping');
      for (const [key, entry] of batch) taken.push({ key, ts: entry.readings.map((r) => r.ts) });
    },
    expectHandBack: () => void calls.push('expect'),
    async handBack(batch: ReadonlyMap<string, FieldReadings>) {
      for (const [key, entry] of batch) taken.push({ key, ts: entry.readings.map((r) => r.ts), back: true });
    },
    handedBack: () => void calls.push(`over after ${taken.length}`),
  };
  return { local, taken, calls, refuse: (on: boolean) => (refuse = on), refusals: () => refusals };
}

describe('the bus cursor: a predictor in this process is fed directly, the broker carries the other fields', () => {
  let dir: string;
  let spool: Spool | undefined;
  let publisher: BusPublisher | undefined;
  afterEach(async () => {
    await publisher?.stop();
    spool?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const open = () => createSqliteSpool({ path: join(dir, 'spool.db'), consumers: [INFLUX_CONSUMER, BUS_CONSUMER] });
  const start = (s: Spool, local: LocalReadings | undefined, published: [string, string][], prepared?: () => Promise<void>) => {
    const p = createBusPublisher(
      { spool: s, local, publish: async (topic, payload) => void published.push([topic, payload]), logger: silentLogger(), metrics: createIngestMetrics(new Registry()) },
      { idlePollMs: 20, retryDelayMs: 20 },
    );
    // As the ingestor starts it: the hand-back pinned before the InfluxDB writer moves.
    void p.prepare().then(async () => {
      await prepared?.();
      p.start();
    });
    return p;
  };

  it('after a restart, hands its predictor again what the cursor had handed over and InfluxDB does not have yet, before anything new, even as the writer moves on', async () => {
    dir = mkdtempSync(join(tmpdir(), 'fh-bus-'));
    spool = open();
    const published: [string, string][] = [];
    // Before the restart: three records, all handed over on the bus; InfluxDB has the first only.
    await spool.append({ readings: [reading('north', 1)], correlationId: 'c1' });
    await spool.append({ readings: [reading('north', 2), reading('south', 2)], correlationId: 'c2' });
    await spool.append({ readings: [reading('north', 3)], correlationId: 'c3' });
    const [first] = await spool.read(INFLUX_CONSUMER, 1);
    await spool.commit(INFLUX_CONSUMER, first!.seq);
    const handed = await spool.read(BUS_CONSUMER, 100);
    await spool.commit(BUS_CONSUMER, handed.at(-1)!.seq);
    // After it: one new record, and a predictor that rebuilt its windows from InfluxDB.
    await spool.append({ readings: [reading('north', 4)], correlationId: 'c4' });
    const predictor = localPredictor(['f1/north']);
    // The InfluxDB writer, started after the pin, writes everything before the hand-back reads it:
    // the records stay until they are handed back.
    publisher = start(spool, predictor.local, published, async () => {
      const unwritten = await spool!.read(INFLUX_CONSUMER, 100);
      await spool!.commit(INFLUX_CONSUMER, unwritten.at(-1)!.seq);
    });
    await eventually(async () => (await spool!.usage()).consumers[BUS_CONSUMER]!.pendingReadings === 0 && predictor.taken.length === 2, { what: 'bus cursor past every record' });
    // Handed back first (applied without evaluating, oldest first as stored), then the new record.
    expect(predictor.taken.map((t) => [t.key, t.ts.map((ts) => (ts - T0) / 60_000), t.back ?? false])).toEqual([
      ['f1/north', [2, 3], true],
      ['f1/north', [4], false],
    ]);
    expect(predictor.calls).toEqual(['expect', 'over after 1']);
    // The other field's readings were on the broker before the restart: not published again.
    expect(published).toEqual([]);
    // Handed back, they are let go: deleted once both cursors have passed them.
    expect((await spool.usage()).pendingBytes).toBe(0);
  });

  it('hands the fields it evaluates to the predictor, one message per other field to the broker, then moves the cursor', async () => {
    dir = mkdtempSync(join(tmpdir(), 'fh-bus-'));
    spool = open();
    const predictor = localPredictor(['f1/north']);
    const published: [string, string][] = [];
    await spool.append({ readings: [reading('north', 1), reading('south', 1), reading('north', 2)], correlationId: 'c1' });
    await spool.append({ readings: [reading('south', 2)], correlationId: 'c2' });
    publisher = start(spool, predictor.local, published);

    await eventually(async () => (await spool!.usage()).consumers[BUS_CONSUMER]!.pendingReadings === 0, { what: 'bus cursor past every record' });
    expect(predictor.taken.flatMap((t) => t.ts.map((ts) => [t.key, ts]))).toEqual([
      ['f1/north', T0 + 60_000],
      ['f1/north', T0 + 120_000],
    ]);
    // The broker never sees the predictor's own field; the other arrives as one message of both records.
    expect(published.map(([topic]) => topic)).toEqual([fieldReadingsTopic('f1', 'south')]);
    expect((JSON.parse(published[0]![1]) as { id: string; correlation_id: string }[]).map((r) => [r.id, r.correlation_id])).toEqual([
      ['south-1', 'c1'],
      ['south-2', 'c2'],
    ]);
  });

  it('without a predictor in this process every field goes to the broker', async () => {
    dir = mkdtempSync(join(tmpdir(), 'fh-bus-'));
    spool = open();
    const published: [string, string][] = [];
    await spool.append({ readings: [reading('north', 1), reading('south', 1)], correlationId: 'c1' });
    publisher = start(spool, undefined, published);
    await eventually(() => published.length === 2, { what: 'two messages' });
    expect(published.map(([topic]) => topic).sort()).toEqual([fieldReadingsTopic('f1', 'north'), fieldReadingsTopic('f1', 'south')]);
  });

  it('publishes records spooled by an earlier version (one JSON message per field) as before', async () => {
    dir = mkdtempSync(join(tmpdir(), 'fh-bus-'));
    open().close();
    // What an earlier version left behind: the bus column a JSON array of [topic, payload], no topics column value.
    const raw = new Database(join(dir, 'spool.db'));
    const south = [{ device: 'n-south', farm: 'f1', field: 'south', id: 'old-1', ts: new Date(T0).toISOString(), values: { soil_moisture: 0.2 }, correlation_id: 'c0' }];
    raw
      .prepare('INSERT INTO records (created_at, correlation_id, only_consumer, readings, bytes, payload, lines, bus) VALUES (?, ?, NULL, 1, 10, ?, ?, ?)')
      .run(T0, 'c0', '[]', 'x', JSON.stringify([[fieldReadingsTopic('f1', 'south'), JSON.stringify(south)]]));
    raw.close();
    spool = open();
    await spool.append({ readings: [reading('south', 1)], correlationId: 'c1' });
    const published: [string, string][] = [];
    publisher = start(spool, undefined, published);
    await eventually(async () => (await spool!.usage()).consumers[BUS_CONSUMER]!.pendingReadings === 0, { what: 'bus cursor past both records' });
    expect(published.map(([topic]) => topic)).toEqual([fieldReadingsTopic('f1', 'south')]);
    expect((JSON.parse(published[0]![1]) as { id: string }[]).map((r) => r.id)).toEqual(['old-1', 'south-1']);
  });

  it('readings the predictor did not take stay behind the cursor and are handed over again after a restart', async () => {
    dir = mkdtempSync(join(tmpdir(), 'fh-bus-'));
    spool = open();
    const first = localPredictor(['f1/north']);
    first.refuse(true);
    await spool.append({ readings: [reading('north', 1), reading('north', 2)], correlationId: 'c1' });
    publisher = start(spool, first.local, []);
    // Rounds fail while the predictor refuses: the cursor stays where it was.
    await eventually(() => first.refusals() >= 2, { what: 'two refused rounds' });
    expect((await spool.usage()).consumers[BUS_CONSUMER]!.pendingReadings).toBe(2);
    // The process ends here (as after a crash); the next one takes the same readings.
    await publisher.stop();
    spool.close();

    spool = open();
    const second = localPredictor(['f1/north']);
    publisher = start(spool, second.local, []);
    await eventually(async () => (await spool!.usage()).consumers[BUS_CONSUMER]!.pendingReadings === 0, { what: 'bus cursor moved' });
    expect(first.taken).toEqual([]);
    expect(second.taken).toEqual([{ key: 'f1/north', ts: [T0 + 60_000, T0 + 120_000] }]);
  });
});
