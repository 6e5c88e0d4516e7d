import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import mqttPacket, { type IConnectPacket, type Packet } from 'mqtt-packet';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_CONSUMER_CONNECTION_OPTIONS,
  createConsumerConnection,
  type ConsumerConnection,
  type InboundMessage,
} from '../../../services/ingestor/mqtt-consumer-connection.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { eventually } from '../../helpers/eventually.js';

/**
 * A broker stand-in that speaks MQTT through mqtt-packet and records what the consumer sends: the
 * consumer's side of the protocol (CONNECT, SUBSCRIBE, PUBACK order, QoS 2, reconnect) is checked
 * against the packets the specification prescribes.
 */
function fakeBroker(protocolVersion: 4 | 5) {
  const state = {
    connects: [] as IConnectPacket[],
    subscribes: [] as string[][],
    acks: [] as string[],
    sockets: [] as Socket[],
    /** What the next CONNACK says about the session. */
    sessionPresent: false,
    returnCode: 0,
  };
  const send = (socket: Socket, packet: Packet) => socket.write(mqttPacket.generate(packet, { protocolVersion }));
  const server: Server = createServer((socket) => {
    state.sockets.push(socket);
    const parser = mqttPacket.parser({ protocolVersion });
    parser.on('packet', (packet: Packet) => {
      switch (packet.cmd) {
        case 'connect':
          state.connects.push(packet);
          if (protocolVersion === 5) send(socket, { cmd: 'connack', sessionPresent: state.sessionPresent, reasonCode: state.returnCode });
          else send(socket, { cmd: 'connack', sessionPresent: state.sessionPresent, returnCode: state.returnCode });
          return;
        case 'subscribe':
          state.subscribes.push(packet.subscriptions.map((s) => s.topic));
          send(socket, { cmd: 'suback', messageId: packet.messageId, granted: packet.subscriptions.map(() => 1) });
          return;
        case 'puback':
        case 'pubrec':
        case 'pubcomp':
          state.acks.push(`${packet.cmd} ${packet.messageId}`);
          return;
        case 'pingreq':
          send(socket, { cmd: 'pingresp' });
          return;
        default:
          return;
      }
    });
    socket.on('data', (chunk) => parser.parse(chunk));
    socket.on('error', () => undefined);
  });
  return {
    state,
    listen: () => new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port))),
    publish(messageId: number, qos: 1 | 2 = 1) {
      send(state.sockets.at(-1)!, { cmd: 'publish', topic: 'fieldhook/v1/devices/n-1/readings', payload: Buffer.from(`{"m":${messageId}}`), qos, messageId, retain: false, dup: false });
    },
    pubrel(messageId: number) {
      send(state.sockets.at(-1)!, { cmd: 'pubrel', messageId });
    },
    drop() {
      state.sockets.at(-1)!.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of state.sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('the consumer connection (mqtt-packet over a socket)', () => {
  let broker: ReturnType<typeof fakeBroker> | undefined;
  let connection: ConsumerConnection | undefined;
  afterEach(async () => {
    await connection?.stop();
    await broker?.close();
    connection = undefined;
    broker = undefined;
  });

  async function connect(protocolVersion: 4 | 5, received: InboundMessage[]) {
    broker = fakeBroker(protocolVersion);
    const port = await broker.listen();
    connection = createConsumerConnection(
      {
        ...DEFAULT_CONSUMER_CONNECTION_OPTIONS,
        url: `mqtt://127.0.0.1:${port}`,
        clientId: 'fieldhook-ingest-0',
        username: 'ingestor',
        password: 'pw',
        protocolVersion,
        filters: ['$share/g/fieldhook/v1/devices/+/readings'],
        maximumPacketSize: 1_114_112,
        reconnectMinMs: 10,
        reconnectMaxMs: 40,
      },
      (message) => received.push(message),
      silentLogger(),
    );
    await connection.start();
    return broker;
  }

  it('connects with a persistent session and its limits (MQTT 5), subscribes at QoS 1', async () => {
    const b = await connect(5, []);
    const [connectPacket] = b.state.connects;
    expect(connectPacket).toMatchObject({ clientId: 'fieldhook-ingest-0', clean: false, username: 'ingestor', protocolVersion: 5 });
    expect(connectPacket!.properties).toMatchObject({ maximumPacketSize: 1_114_112, sessionExpiryInterval: DEFAULT_CONSUMER_CONNECTION_OPTIONS.sessionExpiryS, receiveMaximum: 1_000 });
    expect(b.state.subscribes).toEqual([['$share/g/fieldhook/v1/devices/+/readings']]);
    expect(connection!.connected()).toBe(true);
  });

  it('keeps many messages in flight and sends PUBACKs in receive order, each once its message is settled', async () => {
    const received: InboundMessage[] = [];
    const b = await connect(5, received);
    for (let id = 1; id <= 5; id++) b.publish(id);
    await eventually(() => received.length === 5);
    expect(received.map((m) => m.payload.toString())).toEqual([1, 2, 3, 4, 5].map((m) => `{"m":${m}}`));
    // Settled out of order: 3 and 5 wait for 1 and 2, 4 for 4.
    received[2]!.ack();
    received[4]!.ack();
    received[0]!.ack();
    await eventually(() => expect(b.state.acks).toEqual(['puback 1']));
    received[1]!.ack();
    await eventually(() => expect(b.state.acks).toEqual(['puback 1', 'puback 2', 'puback 3']));
    received[3]!.ack();
    received[3]!.ack();
    await eventually(() => expect(b.state.acks).toEqual(['puback 1', 'puback 2', 'puback 3', 'puback 4', 'puback 5']));
  });

  it('answers a QoS 2 message with PUBREC once settled and PUBCOMP on PUBREL (MQTT 3.1.1)', async () => {
    const received: InboundMessage[] = [];
    const b = await connect(4, received);
    b.publish(7, 2);
    await eventually(() => received.length === 1);
    expect(b.state.acks).toEqual([]);
    received[0]!.ack();
    await eventually(() => expect(b.state.acks).toEqual(['pubrec 7']));
    b.pubrel(7);
    await eventually(() => expect(b.state.acks).toEqual(['pubrec 7', 'pubcomp 7']));
  });

  it('reconnects after the broker drops it and subscribes again, whether the session is gone or kept (a kept one may have lost the subscription to a leave cut short)', async () => {
    const received: InboundMessage[] = [];
    const b = await connect(4, received);
    b.publish(1);
    await eventually(() => received.length === 1);

    b.drop();
    await eventually(() => b.state.connects.length === 2 && b.state.subscribes.length === 2 && connection!.connected());
    expect(b.state.connects[1]).toMatchObject({ clientId: 'fieldhook-ingest-0', clean: false });
    // The message of the dropped socket is redelivered by the broker: acknowledging it now sends nothing.
    received[0]!.ack();
    b.publish(1);
    await eventually(() => received.length === 2);
    received[1]!.ack();
    await eventually(() => expect(b.state.acks).toEqual(['puback 1']));

    b.state.sessionPresent = true;
    b.drop();
    await eventually(() => b.state.connects.length === 3 && connection!.connected());
    expect(b.state.subscribes).toHaveLength(3);
  });

  it('rejects start when the broker refuses the login', async () => {
    broker = fakeBroker(4);
    broker.state.returnCode = 5;
    const port = await broker.listen();
    const refused = createConsumerConnection(
      { ...DEFAULT_CONSUMER_CONNECTION_OPTIONS, url: `mqtt://127.0.0.1:${port}`, clientId: 'c', protocolVersion: 4, filters: ['t'], maximumPacketSize: 1024 },
      () => undefined,
      silentLogger(),
    );
    await expect(refused.start()).rejects.toThrow(/refused the connection of c \(code 5\)/);
  });

  it('rejects start when a broker takes the connection and never answers CONNECT, after connectTimeoutMs', async () => {
    // Accepts TCP and stays silent (a hung broker, a TLS port spoken to in plain).
    const accepted: Socket[] = [];
    const silent = createServer((socket) => void accepted.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as AddressInfo).port;
      const waiting = createConsumerConnection(
        { ...DEFAULT_CONSUMER_CONNECTION_OPTIONS, url: `mqtt://127.0.0.1:${port}`, clientId: 'c', protocolVersion: 5, filters: ['t'], maximumPacketSize: 1024, connectTimeoutMs: 100 },
        () => undefined,
        silentLogger(),
      );
      await expect(waiting.start()).rejects.toThrow(/could not connect/);
    } finally {
      for (const socket of accepted) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
