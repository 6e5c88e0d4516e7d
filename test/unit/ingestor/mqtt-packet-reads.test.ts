import fc from 'fast-check';
import mqttPacket, { type Packet } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { readMqttNumbersInPlace } from '../../../services/ingestor/mqtt-packet-reads.js';

type Reader = (offset?: number) => number;
interface List {
  append(buf: Buffer): void;
  readUInt8: Reader;
  readUInt16BE: Reader;
  readUInt32BE: Reader;
}

const newList = () => (mqttPacket.parser() as unknown as { _list: List })._list;
const NAMES = ['readUInt8', 'readUInt16BE', 'readUInt32BE'] as const;

function withoutPayload(packet: Packet): object {
  const { payload: _, ...rest } = packet as Packet & { payload?: unknown };
  return rest;
}

/** What a read gives: its number, or the kind of error it throws. */
function outcome(read: () => number): number | string {
  try {
    return read();
  } catch (err) {
    return `${(err as Error).name}:${(err as { code?: string }).code ?? ''}`;
  }
}

describe('MQTT number reads in place', () => {
  // bl's own readers, taken before the in-place ones are installed (the order of this file's
  // statements, not of the tests: the import above installs nothing by itself).
  const prototype = Object.getPrototypeOf(newList()) as Record<string, Reader>;
  const originals = Object.fromEntries(NAMES.map((n) => [n, prototype[n]!])) as Record<(typeof NAMES)[number], Reader>;
  readMqttNumbersInPlace();

  it('installs readers of its own, once', () => {
    readMqttNumbersInPlace();
    for (const name of NAMES) {
      expect(prototype[name]).not.toBe(originals[name]);
      expect(prototype[name]!.name).toBe('read');
    }
  });

  it("gives bl's numbers and errors for any split of the bytes and any offset", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 0, maxLength: 6 }), { maxLength: 5 }),
        // Integer offsets, as mqtt-packet reads (bl's answer to a fractional one reads uninitialised memory).
        fc.option(fc.integer({ min: -2, max: 32 }), { nil: undefined }),
        fc.constantFrom(...NAMES),
        (chunks, offset, name) => {
          const list = newList();
          for (const c of chunks) list.append(Buffer.from(c));
          const mine = outcome(() => list[name](offset));
          const theirs = outcome(() => originals[name].call(list, offset));
          expect(mine).toEqual(theirs);
        },
      ),
      { seed: 14, numRuns: 2_000 },
    );
  });

  it('parses packets split across reads as before', () => {
    const packets: Packet[] = [
      { cmd: 'publish', topic: 'fieldhook/v1/devices/d-1/readings', payload: Buffer.from('{"v":1}'), qos: 1, messageId: 65_535, dup: false, retain: false },
      { cmd: 'publish', topic: 't', payload: Buffer.alloc(300, 0x61), qos: 1, messageId: 258, dup: false, retain: false },
      { cmd: 'puback', messageId: 4_097 },
    ];
    const bytes = Buffer.concat(packets.map((p) => mqttPacket.generate(p)));
    for (const step of [1, 2, 3, 7, bytes.length]) {
      const parsed: Packet[] = [];
      const parser = mqttPacket.parser({ protocolVersion: 4 });
      parser.on('packet', (p) => parsed.push(p));
      for (let i = 0; i < bytes.length; i += step) parser.parse(bytes.subarray(i, i + step));
      expect(parsed).toMatchObject(packets.map(withoutPayload));
      expect(parsed.map((p) => (p as { payload?: Buffer }).payload?.length)).toEqual([7, 300, undefined]);
    }
  });
});
