import mqttPacket, { type Packet } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { createServer, connect as netConnect, type Socket } from 'node:net';
import { createPacketSizeGuard, guardConnection } from '../../../services/ingestor/mqtt-size-guard.js';
import { eventually } from '../../helpers/eventually.js';

const options = { maxPayloadBytes: 1_000, maxControlPacketBytes: 2_000, oversized: (bytes: number) => Buffer.from(`too-large:${bytes}`) };

/** Bytes through the guard in chunks of `chunk` bytes; what comes out, parsed by mqtt-packet, and the error if any. */
async function through(bytes: Buffer, chunk: number): Promise<{ out: Buffer; packets: Packet[]; error?: Error }> {
  const guard = createPacketSizeGuard(options);
  const outs: Buffer[] = [];
  guard.on('data', (b: Buffer) => outs.push(b));
  const done = new Promise<Error | undefined>((resolve) => {
    guard.on('end', () => resolve(undefined));
    guard.on('error', (err) => resolve(err));
  });
  for (let i = 0; i < bytes.length; i += chunk) guard.write(bytes.subarray(i, i + chunk));
  guard.end();
  const error = await done;
  const out = Buffer.concat(outs);
  const packets: Packet[] = [];
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  parser.on('packet', (p) => packets.push(p));
  parser.parse(out);
  return { out, packets, ...(error ? { error } : {}) };
}

const publish = (payloadBytes: number, messageId = 7): Buffer =>
  mqttPacket.generate({ cmd: 'publish', topic: 'fieldhook/v1/devices/d-1/readings', payload: Buffer.alloc(payloadBytes, 0x61), qos: 1, messageId, dup: false, retain: false });
const connect = mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'd-1', clean: true, keepalive: 30, username: 'd-1', password: Buffer.from('secret') });

describe('MQTT packet size guard', () => {
  it.each([1, 3, 64, 100_000])('passes packets within the limits through byte for byte (chunks of %i bytes)', async (chunk) => {
    const stream = Buffer.concat([connect, publish(0, 1), publish(1_000, 2), publish(10, 3), mqttPacket.generate({ cmd: 'pingreq' })]);
    const { out, error } = await through(stream, chunk);
    expect(error).toBeUndefined();
    expect(out.equals(stream)).toBe(true);
  });

  it.each([1, 5, 4096])('replaces an oversized payload and drops it, keeping topic, packet id and the packets around it (chunks of %i bytes)', async (chunk) => {
    const { packets, error } = await through(Buffer.concat([connect, publish(10, 1), publish(50_000, 2), publish(10, 3)]), chunk);
    expect(error).toBeUndefined();
    expect(packets.map((p) => p.cmd)).toEqual(['connect', 'publish', 'publish', 'publish']);
    expect(packets[2]).toMatchObject({ cmd: 'publish', topic: 'fieldhook/v1/devices/d-1/readings', messageId: 2, qos: 1 });
    expect((packets[2] as { payload: Buffer }).payload.toString()).toBe('too-large:50000');
    expect((packets[3] as { payload: Buffer }).payload.length).toBe(10);
  });

  it('passes a read of many packets on as one chunk, not one per packet', async () => {
    const guard = createPacketSizeGuard(options);
    const outs: Buffer[] = [];
    guard.on('data', (b: Buffer) => outs.push(b));
    const read = Buffer.concat([publish(10, 1), publish(20, 2), publish(30, 3), mqttPacket.generate({ cmd: 'pingreq' })]);
    const cut = 1; // the next read begins inside the first fixed header: that byte waits for the rest
    guard.write(Buffer.concat([read, read.subarray(0, cut)]));
    guard.write(read.subarray(cut));
    await new Promise<void>((resolve) => guard.end(resolve));
    expect(outs.map((b) => b.length)).toEqual([read.length, read.length]);
    expect(Buffer.concat(outs).equals(Buffer.concat([read, read]))).toBe(true);
  });

  it('passes a PUBLISH whose packet is above the limit but whose payload is not', async () => {
    // The topic counts towards the remaining length, not towards the payload.
    const packet = mqttPacket.generate({ cmd: 'publish', topic: `t/${'x'.repeat(500)}`, payload: Buffer.alloc(900), qos: 1, messageId: 9, dup: false, retain: false });
    const { out } = await through(packet, 7);
    expect(out.equals(packet)).toBe(true);
  });

  it('fails the connection on another packet above its limit, or on a malformed remaining length', async () => {
    const subscribe = mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: `t/${'x'.repeat(3_000)}`, qos: 1 }] });
    expect((await through(subscribe, 100)).error?.message).toMatch(/larger than 2000/);
    expect((await through(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]), 1)).error?.message).toMatch(/malformed/);
  });

  describe('the guarded connection', () => {
    /** A loopback socket pair: the server's end wrapped as the broker gets it, the client's end bare. */
    async function pair() {
      const server = createServer();
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const { port } = server.address() as { port: number };
      const client = netConnect(port, '127.0.0.1');
      const [accepted] = (await once(server, 'connection')) as [Socket];
      server.close();
      return { connection: guardConnection(accepted, options), client, accepted };
    }

    it('reads what the client sends through the guard, and writes what is written while corked in one socket write', async () => {
      const { connection, client } = await pair();
      const got: Buffer[] = [];
      connection.on('data', (b: Buffer) => got.push(b));
      const sent = Buffer.concat([publish(10, 1), publish(20, 2)]);
      client.write(sent);
      await eventually(() => Buffer.concat(got).length === sent.length);
      expect(Buffer.concat(got).equals(sent)).toBe(true);

      const received: Buffer[] = [];
      client.on('data', (b: Buffer) => received.push(b));
      connection.cork();
      for (let id = 1; id <= 50; id++) mqttPacket.writeToStream({ cmd: 'puback', messageId: id }, connection);
      process.nextTick(() => connection.uncork());
      await eventually(() => Buffer.concat(received).length === 50 * 4);
      // Loopback delivers one write as one read: the 150 chunks left as one write.
      expect(received).toHaveLength(1);
      const parsed: Packet[] = [];
      const parser = mqttPacket.parser({ protocolVersion: 4 });
      parser.on('packet', (p) => parsed.push(p));
      parser.parse(received[0]!);
      expect(parsed.map((p) => (p as { messageId: number }).messageId)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      client.destroy();
      await once(connection, 'close');
    });

    it('closes the socket when the guard refuses a packet, and the connection when the socket closes', async () => {
      const { connection, client, accepted } = await pair();
      const errors: Error[] = [];
      connection.on('error', (err: Error) => errors.push(err));
      // events.once would reject on the 'error' that comes first: only the closes are awaited.
      const closed = (emitter: NodeJS.EventEmitter) => new Promise((resolve) => emitter.once('close', resolve));
      const closes = Promise.all([closed(connection), closed(accepted), closed(client)]);
      client.write(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]));
      await closes;
      expect(errors.map((e) => e.message)).toEqual(['malformed MQTT remaining length']);
    });
  });
});

