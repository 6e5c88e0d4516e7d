import { describe, expect, it } from 'vitest';
import { createFleet } from '../../../services/simulator/fleet.js';
import type { NativeReading } from '../../../services/simulator/sensors.js';
import type { ReadingTransport } from '../../../services/simulator/transports.js';

const HOUR_MS = 3_600_000;

function recordingTransport(fail = new Set<string>()) {
  const sent = new Map<string, NativeReading[]>();
  const transport: ReadingTransport = {
    async send(device, readings) {
      if (fail.has(device)) throw new Error('ingestor down');
      sent.set(device, [...(sent.get(device) ?? []), ...readings]);
    },
    async close() {},
  };
  return { sent, transport };
}

describe('simulated fleet', () => {
  it('replays each device\'s readings on a sped-up clock, never past the present', async () => {
    let wall = Date.parse('2026-07-01T12:00:00Z');
    const { sent, transport } = recordingTransport();
    const fleet = createFleet({ devices: 3, seed: 1, speedup: 3600, startMs: wall - 10 * HOUR_MS, transport, now: () => wall });
    expect(fleet.specs.map((s) => s.deviceId)).toEqual(['sim-0001', 'sim-0002', 'sim-0003']);

    const first = await fleet.push();
    expect(first.simulatedMs).toBe(wall - 10 * HOUR_MS);
    expect(first.sent).toBe(0);

    wall += 5_000; // 5 s of wall time = 5 simulated hours
    const second = await fleet.push();
    expect(second.simulatedMs).toBe(wall - 10 * HOUR_MS + 5 * 3600 * 1000 - 5_000);
    expect(second.sent).toBeGreaterThanOrEqual(3 * 3);
    expect(second.sent).toBeLessThanOrEqual(3 * 5);

    wall += 60_000; // would be 60 h ahead: capped at the present
    const third = await fleet.push();
    expect(third.simulatedMs).toBe(wall);
    for (const readings of sent.values()) {
      const ts = readings.map((r) => Date.parse(r.ts));
      expect(ts).toEqual([...ts].sort((a, b) => a - b));
      expect(new Set(readings.map((r) => r.id)).size).toBe(readings.length);
      expect(Math.max(...ts)).toBeLessThanOrEqual(wall);
      expect(Math.min(...ts)).toBeGreaterThan(Date.parse('2026-07-01T02:00:00Z'));
    }
  });

  it('without a start, sends the last 3 days at once and then keeps to the present, whatever the speedup', async () => {
    let wall = Date.parse('2026-07-01T12:00:00Z');
    const { sent, transport } = recordingTransport();
    const fleet = createFleet({ devices: 2, seed: 3, transport, now: () => wall, maxBatch: 10_000 });
    const first = await fleet.push();
    expect(first.simulatedMs).toBe(wall);
    // About 72 hourly readings a device, the newest within the last hour.
    expect(first.sent).toBeGreaterThanOrEqual(2 * 70);
    for (const readings of sent.values()) expect(Math.max(...readings.map((r) => Date.parse(r.ts)))).toBeGreaterThan(wall - HOUR_MS);
    wall += 2 * HOUR_MS;
    expect((await fleet.push()).simulatedMs).toBe(wall);
  });

  it('keeps unsent readings for the next push when the ingestor fails', async () => {
    let wall = Date.parse('2026-07-01T12:00:00Z');
    const fail = new Set(['sim-0001']);
    const { sent, transport } = recordingTransport(fail);
    const fleet = createFleet({ devices: 2, seed: 2, speedup: 3600, startMs: wall - 12 * HOUR_MS, transport, now: () => wall });
    wall += 6_000;
    const r1 = await fleet.push();
    expect(r1.failedDevices).toBe(1);
    expect(sent.has('sim-0001')).toBe(false);
    fail.clear();
    await fleet.push();
    // The failed device catches up: both have sent the same hours.
    expect(sent.get('sim-0001')!.at(-1)!.ts).toBe(sent.get('sim-0002')!.at(-1)!.ts);
    expect(sent.get('sim-0001')!.length).toBeGreaterThan(3);
  });
});
