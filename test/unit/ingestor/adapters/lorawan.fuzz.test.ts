import fc from 'fast-check';
import { describe, it } from 'vitest';
import { fromChirpStack, fromTheThingsStack } from '../../../../services/ingestor/adapters/lorawan.js';
import {
  envelopeText,
  expectAdapterOutcome,
  FUZZ,
  hostileJsonText,
  hostileNumberText,
  hostileObjectText,
  hostileTsText,
  PROTOTYPE_KEYS,
} from '../hostile-input.js';

const string = (arb: fc.Arbitrary<string>) => arb.map((s) => JSON.stringify(s));
const devEui = string(fc.oneof(fc.constantFrom('0101010101010101', '70B3D57ED005A1B2', ...PROTOTYPE_KEYS), fc.string({ maxLength: 20 })));
const gateways = fc
  .array(
    fc.oneof(
      hostileNumberText.map((rssi) => `{"rssi":${rssi}}`),
      hostileJsonText,
    ),
    { maxLength: 5 },
  )
  .map((items) => `[${items.join(',')}]`);

describe('LoRaWAN adapters under hostile input (property, fixed seed)', () => {
  it('ChirpStack: canonical quantities or a catalog code, never throws, never touches Object.prototype', () => {
    const uplink = envelopeText({
      deviceInfo: envelopeText({ devEui }),
      deduplicationId: string(fc.string({ maxLength: 40 })),
      time: hostileTsText,
      object: hostileObjectText,
      rxInfo: gateways,
    });
    fc.assert(
      fc.property(fc.oneof({ weight: 6, arbitrary: uplink }, { weight: 1, arbitrary: hostileJsonText }), (body) =>
        expectAdapterOutcome(body, (b) => [fromChirpStack(b)]),
      ),
      FUZZ,
    );
  });

  it('TTN: canonical quantities or a catalog code, never throws, never touches Object.prototype', () => {
    const uplink = envelopeText({
      end_device_ids: envelopeText({ dev_eui: devEui }),
      correlation_ids: fc.oneof(fc.constant('["as:up:01HX"]'), hostileJsonText),
      received_at: hostileTsText,
      uplink_message: envelopeText({
        f_cnt: fc.oneof(hostileNumberText, hostileJsonText, fc.constant('{"toString":1}')),
        decoded_payload: hostileObjectText,
        rx_metadata: gateways,
        received_at: hostileTsText,
      }),
    });
    fc.assert(
      fc.property(fc.oneof({ weight: 6, arbitrary: uplink }, { weight: 1, arbitrary: hostileJsonText }), (body) =>
        expectAdapterOutcome(body, (b) => [fromTheThingsStack(b)]),
      ),
      FUZZ,
    );
  });
});
