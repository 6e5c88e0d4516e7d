import { describe, expect, it } from 'vitest';
import { fromSenml } from '../../../../services/ingestor/adapters/senml.js';

describe('SenML adapter (RFC 8428)', () => {
  it('resolves base name, time and unit, converts units and groups records of one time into one reading', () => {
    // Shaped as RFC 8428 §5.1.2's multiple-measurement example, with fieldhook's quantity names.
    const pack = [
      { bn: 'urn:dev:ow:10e2073a01080063:', bt: 1.796e9, bu: 'Cel', n: 'air_temperature', v: 23.1 },
      { n: 'relative_humidity', u: '%RH', v: 64 },
      { n: 'soil_moisture', u: '%', v: 23.5 },
      { n: 'air_temperature', t: 60, v: 295.15, u: 'K' },
      { n: 'rainfall', u: 'm', v: 0.0012, t: 60 },
    ];
    expect(fromSenml(pack)).toEqual([
      { device: '10e2073a01080063', ts: 1.796e12, values: { air_temperature: 23.1, relative_humidity: 64, soil_moisture: 0.235 } },
      { device: '10e2073a01080063', ts: 1.796e12 + 60_000, values: { air_temperature: expect.closeTo(22, 9), rainfall: expect.closeTo(1.2, 9) } },
    ]);
  });

  it('leaves the device to the credential when there is no base name', () => {
    expect(fromSenml([{ n: 'rssi', u: 'dBW', v: -110, t: 1.796e9 }])).toEqual([{ ts: 1.796e12, values: { rssi: -80 } }]);
  });

  it.each([
    ['not an array', { n: 'rssi' }, 'body'],
    ['a record that is not an object', [3], '[0]'],
    ['a value without a name', [{ v: 1, t: 1.796e9 }], '[0].n'],
    ['a relative time (receiver-clock stamping)', [{ n: 'rssi', v: -80, t: -5 }], '[0].t'],
    ['a unit that does not fit the quantity', [{ n: 'soil_moisture', u: 'Cel', v: 20, t: 1.796e9 }], '[0].u'],
  ])('refuses %s, naming the record', (_name, pack, field) => {
    expect(() => fromSenml(pack)).toThrow(expect.objectContaining({ code: 'FH_ERR_INGEST_BAD_ENVELOPE', details: { field } }));
  });
});
