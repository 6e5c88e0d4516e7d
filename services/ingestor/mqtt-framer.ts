/**
 * Cuts a broker's byte stream into MQTT packets and reads the one that matters per reading,
 * PUBLISH, itself: its topic, QoS, packet id and payload (a view of the received bytes, not a
 * copy). Every other packet (CONNACK, SUBACK, PUBREL, PINGRESP, DISCONNECT) is handed over whole,
 * for mqtt-packet to parse. mqtt-packet parses a PUBLISH through a buffer list, a packet object
 * with its MQTT 5 properties and an event per packet, which was a sixth of the consumer's main
 * thread; a packet here costs its topic string and a payload view.
 *
 * MQTT 3.1.1 §2.2 and §3.3, MQTT 5 §2.1 and §3.3: fixed header (type and flags, then the remaining
 * length in 1–4 bytes of 7 bits), then for PUBLISH the topic (2-byte length, UTF-8), the packet id
 * when QoS > 0, on MQTT 5 the properties (a variable-length size, skipped: topic aliases are not
 * enabled by our CONNECT, so the broker sends every topic in full), and the payload.
 */
export interface FramerHandlers {
  publish(topic: string, payload: Buffer, qos: 0 | 1 | 2, messageId: number): void;
  /** A whole packet of another type, bytes included fixed header and all. */
  other(packet: Buffer): void;
  /** The stream is not MQTT: the connection should be dropped. */
  error(err: Error): void;
}

export interface Framer {
  /** Feed the next chunk of the socket. */
  push(chunk: Buffer): void;
}

const PUBLISH = 3;

export function createFramer(protocolVersion: 4 | 5, handlers: FramerHandlers): Framer {
  /** Chunks of a packet not yet complete, and its size once its header has arrived (else 0). */
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let needed = 0;
  let failed = false;

  function fail(message: string): void {
    failed = true;
    pending = [];
    handlers.error(new Error(message));
  }

  /**
   * Reads one packet at `at`; returns where the next begins, or -1 when the packet is incomplete
   * (`needed` then holds its size when its header was complete).
   */
  function packetAt(buf: Buffer, at: number): number {
    needed = 0;
    if (buf.length - at < 2) return -1;
    let length = 0;
    let multiplier = 1;
    let pos = at + 1;
    for (let n = 0; ; n++) {
      if (n === 4) {
        fail('malformed remaining length');
        return buf.length;
      }
      if (pos >= buf.length) return -1;
      const byte = buf[pos++]!;
      length += (byte & 0x7f) * multiplier;
      if ((byte & 0x80) === 0) break;
      multiplier *= 128;
    }
    const end = pos + length;
    if (end > buf.length) {
      needed = end - at;
      return -1;
    }
    const first = buf[at]!;
    if (first >> 4 !== PUBLISH) {
      handlers.other(buf.subarray(at, end));
      return end;
    }
    const qos = (first >> 1) & 3;
    if (qos === 3) {
      fail('PUBLISH with QoS 3');
      return buf.length;
    }
    if (pos + 2 > end) {
      fail('PUBLISH without a topic');
      return buf.length;
    }
    const topicEnd = pos + 2 + buf.readUInt16BE(pos);
    let body = topicEnd;
    let messageId = 0;
    if (qos > 0) {
      messageId = body + 2 <= end ? buf.readUInt16BE(body) : -1;
      body += 2;
    }
    if (protocolVersion === 5) {
      // The properties' size, a variable byte integer, then the properties themselves.
      let size = 0;
      let mult = 1;
      for (let n = 0; ; n++) {
        if (n === 4 || body >= end) {
          fail('PUBLISH with malformed properties');
          return buf.length;
        }
        const byte = buf[body++]!;
        size += (byte & 0x7f) * mult;
        if ((byte & 0x80) === 0) break;
        mult *= 128;
      }
      body += size;
    }
    if (topicEnd > end || body > end || messageId < 0) {
      fail('PUBLISH shorter than its header');
      return buf.length;
    }
    handlers.publish(buf.toString('utf8', pos + 2, topicEnd), buf.subarray(body, end), qos as 0 | 1 | 2, messageId);
    return end;
  }

  return {
    push(chunk) {
      if (failed) return;
      let buf = chunk;
      if (pending.length > 0) {
        pending.push(chunk);
        pendingBytes += chunk.length;
        // A large packet arrives in many chunks: they are joined once, when it is complete.
        if (pendingBytes < needed) return;
        buf = Buffer.concat(pending, pendingBytes);
        pending = [];
      }
      let at = 0;
      while (at < buf.length && !failed) {
        const next = packetAt(buf, at);
        if (next < 0) {
          // Incomplete: kept for the next chunks (a copy, so the chunk it came in can go).
          const piece = Buffer.from(buf.subarray(at));
          pending = [piece];
          pendingBytes = piece.length;
          return;
        }
        at = next;
      }
    },
  };
}
