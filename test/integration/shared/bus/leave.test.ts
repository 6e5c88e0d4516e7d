/**
 * Leaving a shared subscription group for good, against a real Mosquitto (this file's own: a
 * session left behind in a group would take a share of another file's messages). A member that
 * stops keeps its session, and the broker goes on assigning it a share of the group's messages,
 * queued until it returns; a member that leaves hands on what its session held and takes no share
 * any more, so the remaining member gets every message.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import mqtt, { type IConnackPacket, type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type RunningMosquitto } from '../../../../infra/harness/mosquitto.js';
import { createConsumerConnection, DEFAULT_CONSUMER_CONNECTION_OPTIONS, type ConsumerConnection } from '../../../../services/ingestor/mqtt-consumer-connection.js';
import { connectSubscriber, sharedSubscription, type BusConnection, type Subscriber } from '../../../../services/shared/bus/index.js';
import { silentLogger } from '../../../../services/shared/logger.js';
import { eventually } from '../../../helpers/eventually.js';
import { sessionPresent } from '../../../helpers/mqtt-session.js';

const N = 20;
const dir = mkdtempSync(join(tmpdir(), 'fh-bus-leave-'));
let mosquitto: RunningMosquitto;
const closers: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  mosquitto = await startMosquitto({ dir: join(dir, 'mosquitto') });
});
afterEach(async () => {
  while (closers.length) await closers.pop()!().catch(() => {});
});
afterAll(async () => {
  await mosquitto?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function publisher(url: string): Promise<MqttClient> {
  const client = await mqtt.connectAsync(url, { clientId: `pub-${Math.random().toString(16).slice(2)}` });
  closers.push(() => client.endAsync());
  return client;
}

async function publish(client: MqttClient, topic: string, from: number, count: number): Promise<string[]> {
  const sent: string[] = [];
  for (let i = from; i < from + count; i++) {
    await client.publishAsync(topic, `m${i}`, { qos: 1 });
    sent.push(`m${i}`);
  }
  return sent;
}


for (const protocolVersion of [5, 4] as const) {
  describe(`bus subscriber, MQTT ${protocolVersion === 5 ? '5' : '3.1.1'}, in a shared group`, () => {
    const topic = `t/leave-${protocolVersion}`;
    const connection = (): BusConnection => ({ url: mosquitto.url, protocolVersion, sharedSubscriptions: true });

    // A group per test: the members a test stops stay in theirs.
    function member(group: string, clientId: string, handled: string[]): Subscriber {
      const s = connectSubscriber(connection(), { clientId, filter: `${topic}/#`, group: `${group}-${protocolVersion}` }, (p) => void handled.push(p.payload.toString()), silentLogger());
      closers.push(() => s.stop());
      return s;
    }

    /**
     * Two members of `group`; the first stops, and N messages are published while it is away: the
     * live one takes its share, the rest is queued in the stopped one's session.
     */
    async function shareQueuedForStopped(group: string) {
      const a: string[] = [];
      const b: string[] = [];
      const id = `${group}-a-${protocolVersion}`;
      const first = member(group, id, a);
      const other = member(group, `${group}-b-${protocolVersion}`, b);
      await first.start();
      await other.start();
      await first.stop();
      const client = await publisher(mosquitto.url);
      const sent = await publish(client, `${topic}/x`, 0, N);
      await eventually(() => b.length > 0, { what: 'the live member taking its share' });
      return { a, b, id, client, sent };
    }

    it('a member that stops keeps its session: its share is queued and reaches it when it starts again', async () => {
      const { a, b, id, sent } = await shareQueuedForStopped('keep');
      expect(b.length).toBeLessThan(N);
      const again = member('keep', id, a);
      await again.start();
      await eventually(() => a.length + b.length === N, { what: 'the queued share delivered after the restart' });
      expect([...a, ...b].sort()).toEqual([...sent].sort());
      expect(a.length).toBeGreaterThan(0);
    });

    it('a member that leaves hands on what its session held, and the other member then gets every message', async () => {
      // Its share of these is queued in its session while it is away…
      const { a, b, id, client, sent: before } = await shareQueuedForStopped('leave');
      // …and handled when it comes back to leave: nothing it held is lost.
      const leaving = member('leave', id, a);
      await leaving.start();
      await leaving.leave();
      expect(leaving.connected()).toBe(false);
      await eventually(() => a.length + b.length === N, { what: 'every message of before handled once' });
      expect([...a, ...b].sort()).toEqual([...before].sort());
      const handledByA = a.length;

      const after = await publish(client, `${topic}/y`, N, N);
      await eventually(() => b.length === (N - handledByA) + N, { what: 'the remaining member taking all of after' });
      expect(b.slice(-N)).toEqual(after);
      expect(a.length).toBe(handledByA);
      if (protocolVersion === 5) expect(await sessionPresent(mosquitto.url, id)).toBe(false);
    });
  });
}

