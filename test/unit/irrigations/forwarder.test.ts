import { afterEach, describe, expect, it } from 'vitest';
import { createForwarder } from '../../../services/irrigations/forwarder.js';
import { parseIrrigationInput, type IrrigationRecord } from '../../../services/irrigations/record.js';
import { createSqliteIrrigations, type IrrigationRepository } from '../../../services/irrigations/store.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { eventually } from '../../helpers/eventually.js';
import { createManualClock } from '../../helpers/manual-clock.js';

const NOW = Date.parse('2026-07-07T09:00:00Z');

describe('irrigation forwarder', () => {
  let store: IrrigationRepository;
  afterEach(() => store?.close());

  const record = (depth: number) =>
    store.record({ ...parseIrrigationInput({ farm: 'f1', field: 'north', depth_mm: depth }, NOW), source: 'api', who: 'admin', recordedAt: NOW });

  it('sends every record to each downstream, retries a failing one with backoff, never skips one', async () => {
    store = createSqliteIrrigations(':memory:');
    const clock = createManualClock(NOW);
    const sent: Record<'influx' | 'bus', string[]> = { influx: [], bus: [] };
    let busUp = false;
    let busAttempts = 0;
    const forwarder = createForwarder(
      {
        store,
        clock,
        logger: silentLogger(),
        send: {
          influx: async (records: readonly IrrigationRecord[]) => void sent.influx.push(...records.map((r) => r.id)),
          bus: async (records: readonly IrrigationRecord[]) => {
            busAttempts++;
            if (!busUp) throw new Error('broker away');
            sent.bus.push(...records.map((r) => r.id));
          },
        },
      },
      { retryMinMs: 1_000, retryMaxMs: 4_000, pollMs: 60_000 },
    );
    const first = (await record(10)).record.id;
    forwarder.start();
    await eventually(() => sent.influx.length === 1, { what: 'the InfluxDB send' });
    expect(await forwarder.backlog()).toEqual({ influx: 0, bus: 1 });
    // A new record while the bus is failing waits behind the first; nothing goes out of order.
    const second = (await record(12)).record.id;
    forwarder.wake();
    await eventually(() => sent.influx.length === 2, { what: 'the second InfluxDB send' });
    // While the broker is away the bus is retried on the clock, each wait longer, up to the cap.
    for (let i = 0; i < 4; i++) {
      const before = busAttempts;
      await clock.advance(4_000);
      await eventually(() => busAttempts > before && clock.pending() > 0, { what: `retry ${i}` });
    }
    expect(sent.bus).toEqual([]);
    busUp = true;
    await clock.advance(4_000);
    await eventually(() => sent.bus.length === 2, { what: 'the bus send' });
    expect(sent).toEqual({ influx: [first, second], bus: [first, second] });
    expect(await forwarder.backlog()).toEqual({ influx: 0, bus: 0 });
    await forwarder.stop();
  });

  it('leaves no timer behind when it stops during a pass', async () => {
    store = createSqliteIrrigations(':memory:');
    const clock = createManualClock(NOW);
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const forwarder = createForwarder(
      { store, clock, logger: silentLogger(), send: { influx: () => held, bus: async () => undefined } },
      { retryMinMs: 1_000, retryMaxMs: 4_000, pollMs: 60_000 },
    );
    await record(10);
    forwarder.start();
    const stopped = forwarder.stop();
    release();
    await stopped;
    expect(clock.pending()).toBe(0);
  });
});
