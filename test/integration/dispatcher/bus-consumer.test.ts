import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { createBusConsumer } from '../../../services/dispatcher/bus-consumer.js';
import { EVENTS_TOPIC, type BusConnection } from '../../../services/shared/bus/index.js';
import type { PublishInput, PublishResult } from '../../../services/dispatcher/events.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { Errors } from '../../../services/shared/error-catalog.js';
import { eventually } from '../../helpers/eventually.js';

// In-process aedes only: the real-broker (Mosquitto) harness belongs to the integration suite.
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

async function broker(): Promise<string> {
  const aedes = await Aedes.createBroker();
  const server: Server = createServer(aedes.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(
    () => new Promise<void>((r) => aedes.close(() => r())),
    () => new Promise<void>((r) => server.close(() => r())),
  );
  return `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** The embedded broker's kind of connection: 3.1.1, no shared subscriptions. */
const bus = (url: string): BusConnection => ({ url, protocolVersion: 4, sharedSubscriptions: false });

describe('bus consumer', () => {
  it('acknowledges only after the outbox commit: a consumer that dies first gets the event again', async () => {
    const url = await broker();
    const event = { id: 'evt_bus_1', type: 'irrigation.recommended', data: { farm: 'f1' } };
    const seen: PublishInput[] = [];
    // First consumer: the commit never completes (a crash before fsync).
    const stuck = createBusConsumer(
      bus(url),
      { logger: silentLogger(), publish: (input) => (seen.push(input), new Promise<PublishResult>(() => {})) },
      { clientId: 'dispatcher-test' },
    );
    await stuck.start();
    const client = await mqtt.connectAsync(url);
    closers.push(() => client.endAsync());
    await client.publishAsync(EVENTS_TOPIC, JSON.stringify(event), { qos: 1 });
    await eventually(() => seen.length === 1);
    await stuck.stop();
    // Same session, working commit: the broker redelivers the unacknowledged event.
    const accepted: PublishInput[] = [];
    const healthy = createBusConsumer(
      bus(url),
      { logger: silentLogger(), publish: async (input) => (accepted.push(input), { id: event.id, deliveries: 1, duplicate: false }) },
      { clientId: 'dispatcher-test' },
    );
    await healthy.start();
    closers.push(() => healthy.stop());
    await eventually(() => accepted.length === 1);
    expect(accepted[0]).toEqual(event);
  });

  it('acknowledges and drops a message that is not JSON', async () => {
    const url = await broker();
    const calls: unknown[] = [];
    const consumer = createBusConsumer(
      bus(url),
      { logger: silentLogger(), publish: async (i) => (calls.push(i), { id: 'x', deliveries: 0, duplicate: false }) },
      { clientId: 'dispatcher-test-2' },
    );
    await consumer.start();
    closers.push(() => consumer.stop());
    const client = await mqtt.connectAsync(url);
    closers.push(() => client.endAsync());
    await client.publishAsync(EVENTS_TOPIC, 'not json', { qos: 1 });
    await client.publishAsync(EVENTS_TOPIC, JSON.stringify({ type: 'sensor.stale', data: {} }), { qos: 1 });
    await eventually(() => calls.length === 1);
    expect(calls).toEqual([{ type: 'sensor.stale', data: {} }]);
  });

  it('acknowledges and drops an event refused for what it is (a value the database will not store), and goes on with the next', async () => {
    const url = await broker();
    const calls: unknown[] = [];
    const consumer = createBusConsumer(
      bus(url),
      {
        logger: silentLogger(),
        publish: async (i) => {
          calls.push(i);
          if ((i as { farm?: string }).farm === 'f\u0000') throw Errors.databaseValueRefused('Cannot append on the outbox: invalid byte sequence', { sqlState: '22021' });
          return { id: 'x', deliveries: 0, duplicate: false };
        },
      },
      { clientId: 'dispatcher-test-3' },
    );
    await consumer.start();
    closers.push(() => consumer.stop());
    const client = await mqtt.connectAsync(url);
    closers.push(() => client.endAsync());
    await client.publishAsync(EVENTS_TOPIC, JSON.stringify({ type: 'sensor.stale', farm: 'f\u0000', data: {} }), { qos: 1 });
    await client.publishAsync(EVENTS_TOPIC, JSON.stringify({ type: 'sensor.stale', farm: 'f1', data: {} }), { qos: 1 });
    await eventually(() => calls.length === 2);
    expect(calls.map((c) => (c as { farm: string }).farm)).toEqual(['f\u0000', 'f1']);
  });
});
