/**
 * runHost making parts leave. A start that fails leaves no broker session behind in a shared group: the parts that started,
 * and the one whose start threw after its subscriber connected, leave (their sessions end), so the
 * live member of the group gets every message published afterwards. Against a real Mosquitto of
 * this file's own (a session left in a group of the run's broker would take a share of another
 * file's messages). A running host asked to leave (`fieldhook leave`) ends its parts the same way.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type RunningMosquitto } from '../../../infra/harness/mosquitto.js';
import { runHost } from '../../../services/host/run-host.js';
import { connectSubscriber, endSubscribers, type BusConnection, type Subscriber } from '../../../services/shared/bus/index.js';
import type { Component, LeaveOptions } from '../../../services/shared/component.js';
import { Errors } from '../../../services/shared/error-catalog.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { eventually } from '../../helpers/eventually.js';
import { sessionPresent } from '../../helpers/mqtt-session.js';

const N = 20;
const TOPIC = 'fieldhook/v1/events';

describe('runHost, parts that leave', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fh-run-host-leave-'));
  let mosquitto: RunningMosquitto;
  let bus: BusConnection;

  beforeAll(async () => {
    mosquitto = await startMosquitto({ dir: join(dir, 'mosquitto') });
    bus = { url: mosquitto.url, protocolVersion: 5, sharedSubscriptions: true };
  });
  afterAll(async () => {
    await mosquitto?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A part with one subscriber in the group, as the forecasts or the dispatcher are; `fail` throws once it is subscribed. */
  function part(name: string, handled: string[], calls: string[], fail = false, group = 'failed-start'): Component {
    let subscriber: Subscriber | undefined;
    const close = async (leaving?: LeaveOptions) => {
      calls.push(`${name} ${leaving ? 'leave' : 'stop'}`);
      await endSubscribers([subscriber], leaving);
    };
    return {
      name,
      async start() {
        subscriber = connectSubscriber(bus, { clientId: `failed-start-${name}`, filter: TOPIC, group }, (p) => void handled.push(p.payload.toString()), silentLogger());
        await subscriber.start();
        // As a predictor whose partition another instance holds: a refusal no restart gets past.
        if (fail) throw Errors.predictPartitionTaken(`${name} refused to start`);
      },
      stop: () => close(),
      leave: (options) => close(options ?? {}),
    };
  }


  const hostOptions = { logger: silentLogger(), http: { host: '127.0.0.1', port: 0 }, handleSignals: false };

  /**
   * With the instance down, N messages are published; started again, its kept session hands them
   * to `handled`, in order.
   */
  async function queuedWhileDown(prefix: string, handled: string[], calls: string[], group: string): Promise<void> {
    const client = await mqtt.connectAsync(bus.url, { protocolVersion: 5 });
    for (let i = 0; i < N; i++) await client.publishAsync(TOPIC, `${prefix}${i}`, { qos: 1 });
    await client.endAsync();
    const back = await runHost([part(group, handled, calls, false, group)], hostOptions);
    try {
      await eventually(() => handled.length === N, { what: 'what was published while the instance was down' });
      expect(handled).toEqual(Array.from({ length: N }, (_, i) => `${prefix}${i}`));
    } finally {
      await back.stop();
    }
  }

  it('makes the parts that started, and the one that threw after subscribing, leave: the live member then gets every message', async () => {
    const live: string[] = [];
    const member = connectSubscriber(bus, { clientId: 'failed-start-live', filter: TOPIC, group: 'failed-start' }, (p) => void live.push(p.payload.toString()), silentLogger());
    await member.start();
    try {
      const dead: string[] = [];
      const calls: string[] = [];
      const neverReached: Component = { name: 'later', start: async () => {}, stop: async () => void calls.push('later stop') };
      await expect(
        runHost([part('first', dead, calls), part('refused', dead, calls, true), neverReached], { logger: silentLogger(), http: { host: '127.0.0.1', port: 0 }, handleSignals: false }),
      ).rejects.toThrow('refused refused to start');
      expect(calls).toEqual(['first leave', 'later stop', 'refused leave']);
      expect(await sessionPresent(bus.url, 'failed-start-first')).toBe(false);
      expect(await sessionPresent(bus.url, 'failed-start-refused')).toBe(false);

      const client = await mqtt.connectAsync(bus.url, { protocolVersion: 5 });
      const sent: string[] = [];
      for (let i = 0; i < N; i++) {
        await client.publishAsync(TOPIC, `e${i}`, { qos: 1 });
        sent.push(`e${i}`);
      }
      await client.endAsync();
      await eventually(() => live.length === N, { what: 'the live member taking every message' });
      expect(live).toEqual(sent);
      expect(dead).toEqual([]);
    } finally {
      await member.stop();
    }
  });

  it('a restart that fails keeps the sessions it found: what is published while it is down waits for its next start', async () => {
    const handled: string[] = [];
    const calls: string[] = [];
    const refusing: Component = { name: 'refusing', start: async () => Promise.reject(Errors.predictPartitionTaken('another instance holds it')), stop: async () => {} };
    // A run that went well made the session; the instance is then restarted into a refusal.
    await (await runHost([part('restarts', handled, calls, false, 'restarts')], hostOptions)).stop();
    await expect(runHost([part('restarts', handled, calls, false, 'restarts'), refusing], hostOptions)).rejects.toThrow('another instance holds it');
    expect(calls).toEqual(['restarts stop', 'restarts leave']);
    // (Not probed with sessionPresent: the probe ends the session it finds.) The group's only
    // member is down: its kept session queues what devices publish meanwhile.
    await queuedWhileDown('r', handled, calls, 'restarts');
  });

  it('a start that fails for a reason a restart gets past (InfluxDB away) stops its parts, sessions kept, even new ones', async () => {
    const handled: string[] = [];
    const calls: string[] = [];
    const away: Component = { name: 'influxdb', start: async () => Promise.reject(new Error('InfluxDB is away')), stop: async () => {} };
    // The group's only member, never run before, fails its first start: its new session must stay.
    await expect(runHost([part('first-runs', handled, calls, false, 'first-runs'), away], hostOptions)).rejects.toThrow('InfluxDB is away');
    expect(calls).toEqual(['first-runs stop']);
    await queuedWhileDown('f', handled, calls, 'first-runs');
  });

  it('a running host that leaves stops listening, then makes the parts leave in reverse order (those without leave stop)', async () => {
    const calls: string[] = [];
    const plain: Component = { name: 'plain', start: async () => {}, stop: async () => void calls.push('plain stop') };
    const host = await runHost([plain, part('second', [], calls)], { logger: silentLogger(), http: { host: '127.0.0.1', port: 0 }, handleSignals: false });
    await host.leave();
    expect(calls).toEqual(['second leave', 'plain stop']);
    expect(await sessionPresent(bus.url, 'failed-start-second')).toBe(false);
    await expect(fetch(`${host.url}/healthz`)).rejects.toThrow();
  });
});
