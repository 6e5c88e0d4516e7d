import { describe, expect, it } from 'vitest';
import { DEFAULT_FLATTEN_LIMITS, flatten, fromChirpStack, fromTheThingsStack, isSimulatedUplink } from '../../../../services/ingestor/adapters/lorawan.js';
import { parseReading } from '../../../../services/ingestor/reading.js';
import { CHIRPSTACK_UP, TTN_UPLINK } from '../../../fixtures/lorawan.js';
import { expectPrototypesIntact, FUZZ_RULES, NOW } from '../hostile-input.js';

/** `{"k":{"k":…1…}}`, `depth` objects below the outer one, parsed from text as a webhook body is. */
const nested = (depth: number, key = 'a') => JSON.parse(`${`{"${key}":`.repeat(depth + 1)}1${'}'.repeat(depth + 1)}`) as Record<string, unknown>;

/** What a call throws (the test fails if it returns). */
function thrownBy(call: () => unknown): Error & { code?: string; statusCode?: number; details?: Record<string, unknown> } {
  try {
    call();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a refusal');
}


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

  it('reads a null in a decoded payload as no reading: left out, the other values kept', () => {
    expect(flatten({ soil_moisture: 0.22, air_temperature: null, probe: { temperature: null } })).toEqual({ soil_moisture: 0.22 });
    // A codec writes null for an absent sensor: the uplink keeps its other values instead of being refused as a whole.
    expect(fromChirpStack({ ...CHIRPSTACK_UP, object: { soil_moisture: 0.22, air_temperature: null } }).values).toEqual({ soil_moisture: 0.22, rssi: -83 });
    const ttn = { ...TTN_UPLINK, uplink_message: { ...TTN_UPLINK.uplink_message, decoded_payload: { air: { temperature: null }, relative_humidity: 63 } } };
    expect(fromTheThingsStack(ttn).values).toEqual({ relative_humidity: 63, rssi: -101 });
    // The item is a valid reading: nothing in it is refused.
    const item = fromChirpStack({ ...CHIRPSTACK_UP, time: new Date(NOW).toISOString(), object: { soil_moisture: 0.22, air_temperature: null } });
    expect(parseReading(item, FUZZ_RULES, NOW)).toMatchObject({ ok: true });
  });

  it('tells a The Things Stack simulated uplink by its top-level "simulated": true', () => {
    expect(isSimulatedUplink({ ...TTN_UPLINK, simulated: true })).toBe(true);
    expect(isSimulatedUplink(TTN_UPLINK)).toBe(false);
    expect(isSimulatedUplink({ ...TTN_UPLINK, simulated: 'true' })).toBe(false);
    expect(isSimulatedUplink({ uplink_message: { simulated: true } })).toBe(false);
    expect(isSimulatedUplink(null)).toBe(false);
    expect(isSimulatedUplink(Object.create({ simulated: true }))).toBe(false);
  });

  describe('hostile decoded payloads', () => {
    it.each([
      ['ChirpStack', 5_000, (o: unknown) => fromChirpStack({ ...CHIRPSTACK_UP, object: o }), 'object.a.a.a'],
      ['TTN', 20_000, (o: unknown) => fromTheThingsStack({ ...TTN_UPLINK, uplink_message: { ...TTN_UPLINK.uplink_message, decoded_payload: o } }), 'uplink_message.decoded_payload.a.a'],
      ['ChirpStack', 1_000, (o: unknown) => fromChirpStack({ ...CHIRPSTACK_UP, object: o }), 'object.a.a.a'],
    ])('%s: refuses an object nested %i deep with FH_ERR_INGEST_PAYLOAD_TOO_DEEP, not a stack overflow', (_ns, depth, map, prefix) => {
      const err = thrownBy(() => map(nested(depth)));
      expect(err).toMatchObject({ code: 'FH_ERR_INGEST_PAYLOAD_TOO_DEEP', statusCode: 400, details: { maxDepth: DEFAULT_FLATTEN_LIMITS.maxDepth } });
      // Only a bounded prefix of the path is repeated, never a 2,000-character name.
      const field = err.details!.field as string;
      expect(field.startsWith(prefix)).toBe(true);
      expect(field.length).toBeLessThanOrEqual(65);
      expect(err.message.length).toBeLessThan(200);
    });

    it(`flattens up to ${DEFAULT_FLATTEN_LIMITS.maxDepth} levels and refuses one more`, () => {
      const deepest = DEFAULT_FLATTEN_LIMITS.maxDepth;
      expect(flatten(nested(deepest))).toEqual({ [Array(deepest + 1).fill('a').join('_')]: 1 });
      expect(() => flatten(nested(deepest + 1))).toThrow(expect.objectContaining({ code: 'FH_ERR_INGEST_PAYLOAD_TOO_DEEP' }));
      expect(() => flatten(nested(3), { maxDepth: 2, maxNameLength: 64 })).toThrow(expect.objectContaining({ code: 'FH_ERR_INGEST_PAYLOAD_TOO_DEEP' }));
    });

    it(`refuses a flattened name longer than ${DEFAULT_FLATTEN_LIMITS.maxNameLength} characters, repeating only a prefix`, () => {
      const err = thrownBy(() => flatten({ ['k'.repeat(2_000)]: 1 }, DEFAULT_FLATTEN_LIMITS, 'object'));
      expect(err).toMatchObject({ code: 'FH_ERR_INGEST_NAME_TOO_LONG', statusCode: 400, details: { maxLength: DEFAULT_FLATTEN_LIMITS.maxNameLength } });
      expect((err.details!.field as string).length).toBeLessThanOrEqual(65);
      // A name grown by its prefixes is refused as it grows, before it is built further.
      expect(() => flatten(nested(4, 'x'.repeat(20)))).toThrow(expect.objectContaining({ code: 'FH_ERR_INGEST_NAME_TOO_LONG' }));
      expect(flatten({ ['k'.repeat(64)]: 1 })).toEqual({ ['k'.repeat(64)]: 1 });
    });

    it('keeps prototype names as own keys of a plain object, and leaves Object.prototype alone', () => {
      const decoded = JSON.parse('{"__proto__":{"polluted":1},"constructor":{"prototype":{"x":2}},"toString":3,"valueOf":{"a":4}}');
      const flat = flatten(decoded);
      expect(Object.getPrototypeOf(flat)).toBe(Object.prototype);
      expect(Object.entries(flat)).toEqual([['__proto___polluted', 1], ['constructor_prototype_x', 2], ['toString', 3], ['valueOf_a', 4]]);
      // A top-level "__proto__" leaf is an own key too, not a prototype assignment.
      const leaf = flatten(JSON.parse('{"__proto__":[1],"rssi":-80}'));
      expect(Object.getPrototypeOf(leaf)).toBe(Object.prototype);
      expect(Object.keys(leaf)).toEqual(['__proto__', 'rssi']);
      expect(parseReading({ ts: NOW, values: leaf }, FUZZ_RULES, NOW)).toMatchObject({ ok: false, code: 'FH_ERR_READING_UNKNOWN_QUANTITY', field: 'values.__proto__' });
      expectPrototypesIntact();
    });

    it('refuses a name given twice (flat and grouped) instead of keeping one of them', () => {
      expect(() => flatten({ soil_moisture: 0.2, soil: { moisture: 0.3 } }, DEFAULT_FLATTEN_LIMITS, 'object')).toThrow(
        expect.objectContaining({ code: 'FH_ERR_INGEST_BAD_ENVELOPE', details: { field: 'object.soil.moisture' } }),
      );
    });
  });

  describe('hostile envelopes', () => {
    it('takes the best RSSI of 200,000 gateways without spreading them onto the stack', () => {
      const rxInfo = Array.from({ length: 200_000 }, (_, i) => ({ rssi: -150 + (i % 100) }));
      expect(fromChirpStack({ ...CHIRPSTACK_UP, object: { battery_voltage: 3.6 }, rxInfo }).values).toEqual({ battery_voltage: 3.6, rssi: -51 });
    });

    it('refuses a TTN frame counter that is not a number (an object with its own toString was a 500)', () => {
      const up = JSON.parse(JSON.stringify({ ...TTN_UPLINK, correlation_ids: [] }));
      up.uplink_message.f_cnt = JSON.parse('{"toString":1}');
      expect(() => fromTheThingsStack(up)).toThrow(expect.objectContaining({ code: 'FH_ERR_INGEST_BAD_ENVELOPE', details: { field: 'uplink_message.f_cnt' } }));
      up.uplink_message.f_cnt = 42;
      expect(fromTheThingsStack(up).id).toBe('42@2026-11-26T10:00:01.234Z');
    });

    it('reads only own fields: a polluted prototype supplies no decoded payload', () => {
      const up = Object.assign(Object.create({ object: { rssi: -80 } }) as object, { ...CHIRPSTACK_UP, object: undefined });
      expect(() => fromChirpStack(up)).toThrow(expect.objectContaining({ code: 'FH_ERR_INGEST_BAD_ENVELOPE', details: { field: 'object' } }));
    });
  });
});
