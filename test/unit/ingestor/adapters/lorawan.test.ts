import { describe, expect, it } from 'vitest';
import { flatten, fromChirpStack, fromTheThingsStack } from '../../../../services/ingestor/adapters/lorawan.js';
import { CHIRPSTACK_UP, TTN_UPLINK } from '../../../fixtures/lorawan.js';


describe('LoRaWAN uplink adapters', () => {
  it('maps a ChirpStack uplink: DevEUI, deduplication id, time, flattened object, best RSSI', () => {
    expect(fromChirpStack(CHIRPSTACK_UP)).toEqual({
      device: '0101010101010101',
      id: '3ac7e3c4-4401-4b8d-9386-a5c902f9202d',
      ts: '2026-11-26T10:00:00.123456Z',
      values: { soil_moisture: 0.231, soil_temperature: 14.5, battery_voltage: 3.61, rssi: -83 },
    });
  });

  it('maps a TTN uplink: lower-case DevEUI, the application uplink id, received_at; the codec’s rssi wins', () => {
    expect(fromTheThingsStack(TTN_UPLINK)).toEqual({
      device: '70b3d57ed005a1b2',
      id: 'as:up:01HXYZABC',
      ts: '2026-11-26T10:00:01.234Z',
      values: { air_temperature: 21.4, relative_humidity: 63, rssi: -70 },
    });
  });

  it.each([
    ['no deviceInfo', () => fromChirpStack({ ...CHIRPSTACK_UP, deviceInfo: undefined }), 'deviceInfo'],
    ['no decoded object (no codec)', () => fromChirpStack({ ...CHIRPSTACK_UP, object: undefined }), 'object'],
    ['no DevEUI', () => fromTheThingsStack({ ...TTN_UPLINK, end_device_ids: {} }), 'end_device_ids.dev_eui'],
    ['not an object', () => fromTheThingsStack([1, 2]), 'body'],
  ])('refuses an envelope with %s, naming the field', (_name, map, field) => {
    expect(map).toThrow(expect.objectContaining({ code: 'FH_ERR_INGEST_BAD_ENVELOPE', statusCode: 400, details: { field } }));
  });

  it('flattens nested objects and leaves arrays and scalars alone', () => {
    expect(flatten({ a: { b: { c: 1 } }, d: [1], e: 'x' })).toEqual({ a_b_c: 1, d: [1], e: 'x' });
  });
});
