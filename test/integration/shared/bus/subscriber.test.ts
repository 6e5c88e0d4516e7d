import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { startMosquitto } from '../../../../infra/harness/mosquitto.js';
import { InvalidBusMessage, connectSubscriber, subscriptionFilter, type BusConnection } from '../../../../services/shared/bus/index.js';
import { silentLogger } from '../../../../services/shared/logger.js';
import { eventually } from '../../../helpers/eventually.js';

// The embedded broker's kind (aedes, 3.1.1, no shared subscriptions), in process on loopback.
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

type AuthorizeSubscribe = NonNullable<Parameters<typeof Aedes.createBroker>[0]>['authorizeSubscribe'];

async function broker(port = 0, authorizeSubscribe?: AuthorizeSubscribe): Promise<{ connection: BusConnection; port: number; close(): Promise<void> }> {
  const aedes = await Aedes.createBroker(authorizeSubscribe ? { authorizeSubscribe } : {});
  const server: Server = createServer(aedes.handle);
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  const bound = (server.address() as AddressInfo).port;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await new Promise<void>((r) => aedes.close(() => r()));
    await new Promise<void>((r) => server.close(() => r()));
  };
  closers.push(close);
  return { connection: { url: `mqtt://127.0.0.1:${bound}`, protocolVersion: 4, sharedSubscriptions: false }, port: bound, close };
}

async function publisher(url: string) {
  const client = await mqtt.connectAsync(url);
  closers.push(() => client.endAsync());
  return client;
}

describe('bus subscriber', () => {
  it('names shared subscriptions only where the broker splits them', () => {
    const options = { filter: 'fieldhook/v1/events', group: 'g' };
    expect(subscriptionFilter({ url: 'mqtt://x', protocolVersion: 5, sharedSubscriptions: true }, options)).toBe('$share/g/fieldhook/v1/events');
    expect(subscriptionFilter({ url: 'mqtt://x', protocolVersion: 4, sharedSubscriptions: false }, options)).toBe('fieldhook/v1/events');
  });

  it('starts, and counts as connected, only once the broker acknowledged the subscription', async () => {
    let grant: (() => void) | undefined;
    const { connection } = await broker(0, (_client, sub, done) => {
      grant = () => done(null, sub);
    });
    const subscriber = connectSubscriber(connection, { clientId: 'sub-suback', filter: 't/#', group: 'g' }, () => undefined, silentLogger());
    closers.push(() => subscriber.stop());
    let started = false;
    const starting = subscriber.start().then(() => (started = true));
    await eventually(() => grant !== undefined, { what: 'the subscription to reach the broker' });
    expect(subscriber.client.connected).toBe(true);
    expect(subscriber.connected()).toBe(false);
    expect(started).toBe(false);
    grant!();
    await starting;
    expect(subscriber.connected()).toBe(true);
  });

  it('fails to start when the broker refuses the subscription', async () => {
    const { connection } = await broker(0, (_client, _sub, done) => done(null, null)); // a SUBACK with 0x80
    const subscriber = connectSubscriber(connection, { clientId: 'sub-refused', filter: 't/#', group: 'g' }, () => undefined, silentLogger());
    closers.push(() => subscriber.stop());
    await expect(subscriber.start()).rejects.toThrow(/^subscribing to t\/# failed: /);
    expect(subscriber.connected()).toBe(false);
  });

  it('acknowledges and drops an invalid message, and retries a failed one on the same message until it is handled', async () => {
    const { connection } = await broker();
    const handled: string[] = [];
    let failures = 0;
    const subscriber = connectSubscriber(
      connection,
      { clientId: 'sub-policy', filter: 't/#', group: 'g', retryDelayMs: 10 },
      (packet) => {
        const body = packet.payload.toString();
        if (body === 'garbage') throw new InvalidBusMessage('not a message');
        if (body === 'flaky' && failures++ < 3) throw new Error('store busy');
        handled.push(body);
      },
      silentLogger(),
    );
    await subscriber.start();
    closers.push(() => subscriber.stop());
    expect(subscriber.connected()).toBe(true);
    const client = await publisher(connection.url);
    await client.publishAsync('t/a', 'garbage', { qos: 1 });
    await client.publishAsync('t/a', 'flaky', { qos: 1 });
    await client.publishAsync('t/a', 'after', { qos: 1 });
    // One message at a time per connection: 'after' waits until 'flaky' finally succeeds.
    await eventually(() => handled.length === 2, { what: 'both valid messages handled' });
    expect(handled).toEqual(['flaky', 'after']);
    expect(failures).toBe(4);
  });

  it('subscribes again when the broker lost the session, so messages keep coming after a broker restart', async () => {
    const first = await broker();
    const handled: string[] = [];
    const subscriber = connectSubscriber(first.connection, { clientId: 'sub-resubscribe', filter: 't/#', group: 'g' }, (p) => void handled.push(p.payload.toString()), silentLogger());
    await subscriber.start();
    closers.push(() => subscriber.stop());
    await first.close();
    // A new broker on the same port knows nothing of the session.
    const second = await broker(first.port);
    await eventually(() => subscriber.connected(), { what: 'reconnect' });
    const client = await publisher(second.connection.url);
    await eventually(
      async () => {
        await client.publishAsync('t/b', 'again', { qos: 1 });
        return handled.includes('again');
      },
      { what: 'a message through the new broker' },
    );
  });

  it('subscribes again after Mosquitto restarts with our session but without its shared subscription', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fh-bus-restart-'));
    closers.push(async () => rmSync(dir, { recursive: true, force: true }));
    const first = await startMosquitto({ dir });
    const handled: string[] = [];
    const connection: BusConnection = { url: first.url, protocolVersion: 5, sharedSubscriptions: true };
    const subscriber = connectSubscriber(connection, { clientId: 'sub-shared-restart', filter: 't/#', group: 'g' }, (p) => void handled.push(p.payload.toString()), silentLogger());
    await subscriber.start();
    closers.push(() => subscriber.stop());
    // SIGTERM: Mosquitto writes its persistence, and restores the session from it on start.
    await first.stop('SIGTERM');
    const second = await startMosquitto({ dir, port: first.port });
    closers.push(() => second.stop());
    await eventually(() => subscriber.connected(), { what: 'reconnect' });
    const client = await publisher(second.url);
    await eventually(
      async () => {
        await client.publishAsync('t/b', 'after restart', { qos: 1 });
        return handled.includes('after restart');
      },
      { what: 'a message through the restarted broker' },
    );
  });

  it('start() rejects when the broker refuses the login', async () => {
    const aedes = await Aedes.createBroker({ authenticate: (_c, _u, _p, done) => done(null, false) });
    const server: Server = createServer(aedes.handle);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(
      () => new Promise<void>((r) => aedes.close(() => r())),
      () => new Promise<void>((r) => server.close(() => r())),
    );
    const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const subscriber = connectSubscriber({ url, protocolVersion: 4, sharedSubscriptions: false }, { clientId: 'refused', filter: 't/#', group: 'g' }, () => {}, silentLogger());
    await expect(subscriber.start()).rejects.toThrow(/Not authorized|Bad username|refused/i);
    await subscriber.stop();
  });
});
