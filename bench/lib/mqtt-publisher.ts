import { connect, type Socket } from 'node:net';
import mqttPacket, { type Packet } from 'mqtt-packet';

/**
 * The benchmark's devices: lean MQTT 3.1.1 publishers on mqtt-packet, so that on a 2-core machine
 * the publisher takes as little CPU as it can from the consumers it measures (mqtt.js's stores and
 * callbacks per message cost more than some consumers do). Packets are generated before the clock
 * starts; a window of messages stays in flight per connection and each PUBACK lets the next one go.
 */
export interface BenchPublisher {
  /** One QoS 1 message; resolves on its PUBACK. */
  publishOne(topic: string, payload: string): Promise<void>;
  /**
   * Every message with at most `window` in flight; resolves once all are acknowledged, or the
   * connection is gone (then `acked` tells which were). `onAck(index)` runs per PUBACK.
   */
  publishAll(messages: { topic: string; payload: string }[], window: number, onAck?: (index: number) => void): Promise<void>;
  connected(): boolean;
  close(): void;
}

export async function connectPublisher(url: string, login: { username: string; password: string; clientId: string }): Promise<BenchPublisher> {
  const { hostname, port } = new URL(url);
  const socket: Socket = connect({ host: hostname, port: Number(port) });
  socket.setNoDelay(true);
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  const waiting = new Map<number, () => void>();
  let open = true;
  let nextId = 1;
  let connack: ((code: number) => void) | undefined;
  let closed: (() => void)[] = [];

  parser.on('packet', (packet: Packet) => {
    if (packet.cmd === 'connack') connack?.(packet.returnCode ?? 0);
    else if (packet.cmd === 'puback') {
      const done = waiting.get(packet.messageId!);
      waiting.delete(packet.messageId!);
      done?.();
    }
  });
  socket.on('data', (chunk) => parser.parse(chunk));
  socket.on('error', () => undefined);
  socket.on('close', () => {
    open = false;
    for (const c of closed) c();
    closed = [];
  });

  await new Promise<void>((resolve, reject) => {
    connack = (code) => (code === 0 ? resolve() : reject(new Error(`CONNACK ${code} for ${login.clientId}`)));
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: login.clientId, keepalive: 60, username: login.username, password: Buffer.from(login.password) }));
    });
  });

  const id = () => {
    const value = nextId;
    nextId = nextId === 65_535 ? 1 : nextId + 1;
    return value;
  };
  const packet = (topic: string, payload: string, messageId: number) =>
    mqttPacket.generate({ cmd: 'publish', topic, payload, qos: 1, messageId, retain: false, dup: false });

  return {
    publishOne(topic, payload) {
      return new Promise((resolve, reject) => {
        const messageId = id();
        waiting.set(messageId, resolve);
        closed.push(() => reject(new Error('connection closed')));
        socket.write(packet(topic, payload, messageId));
      });
    },
    publishAll(messages, window, onAck) {
      // Message ids are reused once acknowledged: the window stays far below 65,535.
      const packets = messages.map((m, i) => ({ index: i, messageId: (i % 65_535) + 1, bytes: packet(m.topic, m.payload, (i % 65_535) + 1) }));
      return new Promise<void>((resolve) => {
        let next = 0;
        let outstanding = 0;
        const finish = () => resolve();
        closed.push(finish);
        const send = (n: number) => {
          const chunk: Buffer[] = [];
          for (let k = 0; k < n && next < packets.length; k++) {
            const p = packets[next++]!;
            outstanding++;
            waiting.set(p.messageId, () => {
              outstanding--;
              onAck?.(p.index);
              if (next < packets.length) sendSoon();
              else if (outstanding === 0) finish();
            });
            chunk.push(p.bytes);
          }
          if (chunk.length > 0 && open) socket.write(chunk.length === 1 ? chunk[0]! : Buffer.concat(chunk));
        };
        // PUBACKs of one socket read release their successors in one write.
        let credit = 0;
        const sendSoon = () => {
          if (credit++ === 0) {
            queueMicrotask(() => {
              const n = credit;
              credit = 0;
              send(n);
            });
          }
        };
        if (packets.length === 0) return finish();
        send(window);
      });
    },
    connected: () => open,
    close() {
      if (open) socket.end(mqttPacket.generate({ cmd: 'disconnect' }));
      socket.destroy();
    },
  };
}
