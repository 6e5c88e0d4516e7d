import { mkdtempSync } from 'node:fs';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type RunningMosquitto } from '../../../infra/harness/mosquitto.js';
import {
  DEFAULT_CONSUMER_CONNECTION_OPTIONS,
  createConsumerConnection,
  type InboundMessage,
} from '../../../services/ingestor/mqtt-consumer-connection.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { eventually } from '../../helpers/eventually.js';

/** Deterministic pseudo-random numbers (mulberry32): the same cuts and payloads every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * A TCP relay between the consumer and Mosquitto that hands the broker's bytes on in pieces of a
 * few bytes to a few kilobytes, each in its own write after a turn of the event loop, so MQTT
 * packets reach the consumer cut at every kind of place (inside the fixed header, the remaining
 * length, the topic, the packet id, the properties, the payload). The consumer's bytes go through whole.
 */
function choppingRelay(target: number, seed: number) {
  const random = seeded(seed);
  const sockets: Socket[] = [];
  let pieces = 0;
  const server: Server = createServer((client) => {
    const upstream = netConnect(target, '127.0.0.1');
    sockets.push(client, upstream);
    client.pipe(upstream);
    let queue = Promise.resolve();
    upstream.on('data', (chunk: Buffer) => {
      upstream.pause();
      queue = queue.then(async () => {
        for (let at = 0; at < chunk.length; ) {
          const size = random() < 0.8 ? 1 + Math.floor(random() * 9) : 1 + Math.floor(random() * 4_096);
          client.write(chunk.subarray(at, at + size));
          pieces++;
          at += size;
          await new Promise((resolve) => setImmediate(resolve));
        }
        upstream.resume();
      });
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    // A consumer that closes has its last bytes (PUBACKs, DISCONNECT) passed on first: `pipe` ends
    // the upstream once they are written, where destroying it could drop them on a busy machine
    // (and the broker would redeliver what had been acknowledged).
    client.on('error', close);
    upstream.on('close', close).on('error', close);
  });
  return {
    pieces: () => pieces,
    listen: () => new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port))),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('the consumer connection on a real Mosquitto, the broker’s packets cut across TCP chunks', () => {
  let mosquitto: RunningMosquitto;
  beforeAll(async () => {
    mosquitto = await startMosquitto({ dir: mkdtempSync(join(tmpdir(), 'fieldhook-mosq-chunks-')) });
  });
  afterAll(async () => {
    await mosquitto?.stop();
  });

  for (const protocolVersion of [4, 5] as const) {
    it(`receives every message of an mqtt.js publisher whole and in order, and its PUBACKs settle them (MQTT ${protocolVersion === 5 ? '5' : '3.1.1'})`, async () => {
      const random = seeded(protocolVersion * 7_919);
      const relay = choppingRelay(mosquitto.port, protocolVersion);
      const port = await relay.listen();
      const prefix = `chunks-${process.pid}-${protocolVersion}`;
      const received: { topic: string; payload: Buffer }[] = [];
      // Settled as they arrive, as the ingest settles a commit's messages; the payload is copied, it is let go with its PUBACK.
      const take = (m: InboundMessage) => {
        received.push({ topic: m.topic, payload: Buffer.from(m.payload) });
        m.ack();
      };
      const options = {
        ...DEFAULT_CONSUMER_CONNECTION_OPTIONS,
        url: `mqtt://127.0.0.1:${port}`,
        clientId: `${prefix}-consumer`,
        protocolVersion,
        filters: [`${prefix}/#`],
        maximumPacketSize: 1_114_112,
        reconnectMinMs: 10,
        reconnectMaxMs: 40,
      };
      let connection = createConsumerConnection(options, take, silentLogger());
      await connection.start();
      const publisher = await connectAsync(mosquitto.url, { clientId: `${prefix}-device`, protocolVersion });
      try {
        // Small readings-like payloads, a few larger than a socket read, topics of varied length.
        const sent = Array.from({ length: 300 }, (_, i) => {
          const size = i % 50 === 7 ? 70_000 + Math.floor(random() * 60_000) : Math.floor(random() * 400);
          const payload = Buffer.alloc(size);
          for (let b = 0; b < size; b++) payload[b] = Math.floor(random() * 256);
          return { topic: `${prefix}/${'d'.repeat(1 + Math.floor(random() * 40))}/${i}`, payload };
        });
        await Promise.all(sent.map((m) => publisher.publishAsync(m.topic, m.payload, { qos: 1 })));
        await eventually(() => received.length >= sent.length, { timeoutMs: 60_000, what: 'every message at the consumer' });
        expect(received.map((m) => m.topic)).toEqual(sent.map((m) => m.topic));
        for (const [i, m] of received.entries()) expect(Buffer.compare(m.payload, sent[i]!.payload), `payload ${i}`).toBe(0);
        expect(relay.pieces()).toBeGreaterThan(sent.length * 5);

        // Every PUBACK was taken: the same session again gets only what is published next, nothing redelivered.
        await connection.stop();
        received.length = 0;
        connection = createConsumerConnection(options, take, silentLogger());
        await connection.start();
        await publisher.publishAsync(`${prefix}/marker`, 'after', { qos: 1 });
        await eventually(() => received.length > 0, { what: 'the message published after reconnecting' });
        expect(received.map((m) => m.topic)).toEqual([`${prefix}/marker`]);
      } finally {
        await publisher.endAsync();
        await connection.stop();
        await relay.close();
      }
    }, 90_000);
  }
});
