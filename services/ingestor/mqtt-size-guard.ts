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

/** Fixed header: packet type, flags, remaining length (1–4 bytes, MQTT 3.1.1 §2.2.3). */
function fixedHeader(buf: Buffer): { type: number; qos: number; remaining: number; bytes: number } | undefined {
  if (buf.length < 2) return undefined;
  let remaining = 0;
  for (let i = 1; i <= 4; i++) {
    if (i >= buf.length) return undefined;
    const byte = buf[i]!;
    remaining += (byte & 0x7f) * 128 ** (i - 1);
    if ((byte & 0x80) === 0) return { type: buf[0]! >> 4, qos: (buf[0]! >> 1) & 0x3, remaining, bytes: i + 1 };
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

/** The guard as a transform of the bytes a client sends. */
export function createPacketSizeGuard(options: PacketSizeGuardOptions): Transform {
  let state: 'header' | 'topic' | 'pass' | 'skip' = 'header';
  let pending: Buffer = EMPTY;
  let left = 0;
  let publish: { first: number; header: Buffer; qos: number; remaining: number } | undefined;

  const take = (buf: Buffer) => (pending.length === 0 ? buf : Buffer.concat([pending, buf]));
  const forward = (bytes: number) => {
    left = bytes;
    state = bytes > 0 ? 'pass' : 'header';
  };

  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      let buf: Buffer = chunk;
      try {
        while (buf.length > 0) {
          if (state === 'pass' || state === 'skip') {
            const n = Math.min(left, buf.length);
            if (state === 'pass') this.push(buf.subarray(0, n));
            left -= n;
            buf = buf.subarray(n);
            if (left === 0) state = 'header';
          } else if (state === 'header') {
            pending = take(buf);
            buf = EMPTY;
            const header = fixedHeader(pending);
            if (!header) continue;
            const headerBytes = pending.subarray(0, header.bytes);
            buf = pending.subarray(header.bytes);
            pending = EMPTY;
            if (header.type === PUBLISH && header.remaining > options.maxPayloadBytes) {
              publish = { first: headerBytes[0]!, header: headerBytes, qos: header.qos, remaining: header.remaining };
              state = 'topic';
            } else {
              if (header.type !== PUBLISH && header.remaining > options.maxControlPacketBytes) {
                throw new Error(`MQTT packet of ${header.remaining} bytes is larger than ${options.maxControlPacketBytes}`);
              }
              this.push(headerBytes);
              forward(header.remaining);
            }
          } else {
            // The variable header of a large PUBLISH: topic length, topic, packet id (QoS > 0).
            pending = take(buf);
            buf = EMPTY;
            if (pending.length < 2) continue;
            const p = publish!;
            const variableBytes = 2 + pending.readUInt16BE(0) + (p.qos > 0 ? 2 : 0);
            if (variableBytes > p.remaining) throw new Error('malformed MQTT PUBLISH header');
            if (pending.length < variableBytes) continue;
            const variable = pending.subarray(0, variableBytes);
            buf = pending.subarray(variableBytes);
            pending = EMPTY;
            const payloadBytes = p.remaining - variableBytes;
            if (payloadBytes <= options.maxPayloadBytes) {
              this.push(p.header);
              this.push(variable);
              forward(payloadBytes);
            } else {
              this.push(replacePublish(p.first, variable, options.oversized(payloadBytes)));
              left = payloadBytes;
              state = 'skip';
            }
            publish = undefined;
          }
        }
      } catch (err) {
        return callback(err as Error);
      }
      callback();
    },
  });
}

/**
 * The connection aedes handles: what the socket receives through the guard, what aedes writes
 * straight to the socket. `remoteAddress` is the socket's (network checks of device logins).
 */
export function guardConnection(socket: Socket, options: PacketSizeGuardOptions): Duplex & { remoteAddress?: string } {
  const guard = createPacketSizeGuard(options);
  const connection = Duplex.from({ readable: socket.pipe(guard), writable: socket });
  guard.on('error', (err) => socket.destroy(err));
  connection.on('close', () => socket.destroy());
  Object.defineProperty(connection, 'remoteAddress', { get: () => socket.remoteAddress });
  return connection;
}
