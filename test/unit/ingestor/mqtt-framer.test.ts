import fc from 'fast-check';
import mqttPacket, { type Packet } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { createFramer } from '../../../services/ingestor/mqtt-framer.js';

type Seen = { publish: { topic: string; payload: string; qos: number; messageId: number } } | { other: string };

/** What the framer makes of `bytes` delivered in chunks cut at `cuts`. */
function frame(protocolVersion: 4 | 5, bytes: Buffer, cuts: number[]): { seen: Seen[]; errors: string[] } {
  const seen: Seen[] = [];
  const errors: string[] = [];
  const framer = createFramer(protocolVersion, {
    publish: (topic, payload, qos, messageId) => seen.push({ publish: { topic, payload: payload.toString('hex'), qos, messageId } }),
    other: (packet) => seen.push({ other: packet.toString('hex') }),
    error: (err) => errors.push(err.message),
  });
  let at = 0;
  for (const cut of [...new Set(cuts)].sort((a, b) => a - b)) {
    if (cut <= at || cut >= bytes.length) continue;
    framer.push(bytes.subarray(at, cut));
    at = cut;
  }
  framer.push(bytes.subarray(at));
  return { seen, errors };
}

const topic = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).filter((t) => !/[+#\u0000]/.test(t));
const publish = (v: 4 | 5) =>
  fc.record({
    topic,
    payload: fc.uint8Array({ maxLength: 300 }),
    qos: fc.constantFrom(0, 1, 2),
    messageId: fc.integer({ min: 1, max: 65_535 }),
    retain: fc.boolean(),
    dup: fc.boolean(),
    contentType: v === 5 ? fc.option(fc.string({ maxLength: 20 }), { nil: undefined }) : fc.constant(undefined),
  });
const others: Packet[] = [
  { cmd: 'pingresp' },
  { cmd: 'pubrel', messageId: 7 },
  { cmd: 'suback', messageId: 1, granted: [1] },
  { cmd: 'connack', sessionPresent: true, returnCode: 0 },
];

describe('the consumer framer reads PUBLISH as mqtt-packet writes it, and hands every other packet over whole', () => {
  for (const v of [4, 5] as const) {
    it(`MQTT ${v === 4 ? '3.1.1' : '5'}: any mix of packets, cut into chunks anywhere`, () => {
      fc.assert(
        fc.property(
          fc.array(fc.oneof(publish(v).map((p) => ({ p })), fc.constantFrom(...others).map((o) => ({ o }))), { minLength: 1, maxLength: 12 }),
          fc.array(fc.nat({ max: 5_000 }), { maxLength: 20 }),
          (items, cuts) => {
            const expected: Seen[] = [];
            const parts: Buffer[] = [];
            for (const item of items) {
              if ('o' in item) {
                const bytes = mqttPacket.generate(item.o.cmd === 'connack' && v === 5 ? { cmd: 'connack', sessionPresent: true, reasonCode: 0 } : item.o, { protocolVersion: v });
                parts.push(bytes);
                expected.push({ other: bytes.toString('hex') });
                continue;
              }
              const { p } = item;
              const packet = {
                cmd: 'publish' as const,
                topic: p.topic,
                payload: Buffer.from(p.payload),
                qos: p.qos as 0 | 1 | 2,
                retain: p.retain,
                dup: p.dup,
                ...(p.qos > 0 ? { messageId: p.messageId } : {}),
                ...(p.contentType !== undefined ? { properties: { contentType: p.contentType } } : {}),
              };
              parts.push(mqttPacket.generate(packet, { protocolVersion: v }));
              expected.push({ publish: { topic: p.topic, payload: Buffer.from(p.payload).toString('hex'), qos: p.qos, messageId: p.qos > 0 ? p.messageId : 0 } });
            }
            const bytes = Buffer.concat(parts);
            const { seen, errors } = frame(v, bytes, cuts);
            expect(errors).toEqual([]);
            expect(seen).toEqual(expected);
          },
        ),
        { seed: 20261130, numRuns: 300 },
      );
    });
  }

  it('a payload larger than many socket chunks arrives whole', () => {
    const payload = Buffer.alloc(1_000_000, 7);
    const bytes = mqttPacket.generate({ cmd: 'publish', topic: 'fieldhook/v1/devices/n-1/readings', payload, qos: 1, messageId: 9, retain: false, dup: false });
    const cuts = Array.from({ length: 15 }, (_, i) => (i + 1) * 65_536);
    const { seen, errors } = frame(4, bytes, cuts);
    expect(errors).toEqual([]);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toEqual({ publish: { topic: 'fieldhook/v1/devices/n-1/readings', payload: payload.toString('hex'), qos: 1, messageId: 9 } });
  });

  it('refuses a stream that is not MQTT, once, and reads nothing after it', () => {
    // Remaining length with a fifth continuation byte; then QoS 3; then a PUBLISH too short for its topic.
    for (const bytes of [Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]), Buffer.from([0x36, 0x02, 0x00, 0x00]), Buffer.from([0x32, 0x03, 0x00, 0x09, 0x61])]) {
      const { seen, errors } = frame(4, Buffer.concat([bytes, mqttPacket.generate({ cmd: 'pingresp' })]), []);
      expect(errors).toHaveLength(1);
      expect(seen).toEqual([]);
    }
  });
});
