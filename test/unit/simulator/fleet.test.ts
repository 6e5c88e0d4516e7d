import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { Aedes } from 'aedes';
import { describe, expect, it } from 'vitest';
import { createFleet } from '../../../services/simulator/fleet.js';
import type { NativeReading } from '../../../services/simulator/sensors.js';
import { createHttpTransport, createMqttTransport, readingsTopic, type ReadingTransport } from '../../../services/simulator/transports.js';

const HOUR_MS = 3_600_000;

function recordingTransport(fail = new Set<string>()) {
  const sent = new Map<string, NativeReading[]>();
  const transport: ReadingTransport = {
    async send(device, readings) {
      if (fail.has(device)) throw new Error('ingestor down');
      sent.set(device, [...(sent.get(device) ?? []), ...readings]);
    },
    async close() {},
  };
  return { sent, transport };
}

describe('simulated fleet', () => {
  it('replays each device\'s readings on a sped-up clock, never past the present', async () => {
    let wall = Date.parse('2026-07-01T12:00:00Z');
    const { sent, transport } = recordingTransport();
    const fleet = createFleet({ devices: 3, seed: 1, speedup: 3600, startMs: wall - 10 * HOUR_MS, transport, now: () => wall });
    expect(fleet.specs.map((s) => s.deviceId)).toEqual(['sim-0001', 'sim-0002', 'sim-0003']);

    const first = await fleet.push();
    expect(first.simulatedMs).toBe(wall - 10 * HOUR_MS);
    expect(first.sent).toBe(0);

    wall += 5_000; // 5 s of wall time = 5 simulated hours
    const second = await fleet.push();
    expect(second.simulatedMs).toBe(wall - 10 * HOUR_MS + 5 * 3600 * 1000 - 5_000);
    expect(second.sent).toBeGreaterThanOrEqual(3 * 3);
    expect(second.sent).toBeLessThanOrEqual(3 * 5);

    wall += 60_000; // would be 60 h ahead: capped at the present
    const third = await fleet.push();
    expect(third.simulatedMs).toBe(wall);
    for (const readings of sent.values()) {
      const ts = readings.map((r) => Date.parse(r.ts));
      expect(ts).toEqual([...ts].sort((a, b) => a - b));
      expect(new Set(readings.map((r) => r.id)).size).toBe(readings.length);
      expect(Math.max(...ts)).toBeLessThanOrEqual(wall);
      expect(Math.min(...ts)).toBeGreaterThan(Date.parse('2026-07-01T02:00:00Z'));
    }
  });

  it('keeps unsent readings for the next push when the ingestor fails', async () => {
    let wall = Date.parse('2026-07-01T12:00:00Z');
    const fail = new Set(['sim-0001']);
    const { sent, transport } = recordingTransport(fail);
    const fleet = createFleet({ devices: 2, seed: 2, speedup: 3600, startMs: wall - 12 * HOUR_MS, transport, now: () => wall });
    wall += 6_000;
    const r1 = await fleet.push();
    expect(r1.failedDevices).toBe(1);
    expect(sent.has('sim-0001')).toBe(false);
    fail.clear();
    await fleet.push();
    // The failed device catches up: both have sent the same hours.
    expect(sent.get('sim-0001')!.at(-1)!.ts).toBe(sent.get('sim-0002')!.at(-1)!.ts);
    expect(sent.get('sim-0001')!.length).toBeGreaterThan(3);
  });
});

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
