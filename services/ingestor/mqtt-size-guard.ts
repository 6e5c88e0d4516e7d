/**
 * A size guard in front of the embedded broker's MQTT parser. aedes parses with mqtt-packet, which
 * buffers a whole packet before emitting it and has no size limit: one 10 MB PUBLISH is 10 MB of
 * heap, and the JSON parse and ingest of what it holds much more. The guard reads only the fixed
 * header of each packet (type and remaining length) as bytes stream through:
 *
 * - a packet within the limits passes through unchanged, byte for byte, without being buffered;
 * - a PUBLISH whose payload is larger than `maxPayloadBytes` is replaced by the same PUBLISH (topic,
 *   packet id, QoS, as mqtt-packet parses and generates them) with the payload `oversized(bytes)`,
 *   and the real payload is dropped as it arrives; the broker then acknowledges it as usual and
 *   refuses it on the device's errors topic;
 * - any other packet larger than `maxControlPacketBytes`, or a malformed remaining length, fails
 *   the stream (the connection is closed).
 *
 * So at most one fixed header and one PUBLISH variable header (topic and packet id, < 64 KiB) are
 * held per connection for an oversized message, however large it is.
 */
import { Duplex, Transform, type TransformCallback } from 'node:stream';
import type { Socket } from 'node:net';
import mqttPacket, { type IPublishPacket } from 'mqtt-packet';

export interface PacketSizeGuardOptions {
  /** Largest PUBLISH payload passed on, bytes. */
  maxPayloadBytes: number;
  /** Largest other packet (CONNECT, SUBSCRIBE, …), bytes of remaining length. */
  maxControlPacketBytes: number;
  /** The payload that stands in for an oversized one of `bytes` bytes. */
  oversized(bytes: number): Buffer;
}

const PUBLISH = 3;
const EMPTY: Buffer = Buffer.alloc(0);

/** Fixed header at `at`: packet type, flags, remaining length (1–4 bytes, MQTT 3.1.1 §2.2.3). */
function fixedHeader(buf: Buffer, at: number): { type: number; qos: number; remaining: number; bytes: number } | undefined {
  if (buf.length - at < 2) return undefined;
  let remaining = 0;
  for (let i = 1; i <= 4; i++) {
    if (at + i >= buf.length) return undefined;
    const byte = buf[at + i]!;
    remaining += (byte & 0x7f) * 128 ** (i - 1);
    if ((byte & 0x80) === 0) return { type: buf[at]! >> 4, qos: (buf[at]! >> 1) & 0x3, remaining, bytes: i + 1 };
  }
  throw new Error('malformed MQTT remaining length');
}

function encodeLength(length: number): Buffer {
  const bytes: number[] = [];
  do {
    let byte = length % 128;
    length = Math.floor(length / 128);
    if (length > 0) byte |= 0x80;
    bytes.push(byte);
  } while (length > 0);
  return Buffer.from(bytes);
}

/** The PUBLISH of `first` (fixed header byte) and `variable` (topic, packet id) with another payload, through mqtt-packet. */
function replacePublish(first: number, variable: Buffer, payload: Buffer): Buffer {
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  let packet: IPublishPacket | undefined;
  parser.on('packet', (p) => (packet = p as IPublishPacket));
  parser.on('error', () => undefined);
  parser.parse(Buffer.concat([Buffer.from([first]), encodeLength(variable.length), variable]));
  if (!packet) throw new Error('malformed MQTT PUBLISH header');
  return mqttPacket.generate({ ...packet, payload });
}

/**
 * The guard as a transform of the bytes a client sends. What passes through is pushed as one span
 * per chunk read from the socket, not per packet: a read holds many small PUBLISHes, and every
 * push is a chunk the readers downstream handle (and mqtt-packet's buffer list slices across).
 */
