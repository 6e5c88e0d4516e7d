/**
 * mqtt-packet keeps a connection's unparsed bytes in a buffer list (`bl`) and reads every number
 * of a packet through it: the remaining length byte by byte, the topic's length, the packet id.
 * bl answers each of those reads by slicing a Buffer view of one to four bytes and reading the
 * view, so a QoS 1 PUBLISH cost about eight short-lived Buffer objects (a tenth of what the ingest
 * path allocated per reading, and the young-generation collections that go with it). The readers
 * below give the same numbers straight from the list's buffers; anything they do not handle (an
 * offset out of range, not an integer) goes to bl's own reader, so errors stay bl's.
 *
 * They are installed on the buffer list class mqtt-packet's parser uses, once, by the parts that
 * parse MQTT on the ingest path (the embedded broker, the consumer of an external broker); mqtt.js
 * in the same process shares the class and reads the same numbers.
 */
import mqttPacket from 'mqtt-packet';

interface BufferList {
  _bufs: Buffer[];
  length: number;
}

type NumberReader = (this: BufferList, offset?: number) => number;

const INSTALLED = Symbol.for('fieldhook.mqtt-packet-reads');

/** The byte at `offset` of the list; the caller has checked that it lies within. */
function byteAt(list: BufferList, offset: number): number {
  const bufs = list._bufs;
  for (let i = 0; i < bufs.length; i++) {
    const buf = bufs[i]!;
    if (offset < buf.length) return buf[offset]!;
    offset -= buf.length;
  }
  return 0;
}

/** A reader of `bytes` big-endian unsigned bytes, falling back to bl's own outside its checks. */
function inPlace(bytes: number, original: NumberReader): NumberReader {
  return function read(this: BufferList, offset = 0) {
    if (!Number.isInteger(offset) || offset < 0 || offset + bytes > this.length) return original.call(this, offset);
    let value = 0;
    // Multiplying (not shifting) keeps a 32-bit value unsigned.
    for (let i = 0; i < bytes; i++) value = value * 256 + byteAt(this, offset + i);
    return value;
  };
}

/** Install the allocation-free readers (idempotent). */
export function readMqttNumbersInPlace(): void {
  const prototype = Object.getPrototypeOf((mqttPacket.parser() as unknown as { _list: object })._list) as Record<string | symbol, unknown>;
  if (prototype[INSTALLED]) return;
  for (const [name, bytes] of [['readUInt8', 1], ['readUInt16BE', 2], ['readUInt32BE', 4]] as const) {
    prototype[name] = inPlace(bytes, prototype[name] as NumberReader);
  }
  prototype[INSTALLED] = true;
}