describe('bus subscriber, a leave cut short', () => {
  it('stops instead and keeps the session with what it holds: a restart gets the message it could not handle', async () => {
    const connection: BusConnection = { url: mosquitto.url, protocolVersion: 5, sharedSubscriptions: true };
    const id = 'leave-cut-short';
    let failures = 0;
    const handled: string[] = [];
    const failing = connectSubscriber(connection, { clientId: id, filter: 'cut/#', group: 'cut', retryDelayMs: 5 }, () => {
      failures++;
      throw new Error('store down');
    }, silentLogger());
    closers.push(() => failing.stop());
    await failing.start();
    const client = await publisher(mosquitto.url);
    await client.publishAsync('cut/x', 'held', { qos: 1 });
    await eventually(() => failures > 0, { what: 'the handler failing on the message' });
    const deadline = new AbortController();
    const leaving = failing.leave({ signal: deadline.signal });
    // The marker waits behind the message that keeps failing; the operator's deadline passes.
    deadline.abort();
    await expect(leaving).rejects.toThrow(/did not leave .*the session is kept/);

    const again = connectSubscriber(connection, { clientId: id, filter: 'cut/#', group: 'cut' }, (p) => void handled.push(p.payload.toString()), silentLogger());
    closers.push(() => again.stop());
    await again.start();
    await eventually(() => handled.includes('held'), { what: 'the kept message delivered to the restarted member' });
    // Subscribed again on its kept session (which had lost the subscription to the UNSUBSCRIBE).
    await client.publishAsync('cut/y', 'later', { qos: 1 });
    await eventually(() => handled.includes('later'), { what: 'a new message after the restart' });
  });
});

describe('bus subscriber on the embedded broker (aedes, 3.1.1, no shared subscriptions)', () => {
  it('leaves: handles what it held and ends its session', async () => {
    const aedes = await Aedes.createBroker();
    const server = createServer(aedes.handle);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(async () => {
      await new Promise<void>((r) => aedes.close(() => r()));
      await new Promise<void>((r) => server.close(() => r()));
    });
    const connection: BusConnection = { url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`, protocolVersion: 4, sharedSubscriptions: false };
    const handled: string[] = [];
    const subscriber = connectSubscriber(connection, { clientId: 'embedded-leave', filter: 'e/#', group: 'g' }, (p) => void handled.push(p.payload.toString()), silentLogger());
    closers.push(() => subscriber.stop());
    await subscriber.start();
    const client = await publisher(connection.url);
    for (let i = 0; i < 5; i++) await client.publishAsync('e/x', `m${i}`, { qos: 1 });
    await subscriber.leave();
    expect(handled).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    // A clean session was made and ended: a connect without clean start finds none.
    const probe = mqtt.connect(connection.url, { clientId: 'embedded-leave', clean: false, reconnectPeriod: 0, manualConnect: true });
    const connack = await new Promise<IConnackPacket>((resolve) => {
      probe.once('connect', resolve);
      probe.connect();
    });
    await probe.endAsync();
    expect(connack.sessionPresent).toBe(false);
  });
});

describe('ingestor consumer connection (mqtt-packet) in a shared group', () => {
  for (const protocolVersion of [5, 4] as const) {
    it(`MQTT ${protocolVersion === 5 ? '5' : '3.1.1'}: leaves, with what its session held acknowledged, and takes no share afterwards`, async () => {
      const topic = `c/leave-${protocolVersion}`;
      const filter = sharedSubscription(`cg${protocolVersion}`, `${topic}/#`);
      const a: string[] = [];
      const b: string[] = [];
      const open = (clientId: string, into: string[]): ConsumerConnection => {
        const c = createConsumerConnection(
          { ...DEFAULT_CONSUMER_CONNECTION_OPTIONS, url: mosquitto.url, clientId, protocolVersion, filters: [filter], maximumPacketSize: 1 << 20 },
          // Settled a turn later, as a spool commit would be.
          (m) => {
            const body = m.payload.toString();
            setImmediate(() => {
              into.push(body);
              m.ack();
            });
          },
          silentLogger(),
        );
        closers.push(() => c.stop());
        return c;
      };
      const id = `consumer-a-${protocolVersion}`;
      const first = open(id, a);
      const other = open(`consumer-b-${protocolVersion}`, b);
      await first.start();
      await other.start();
      await first.stop();
      const client = await publisher(mosquitto.url);
      const before = await publish(client, `${topic}/x`, 0, N);
      await eventually(() => b.length > 0, { what: 'the live connection taking its share' });

      const leaving = open(id, a);
      await leaving.start();
      await leaving.leave();
      expect(leaving.connected()).toBe(false);
      await eventually(() => a.length + b.length === N, { what: 'every message of before handled once' });
      expect([...a, ...b].sort()).toEqual([...before].sort());
      const handledByA = a.length;
      expect(handledByA).toBeGreaterThan(0);

      const after = await publish(client, `${topic}/y`, N, N);
      await eventually(() => b.length === N - handledByA + N, { what: 'the remaining connection taking all of after' });
      expect(b.slice(-N)).toEqual(after);
      expect(a.length).toBe(handledByA);
      if (protocolVersion === 5) expect(await sessionPresent(mosquitto.url, id)).toBe(false);
    });
  }
});
