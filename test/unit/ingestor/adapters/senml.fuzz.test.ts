import fc from 'fast-check';
import { describe, it } from 'vitest';
import { fromSenml } from '../../../../services/ingestor/adapters/senml.js';
import { envelopeText, expectAdapterOutcome, FUZZ, hostileJsonText, hostileKey, hostileNumberText, objectText, PROTOTYPE_KEYS } from '../hostile-input.js';

const SENML_UNITS = ['/', '%', 'Cel', 'K', 'S/m', '%RH', 'm/s', 'W/m2', 'm', 'mm', 'V', 'dBm', 'dBW'];

describe('fromSenml under hostile input (property, fixed seed)', () => {
  const text = (arb: fc.Arbitrary<string>) => arb.map((s) => JSON.stringify(s));
  const record = envelopeText({
    bn: fc.oneof(
      text(fc.constantFrom('urn:dev:ow:10e2073a01080063:', 'n-1/', 'constructor', '__proto__:', ':'.repeat(5_000) + 'x')),
      text(fc.string({ maxLength: 80 })),
    ),
    bt: fc.oneof(hostileNumberText, fc.constantFrom('1796000000', String(Math.floor(Date.parse('2026-11-27T11:00:00Z') / 1000)))),
    bu: text(fc.oneof(fc.constantFrom(...SENML_UNITS, ...PROTOTYPE_KEYS), fc.string({ maxLength: 5 }))),
    n: text(hostileKey),
    u: text(fc.oneof(fc.constantFrom(...SENML_UNITS, ...PROTOTYPE_KEYS, 'name'), fc.string({ maxLength: 5 }))),
    v: hostileNumberText,
    t: hostileNumberText,
  });
  const pack = fc.oneof(
    { weight: 5, arbitrary: fc.array(record, { maxLength: 6 }).map((records) => `[${records.join(',')}]`) },
    { weight: 1, arbitrary: hostileJsonText },
    { weight: 1, arbitrary: fc.array(fc.tuple(hostileKey, hostileJsonText), { maxLength: 3 }).map(objectText) },
  );

  it('answers canonical quantities or a catalog code, never throws, never touches Object.prototype', () => {
    fc.assert(
      fc.property(pack, (body) => expectAdapterOutcome(body, (b) => fromSenml(b))),
      FUZZ,
    );
  });
});
