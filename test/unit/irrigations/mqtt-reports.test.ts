/**
 * Valve controllers' MQTT reports against the real service and store: a QoS 1 redelivery of a
 * report without `id` is recorded once when the report says when the water ended.
 */
import { describe, expect, it } from 'vitest';
import { recordDeviceReports } from '../../../services/irrigations/mqtt-reports.js';
import { createIrrigationService } from '../../../services/irrigations/service.js';
import { createSqliteIrrigations } from '../../../services/irrigations/store.js';
import type { Device, DeviceRepository } from '../../../services/registry/device.js';
import { createManualClock } from '../../helpers/manual-clock.js';

const NOW = Date.parse('2026-07-07T09:00:00Z');
const valve: Device = { id: 'valve-1', farm: 'f1', field: 'north', kind: 'device', enabled: true, allowedNetworks: [], createdAt: '2026-07-01T00:00:00Z' };

function setup() {
  const clock = createManualClock(NOW);
  const store = createSqliteIrrigations(':memory:');
  const service = createIrrigationService({ store, devices: {} as DeviceRepository, clock });
  return { clock, service, count: async () => (await service.list({ farm: 'f1' })).length };
}

describe('MQTT irrigation reports without id', () => {
  it('records a redelivered message once: each report keyed by its place and what it says', async () => {
    const { service, count } = setup();
    const message = Buffer.from(JSON.stringify([
      { depth_mm: 12, start: '2026-07-07T05:00:00Z', end: '2026-07-07T06:00:00Z' },
      { depth_mm: 12, start: '2026-07-07T05:00:00Z', end: '2026-07-07T06:00:00Z' },
      { depth_mm: 8, end: '2026-07-07T07:00:00Z' },
    ]));
    expect(await recordDeviceReports(service, valve, message)).toEqual([]);
    expect(await count()).toBe(3);
    // The broker sends it again (no PUBACK reached it): nothing new.
    expect(await recordDeviceReports(service, valve, message)).toEqual([]);
    expect(await count()).toBe(3);
    // A single report too.
    const one = Buffer.from(JSON.stringify({ depth_mm: 5, end: '2026-07-07T08:00:00Z' }));
    await recordDeviceReports(service, valve, one);
    await recordDeviceReports(service, valve, one);
    expect(await count()).toBe(4);
  });

  it('records each report without `end` (nothing tells two days\' equal reports apart)', async () => {
    const { clock, service, count } = setup();
    const message = Buffer.from(JSON.stringify({ depth_mm: 10 }));
    await recordDeviceReports(service, valve, message);
    await clock.advance(86_400_000);
    await recordDeviceReports(service, valve, message);
    expect(await count()).toBe(2);
  });
});

describe('MQTT irrigation reports refused', () => {
  it('tells the device of an empty array and of a bad `id`, naming `id` (HTTP\'s Idempotency-Key is no word of its)', async () => {
    const { service, count } = setup();
    expect(await recordDeviceReports(service, valve, Buffer.from('[]'))).toEqual([{ code: 'FH_ERR_IRRIGATION_INVALID', message: 'Send one report or a non-empty array' }]);
    for (const id of ['', 'i'.repeat(300), 'a\u0000b', 7]) {
      const [refusal] = await recordDeviceReports(service, valve, Buffer.from(JSON.stringify({ depth_mm: 2, id })));
      expect(refusal, JSON.stringify(id)).toMatchObject({ code: 'FH_ERR_IRRIGATION_INVALID', field: 'id' });
      expect(refusal!.message).not.toContain('Idempotency-Key');
    }
    expect(await count()).toBe(0);
    expect(await recordDeviceReports(service, valve, Buffer.from(JSON.stringify({ depth_mm: 2, id: 'valve-run-1' })))).toEqual([]);
    expect(await count()).toBe(1);
  });
});
