import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { Aedes } from 'aedes';
import { describe, expect, it } from 'vitest';
import { createHttpTransport, createMqttTransport, readingsTopic } from '../../../services/simulator/transports.js';

describe('transports', () => {
  it('HTTP: POST /v1/readings with the device secret and an array of native readings', async () => {
    const requests: { url?: string; auth?: string; body: unknown }[] = [];
    const server = createHttpServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        requests.push({ url: req.url, auth: req.headers.authorization, body: JSON.parse(body) });
        res.writeHead(requests.length === 1 ? 202 : 503).end('{}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const transport = createHttpTransport({ url: `http://127.0.0.1:${port}`, secret: 's3cret' });
    const reading = { device: 'sim-0001', id: 'a', ts: '2026-07-01T00:00:00.000Z', values: { soil_moisture: 0.2 } };
    await transport.send('sim-0001', [reading]);
    await expect(transport.send('sim-0001', [reading])).rejects.toThrow(/503/);
    server.close();
    expect(requests[0]).toEqual({ url: '/v1/readings', auth: 'Bearer s3cret', body: [reading] });
  });

  it('MQTT: QoS 1 publishes to the device topic, logged in as the device', async () => {
    const logins: string[] = [];
    const received: { topic: string; qos: number; payload: unknown }[] = [];
    const broker = await Aedes.createBroker({
      authenticate(_client, username, password, done) {
        logins.push(`${username}:${password?.toString()}`);
        done(null, password?.toString() === 'pw');
      },
    });
    broker.on('publish', (packet, client) => {
      if (client) received.push({ topic: packet.topic, qos: packet.qos, payload: JSON.parse(packet.payload.toString()) });
    });
    const server = createTcpServer(broker.handle);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const transport = createMqttTransport({ url: `mqtt://127.0.0.1:${port}`, secret: 'pw' });
    const readings = [1, 2].map((i) => ({ device: 'sim-0007', id: `m${i}`, ts: `2026-07-01T0${i}:00:00.000Z`, values: { rainfall: i } }));
    await transport.send('sim-0007', readings);
    await transport.close();
    await new Promise<void>((r) => broker.close(() => r()));
    server.close();
    expect(logins).toEqual(['sim-0007:pw']);
    expect(received).toEqual(readings.map((payload) => ({ topic: readingsTopic('sim-0007'), qos: 1, payload })));
  });
});
