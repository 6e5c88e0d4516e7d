import { describe, expect, it } from 'vitest';
import { DEFAULT_SENML_LIMITS, fromSenml } from '../../../../services/ingestor/adapters/senml.js';
import { parseReading } from '../../../../services/ingestor/reading.js';
import { expectPrototypesIntact, FUZZ_RULES, NOW } from '../hostile-input.js';

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

  it('refuses a pack that makes more readings than the batch limit, before reading the rest of it', () => {
    const limits = { ...DEFAULT_SENML_LIMITS, maxReadings: 3 };
    const pack = (n: number) => [
      { bn: 'urn:dev:id:n-1', bt: 1.7e9, n: 'rssi', v: -70 },
      ...Array.from({ length: n - 1 }, (_, i) => ({ n: 'rssi', v: -70, t: i + 1 })),
    ];
    expect(fromSenml(pack(3), limits)).toHaveLength(3);
    // The fourth reading is refused; a record after it that would throw is never reached.
    expect(() => fromSenml([...pack(4), { n: 'rssi', v: 'not a number', t: 99 }], limits)).toThrow(
      expect.objectContaining({ code: 'FH_ERR_INGEST_BATCH_TOO_LARGE', statusCode: 413 }),
    );
    // Several quantities of one reading are one reading.
    expect(fromSenml([...pack(3), { n: 'soil_moisture', v: 0.2, t: 2 }], limits)).toHaveLength(3);
    expect(DEFAULT_SENML_LIMITS.maxReadings).toBe(5_000);
  });

  it("takes a station's ET0 in mm or m, like rain", () => {
    expect(fromSenml([{ bn: 'st-1:', n: 'et0', u: 'mm', v: 0.4, t: 1.796e9 }])).toEqual([{ device: 'st-1', ts: 1.796e12, values: { et0: 0.4 } }]);
    expect(fromSenml([{ bn: 'st-1:', n: 'et0', u: 'm', v: 0.0004, t: 1.796e9 }])[0]!.values.et0).toBeCloseTo(0.4, 9);
  });

  it('adds a base value to each value, and refuses what it cannot take rather than dropping it', () => {
    expect(fromSenml([{ bn: 'n-17:', bt: 1.796e9, bv: 10, bu: '%', n: 'soil_moisture', v: 15 }, { n: 'relative_humidity', v: 50 }])).toEqual([
      { device: 'n-17', ts: 1.796e12, values: { soil_moisture: 0.25, relative_humidity: 60 } },
    ]);
    expect(fromSenml([{ bver: 10, bn: 'n-17:', n: 'rssi', v: -70, t: 1.796e9 }])).toHaveLength(1);
    expect(fromSenml([{ bn: 'n-17:', bt: 1.796e9 }, { n: 'rssi', v: -70 }])).toHaveLength(1);
    const refused = (pack: unknown) => {
      try {
        fromSenml(pack);
        return 'taken';
      } catch (err) {
        return `${(err as { code: string }).code} ${(err as { details?: { field?: string } }).details?.field}`;
      }
    };
    for (const [pack, field] of [
      [[{ bn: 'n-17:', bt: 1.796e9, n: 'soil_moisture', v: 0.2 }, { n: 'air_temperature', vs: '21.5' }], '[1].vs'],
      [[{ n: 'relay', vb: true, t: 1.796e9 }], '[0].vb'],
      [[{ n: 'blob', vd: 'AQI', t: 1.796e9 }], '[0].vd'],
      [[{ n: 'rainfall', s: 3, t: 1.796e9 }], '[0].s'],
      [[{ bs: 100, n: 'rainfall', v: 3, t: 1.796e9 }], '[0].bs'],
      [[{ bver: 11, n: 'rssi', v: -70, t: 1.796e9 }], '[0].bver'],
      [[{ n: 'rssi', v: -70, t: 1.796e9, crit_: 1 }], '[0].crit_'],
      // One quantity twice at one time, in any unit: neither value is dropped in silence.
      [[{ bt: 1.796e9, n: 'soil_temperature', u: 'Cel', v: 11 }, { n: 'soil_temperature', u: 'K', v: 300 }], '[1].n'],
      [[{ bn: 'n-17:', bt: 1.796e9, n: 'air_temperature', v: 20 }, { n: 'air_temperature', v: 21 }], '[1].n'],
      // A measurement named without its value (a record of base fields only is fine).
      [[{ bn: 'n-17:', bt: 1.796e9, n: 'rainfall', v: 1 }, { n: 'air_temperature' }], '[1].v'],
    ] as const) {
      expect(refused(pack), JSON.stringify(pack)).toBe(`FH_ERR_INGEST_BAD_ENVELOPE ${field}`);
    }
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

  describe('names and units from the device never reach a prototype', () => {
    const t = NOW / 1000;

    it.each(['valueOf', '__proto__', 'hasOwnProperty', 'toString', 'constructor', 'isPrototypeOf'])(
      'refuses the unit %s as one that does not fit the quantity (was a 500 or a misleading value type)',
      (unit) => {
        const pack = JSON.parse(JSON.stringify([{ n: 'soil_moisture', u: unit, v: 0.2, t }]));
        expect(() => fromSenml(pack)).toThrow(expect.objectContaining({ code: 'FH_ERR_INGEST_BAD_ENVELOPE', statusCode: 400, details: { field: '[0].u' } }));
        expectPrototypesIntact();
      },
    );

    it('refuses "n": "constructor" with "u": "name" as a unit that does not fit', () => {
      expect(() => fromSenml([{ n: 'constructor', u: 'name', v: 1, t }])).toThrow(
        expect.objectContaining({ code: 'FH_ERR_INGEST_BAD_ENVELOPE', details: { field: '[0].u' } }),
      );
    });

    it('keeps a "__proto__" name as an own key, which the reading rules then refuse as an unknown quantity', () => {
      const [item] = fromSenml(JSON.parse(`[{"n":"__proto__","v":1,"t":${t}},{"n":"rssi","v":-80,"t":${t}}]`));
      expect(Object.getPrototypeOf(item!.values)).toBe(Object.prototype);
      expect(Object.keys(item!.values)).toEqual(['__proto__', 'rssi']);
      expect(parseReading(item, FUZZ_RULES, NOW)).toMatchObject({ ok: false, code: 'FH_ERR_READING_UNKNOWN_QUANTITY', field: 'values.__proto__' });
      expectPrototypesIntact();
    });

    it('reads only own fields of a record: a polluted prototype adds no base time or unit', () => {
      const record = Object.assign(Object.create({ bt: 1.796e9, u: 'K' }) as object, { n: 'air_temperature', v: 20, t: 1.796e9 });
      expect(fromSenml([record])).toEqual([{ ts: 1.796e12, values: { air_temperature: 20 } }]);
    });
  });

  describe('limits', () => {
    it(`refuses a name longer than ${DEFAULT_SENML_LIMITS.maxNameLength} characters, repeating only a prefix of it`, () => {
      const n = 'x'.repeat(2_000);
      let thrown: unknown;
      try {
        fromSenml([{ n, v: 1, t: 1.796e9 }]);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toMatchObject({ code: 'FH_ERR_INGEST_NAME_TOO_LONG', statusCode: 400, details: { field: '[0].n', maxLength: 64 } });
      expect((thrown as Error).message.length).toBeLessThan(200);
    });

    it('trims a base name of 100,000 separators in linear time (a backtracking regex took 13 s)', () => {
      const started = performance.now();
      expect(fromSenml([{ bn: `${':'.repeat(100_000)}x`, n: 'rssi', v: -80, t: 1.796e9 }])).toHaveLength(1);
      expect(fromSenml([{ bn: `n-1${':'.repeat(100_000)}`, n: 'rssi', v: -80, t: 1.796e9 }])).toEqual([{ device: 'n-1', ts: 1.796e12, values: { rssi: -80 } }]);
      // Generous: the linear trim takes about a millisecond, the quadratic one thousands.
      expect(performance.now() - started).toBeLessThan(1_000);
    });

    it('leaves a time that overflows to the reading rules, which refuse it as invalid', () => {
      const [item] = fromSenml(JSON.parse('[{"bt":1e308,"t":1e308,"n":"rssi","v":-80}]'));
      expect(parseReading(item, FUZZ_RULES, NOW)).toMatchObject({ ok: false, code: 'FH_ERR_READING_TS_INVALID' });
    });
  });
});