export function createPacketSizeGuard(options: PacketSizeGuardOptions): Transform {
  let state: 'header' | 'topic' | 'pass' | 'skip' = 'header';
  /** The start of a header or variable header that the chunk before ended in. */
  let pending: Buffer = EMPTY;
  let left = 0;
  let publish: { first: number; header: Buffer; qos: number; remaining: number } | undefined;

  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      const buf = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      pending = EMPTY;
      let at = 0;
      /** Where the bytes passed on but not yet pushed begin. */
      let span = 0;
      const pushSpan = () => {
        if (at > span) this.push(buf.subarray(span, at));
        span = at;
      };
      /** Keep the rest of the chunk for the next one: a header is not complete yet. */
      const keepRest = () => {
        pending = buf.subarray(at);
        at = span = buf.length;
      };
      try {
        while (at < buf.length) {
          if (state === 'pass' || state === 'skip') {
            const n = Math.min(left, buf.length - at);
            at += n;
            left -= n;
            if (state === 'skip') span = at;
            if (left === 0) state = 'header';
          } else if (state === 'header') {
            const header = fixedHeader(buf, at);
            if (!header) {
              pushSpan();
              keepRest();
            } else if (header.type === PUBLISH && header.remaining > options.maxPayloadBytes) {
              pushSpan();
              publish = { first: buf[at]!, header: buf.subarray(at, at + header.bytes), qos: header.qos, remaining: header.remaining };
              at = span = at + header.bytes;
              state = 'topic';
            } else {
              if (header.type !== PUBLISH && header.remaining > options.maxControlPacketBytes) {
                throw new Error(`MQTT packet of ${header.remaining} bytes is larger than ${options.maxControlPacketBytes}`);
              }
              at += header.bytes;
              left = header.remaining;
              state = left > 0 ? 'pass' : 'header';
            }
          } else {
            // The variable header of a large PUBLISH: topic length, topic, packet id (QoS > 0).
            const p = publish!;
            const variableBytes = buf.length - at < 2 ? Infinity : 2 + buf.readUInt16BE(at) + (p.qos > 0 ? 2 : 0);
            if (variableBytes !== Infinity && variableBytes > p.remaining) throw new Error('malformed MQTT PUBLISH header');
            if (buf.length - at < variableBytes) {
              keepRest();
              continue;
            }
            const variable = buf.subarray(at, at + variableBytes);
            at = span = at + variableBytes;
            const payloadBytes = p.remaining - variableBytes;
            left = payloadBytes;
            if (payloadBytes <= options.maxPayloadBytes) {
              this.push(Buffer.concat([p.header, variable]));
              state = payloadBytes > 0 ? 'pass' : 'header';
            } else {
              this.push(replacePublish(p.first, variable, options.oversized(payloadBytes)));
              state = 'skip';
            }
            publish = undefined;
          }
        }
        pushSpan();
      } catch (err) {
        return callback(err as Error);
      }
      callback();
    },
  });
}

/**
 * The connection aedes handles: what the socket receives, through the guard; what aedes writes, to
 * the socket. aedes writes each PUBACK as three chunks of a byte or two, and a commit releases
 * many PUBACKs at once: the chunks written while the connection is corked (or while the socket's
 * previous write is under way) leave in one socket write. `remoteAddress` is the socket's
 * (network checks of device logins).
 */
export function guardConnection(socket: Socket, options: PacketSizeGuardOptions): Duplex & { remoteAddress?: string } {
  const guard = createPacketSizeGuard(options);
  const connection = new Duplex({
    read: () => void guard.resume(),
    write: (chunk: Buffer, _encoding, callback) => void socket.write(chunk, callback),
    writev: (chunks, callback) => void socket.write(chunks.length === 1 ? chunks[0]!.chunk : Buffer.concat(chunks.map((c) => c.chunk as Buffer)), callback),
    final: (callback) => void socket.end(callback),
  });
  socket.pipe(guard);
  guard.on('data', (chunk: Buffer) => {
    if (!connection.push(chunk)) guard.pause();
  });
  guard.on('end', () => connection.push(null));
  guard.on('error', (err) => socket.destroy(err));
  socket.on('error', (err) => connection.destroy(err));
  socket.on('close', () => connection.destroy());
  connection.on('close', () => socket.destroy());
  Object.defineProperty(connection, 'remoteAddress', { get: () => socket.remoteAddress });
  return connection;
}
