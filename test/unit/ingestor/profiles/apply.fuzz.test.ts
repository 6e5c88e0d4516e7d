import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readChirpStack } from '../../../../services/ingestor/adapters/lorawan.js';
import { loadProfiles } from '../../../../services/ingestor/profiles/load.js';
import { applyProfile, compileProfile } from '../../../../services/ingestor/profiles/profile.js';
import { ERROR_CODES } from '../../../../services/shared/error-catalog.js';
import { CHIRPSTACK_UP } from '../../../fixtures/lorawan.js';
import { VENDOR_EXAMPLES } from '../../../fixtures/vendor-payloads.js';
import { expectPrototypesIntact, FUZZ, hostileJsonText, hostileKey, hostileNumberText, objectText, PROTOTYPE_KEYS } from '../hostile-input.js';

const shipped = loadProfiles();
const profiles = shipped.names().map((n) => shipped.byName(n)!);
/** A profile reading hostile keys too: prototype names as sources, a match step, an index step. */
const probing = compileProfile(
  {
    name: 'probing',
    mappings: [
      { source: ['constructor', '__proto__.polluted', 'a[0].b'], quantity: 'soil_moisture', unit: '%', noReading: [0, 'x'] },
      { source: 'messages[measurementId=4102].measurementValue', quantity: 'soil_temperature', unit: 'K', scale: 1e300 },
      { source: 'toString', quantity: 'rssi' },
    ],
    keep: ['air_temperature'],
  },
  'probing.json',
);

/** Vendor payloads with values swapped for hostile ones, and hostile objects outright. */
const decodedText: fc.Arbitrary<string> = fc.oneof(
  fc.array(fc.tuple(hostileKey, hostileJsonText), { maxLength: 8 }).map(objectText),
  fc
    .tuple(fc.constantFrom(...Object.values(VENDOR_EXAMPLES).flat()), fc.array(fc.oneof(hostileNumberText, hostileJsonText), { minLength: 1, maxLength: 6 }))
    .map(([example, replacements]) =>
      objectText(Object.entries(example.decoded).map(([k, v], i) => [k, replacements[i % replacements.length] ?? JSON.stringify(v)] as const)),
    ),
  fc.array(fc.tuple(fc.constantFrom(...PROTOTYPE_KEYS), hostileJsonText), { maxLength: 4 }).map(objectText),
  hostileJsonText,
);

describe('applyProfile under hostile decoded payloads (property, fixed seed)', () => {
  it('maps into finite values of the profile\'s quantities or refuses each field with a catalog code; never throws', () => {
    fc.assert(
      fc.property(decodedText, fc.constantFrom(...profiles, probing), (text, profile) => {
        const decoded: unknown = JSON.parse(text);
        const result = applyProfile(profile, decoded);
        expect(Object.getPrototypeOf(result.values)).toBe(Object.prototype);
        const allowed = new Set([...profile.mappings.map((m) => m.quantity), ...(profile.file.keep ?? [])]);
        for (const [name, value] of Object.entries(result.values)) {
          expect(allowed.has(name), name).toBe(true);
          expect(Number.isFinite(value)).toBe(true);
        }
        for (const r of result.refused) {
          expect(ERROR_CODES).toContain(r.code);
          expect(r.path.length).toBeLessThanOrEqual(300);
          expect(r.message.length).toBeLessThanOrEqual(500);
        }
        expectPrototypesIntact();
      }),
      FUZZ,
    );
  });

  it('through a ChirpStack uplink: a profile is chosen by name only, and nothing pollutes a prototype', () => {
    fc.assert(
      fc.property(decodedText, fc.oneof(fc.constantFrom(...profiles.flatMap((p) => p.chirpstack)), ...PROTOTYPE_KEYS.map((k) => fc.constant(k))), (text, name) => {
        const object: unknown = JSON.parse(text);
        const body = { ...CHIRPSTACK_UP, deviceInfo: { ...CHIRPSTACK_UP.deviceInfo, deviceProfileName: name }, object };
        try {
          const uplink = readChirpStack(body, { profiles: shipped });
          expect(uplink.profile === undefined || shipped.byName(uplink.profile) !== undefined).toBe(true);
        } catch (err) {
          expect(ERROR_CODES).toContain((err as { code?: string }).code);
        }
        expectPrototypesIntact();
      }),
      FUZZ,
    );
  });
});
