import { describe, expect, it } from 'vitest';
import { readChirpStack, readTheThingsStack, uplinkDevEui } from '../../../../services/ingestor/adapters/lorawan.js';
import { loadProfiles } from '../../../../services/ingestor/profiles/load.js';
import { CHIRPSTACK_UP, TTN_UPLINK } from '../../../fixtures/lorawan.js';
import { VENDOR_EXAMPLES } from '../../../fixtures/vendor-payloads.js';

const profiles = loadProfiles();

function expectValues(actual: Record<string, unknown>, expected: Record<string, number>) {
  expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
  for (const [name, value] of Object.entries(expected)) expect(actual[name], name).toBeCloseTo(value, 9);
}

describe('shipped device profiles', () => {
  it('are the six vendor profiles documented, each with vendor examples, and the line protocol default', () => {
    expect(profiles.names()).toEqual([
      'decentlab-dl-trs12',
      'dragino-lht65n',
      'dragino-lse01',
      'line-protocol',
      'milesight-em500-smtc',
      'sensecap-s2105',
      'sensecap-s2120',
    ]);
    for (const name of profiles.names().filter((n) => n !== 'line-protocol')) expect(VENDOR_EXAMPLES[name], name).toBeDefined();
    // The default is for line protocol only: no uplink selects it.
    expect(profiles.byName('line-protocol')).toMatchObject({ chirpstack: [], ttn: [] });
  });

  for (const [name, examples] of Object.entries(VENDOR_EXAMPLES)) {
    describe(name, () => {
      const profile = profiles.byName(name)!;

      for (const example of examples) {
        it(`through a ChirpStack v4 uplink: ${example.source}`, () => {
          const body = {
            ...CHIRPSTACK_UP,
            deviceInfo: { ...CHIRPSTACK_UP.deviceInfo, deviceProfileName: profile.chirpstack[0] },
            object: example.decoded,
            rxInfo: [],
          };
          const uplink = readChirpStack(body, { profiles });
          expect(uplink.profile).toBe(name);
          expect(uplink.refused).toEqual([]);
          expectValues(uplink.item.values, example.expected);
        });

        it(`through a ChirpStack v3 uplink (top-level deviceProfileName): ${example.source}`, () => {
          const body = { ...CHIRPSTACK_UP, deviceProfileName: profile.chirpstack[1], object: example.decoded, rxInfo: [] };
          const uplink = readChirpStack(body, { profiles });
          expect(uplink.profile).toBe(name);
          expectValues(uplink.item.values, example.expected);
        });

        it(`through a The Things Stack uplink (version_ids): ${example.source}`, () => {
          const { brand, model } = profile.ttn[0]!;
          const body = {
            ...TTN_UPLINK,
            uplink_message: {
              ...TTN_UPLINK.uplink_message,
              decoded_payload: example.decoded,
              rx_metadata: [],
              version_ids: { brand_id: brand, model_id: model, hardware_version: '1.0', firmware_version: '1.0', band_id: 'EU_863_870' },
            },
          };
          const uplink = readTheThingsStack(body, { profiles });
          expect(uplink.profile).toBe(name);
          expect(uplink.refused).toEqual([]);
          expectValues(uplink.item.values, example.expected);
        });
      }
    });
  }

  it('milesight-em500-smtc: buffered history frames are readings of the same device at their own times', () => {
    const example = VENDOR_EXAMPLES['milesight-em500-smtc']!.find((e) => 'history' in e.decoded)!;
    const body = { ...CHIRPSTACK_UP, deviceInfo: { ...CHIRPSTACK_UP.deviceInfo, deviceProfileName: 'EM500-SMTC' }, object: example.decoded };
    const uplink = readChirpStack(body, { profiles });
    expect(uplink.refused).toEqual([]);
    expect(uplink.history.map((h) => h.refused)).toEqual([[], []]);
    const device = CHIRPSTACK_UP.deviceInfo.devEui.toLowerCase();
    expect(uplink.history.map((h) => [h.item.device, h.item.ts])).toEqual([
      [device, '2026-11-30T00:53:20.000Z'],
      [device, '2026-11-30T01:23:20.000Z'],
    ]);
    expectValues(uplink.history[0]!.item.values, { soil_ec: 0.14, soil_temperature: 20.1, soil_moisture: 0.295 });
    expectValues(uplink.history[1]!.item.values, { soil_temperature: 20, soil_moisture: 0.294 });
  });

  it('the gateway RSSI is still added when the profile maps none', () => {
    const example = VENDOR_EXAMPLES['dragino-lht65n']![0]!;
    const body = { ...CHIRPSTACK_UP, deviceInfo: { ...CHIRPSTACK_UP.deviceInfo, deviceProfileName: 'LHT65N' }, object: example.decoded };
    expect(readChirpStack(body, { profiles }).item.values.rssi).toBe(-83);
  });

  it('a vendor payload without a matching profile is read as canonical names, as before (and refused by ingest)', () => {
    const example = VENDOR_EXAMPLES['dragino-lse01']![0]!;
    const body = { ...CHIRPSTACK_UP, deviceInfo: { ...CHIRPSTACK_UP.deviceInfo, deviceProfileName: 'some other profile' }, object: example.decoded, rxInfo: [] };
    const uplink = readChirpStack(body, { profiles });
    expect(uplink.profile).toBeUndefined();
    expect(uplink.item.values).toEqual(example.decoded);
  });

  it('the profile the device names in the registry wins over the uplink\'s; an unknown one leaves the uplink\'s', () => {
    const example = VENDOR_EXAMPLES['milesight-em500-smtc']![0]!;
    const body = { ...CHIRPSTACK_UP, deviceInfo: { ...CHIRPSTACK_UP.deviceInfo, deviceProfileName: 'LSE01' }, object: example.decoded, rxInfo: [] };
    expect(readChirpStack(body, { profiles }).profile).toBe('dragino-lse01');
    const own = readChirpStack(body, { profiles, deviceProfile: 'milesight-em500-smtc' });
    expect(own.profile).toBe('milesight-em500-smtc');
    expectValues(own.item.values, example.expected);
    expect(readChirpStack(body, { profiles, deviceProfile: 'constructor' }).profile).toBe('dragino-lse01');
    const ttn = { ...TTN_UPLINK, uplink_message: { ...TTN_UPLINK.uplink_message, decoded_payload: example.decoded, rx_metadata: [] } };
    expect(readTheThingsStack(ttn, { profiles, deviceProfile: 'milesight-em500-smtc' }).profile).toBe('milesight-em500-smtc');
  });

  it('uplinkDevEui reads the DevEUI before the rest, or nothing', () => {
    expect(uplinkDevEui('chirpstack', CHIRPSTACK_UP)).toBe('0101010101010101');
    expect(uplinkDevEui('ttn', TTN_UPLINK)).toBe('70b3d57ed005a1b2');
    expect(uplinkDevEui('ttn', { end_device_ids: { dev_eui: 7 } })).toBeUndefined();
    expect(uplinkDevEui('chirpstack', [])).toBeUndefined();
    expect(uplinkDevEui('chirpstack', JSON.parse('{"__proto__": {"devEui": "x"}}'))).toBeUndefined();
  });

  it('the existing canonical fixtures read the same with profiles loaded', () => {
    expect(readChirpStack(CHIRPSTACK_UP, { profiles }).item).toEqual(readChirpStack(CHIRPSTACK_UP).item);
    expect(readTheThingsStack(TTN_UPLINK, { profiles }).item).toEqual(readTheThingsStack(TTN_UPLINK).item);
  });
});
