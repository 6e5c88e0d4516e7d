/**
 * Every part twice, as separate processes (`fieldhook start --parts …`), each with a data folder
 * and an instance id of its own, meeting only on one real PostgreSQL, one real Mosquitto and one
 * real InfluxDB: two ingestors (HTTP to both, MQTT through their shared subscription), two
 * predictors and two dispatchers, delivering to two subscriptions.
 *
 * In normal operation every reading is stored once (the same message posted to both ingestors
 * too), every event is delivered exactly once to each subscription, and every instance did some
 * of the work. Then one instance of each kind is killed with SIGKILL in the middle of the traffic:
 * the survivors carry on (the surviving predictor takes the killed one's partitions once their
 * leases expire and evaluates every field), and once the killed ones are replaced (same data
 * folder and id, as an orchestrator restarts them: an ingestor's spool is on its own disk, and
 * the broker keeps their share of its messages in their sessions) everything acknowledged is
 * stored and every event delivered at least once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startProcess, type ManagedProcess } from '../../../infra/harness/process.js';
import { startMosquitto, type RunningMosquitto } from '../../../infra/harness/mosquitto.js';
import type { OpenableFieldProfileRepository } from '../../../services/predictor/field-profiles.js';
import { AUTO_PARTITIONS } from '../../../services/predictor/partition-assignment.js';
import { createFieldProfileRepository } from '../../../services/predictor/open-field-profiles.js';
import { openPredictorDb } from '../../../services/predictor/sqlite-predictor-store.js';
import type { OpenableDeviceRepository } from '../../../services/registry/device.js';
import { createDeviceRepository } from '../../../services/registry/open-devices.js';
import { deviceReadingsTopic } from '../../../services/shared/bus/topics.js';
import { systemClock } from '../../../services/shared/clock.js';
import { closeControlPlane, createControlPlane, type ControlPlane } from '../../../services/shared/database/control-plane.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { eventually } from '../../helpers/eventually.js';
import { countPoints, reading } from '../../helpers/ingest-fixture.js';
import { createTestDatabase } from '../../helpers/postgres-database.js';
import { startReceiver, verify, type Receiver } from '../dispatcher/helpers.js';
import { testInflux } from '../../helpers/test-influx.js';

const influx = testInflux();

const ADMIN_TOKEN = 'multi-instance-admin-token';
const FARM = 'multi';
const DAY_MS = 86_400_000;
/** Fields (one device each) known from the start, and fields added while the killed instances are down. */
const FIELDS = 12;
const LATE_FIELDS = 6;
/** Readings per device and phase: half over HTTP (batches of BATCH), half over MQTT. */
const PER_DEVICE = 20;
const BATCH = 5;
/** Readings posted to both ingestors (the same message twice) in normal operation. */
const TWICE = 10;
const WEBHOOK_TIMEOUT_MS = 1_000;
const PREDICT_LEASE_MS = 2_000;
/** The partitions the live predictors share out. */
const PARTITIONS = AUTO_PARTITIONS;

type Kind = 'ingestor' | 'predictor' | 'dispatcher';
const KINDS: readonly Kind[] = ['ingestor', 'predictor', 'dispatcher'];

interface Instance {
  kind: Kind;
  id: string;
  index: number;
  url: string;
  process: ManagedProcess;
}

const field = (i: number) => `m-${i}`;
const deviceOf = (i: number) => `md-${i}`;

/** How many partitions a predictor holds (`fieldhook_predict_partition_held`). */
async function held(instance: Instance): Promise<number> {
  const text = await (await fetch(`${instance.url}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith('fieldhook_predict_partition_held{') && l.endsWith(' 1')).length;
}

/** The sum of one counter's series in an instance's /metrics (optionally one label value). */
async function counter(instance: Instance, name: string, label = ''): Promise<number> {
  const text = await (await fetch(`${instance.url}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && l.includes(label))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

describe(`two instances of every part as processes, on one PostgreSQL, one Mosquitto and one InfluxDB ${influx.kind}`, () => {
  const bucket = `multi_instance_${process.pid}`;
  const root = mkdtempSync(join(tmpdir(), 'fh-multi-'));
  const base = Date.now() - 2 * 3_600_000;
  let databaseUrl: string;
  let sql: pg.Client;
  let mosquitto: RunningMosquitto;
  let plane: ControlPlane;
  let devices: OpenableDeviceRepository;
  let shared: OpenableFieldProfileRepository;
  let publisher: MqttClient;
  const receivers: Receiver[] = [];
  const secrets: string[] = [];
  const deviceSecrets = new Map<string, string>();
  const instances = new Map<string, Instance>();
  /** Distinct readings acknowledged (HTTP 202 or the broker's PUBACK), by `device/ts`. */
  const acknowledged = new Set<string>();

  const of = (kind: Kind) => [...instances.values()].filter((i) => i.kind === kind).sort((a, b) => a.index - b.index);

  /** Start (or, after a kill, replace: same id and data folder) the `index`-th instance of a part. */
  async function launch(kind: Kind, index: number): Promise<Instance> {
    const id = `${kind}-${'ab'[index]}`;
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      FIELDHOOK_PARTS: kind,
      FIELDHOOK_INSTANCE_ID: id,
      FIELDHOOK_DATA_DIR: join(root, id),
      FIELDHOOK_DATABASE_URL: databaseUrl,
      FIELDHOOK_MQTT_URL: mosquitto.url,
      ...influx.env(bucket),
      FIELDHOOK_HTTP_HOST: '127.0.0.1',
      FIELDHOOK_HTTP_PORT: String(port),
      FIELDHOOK_ADMIN_TOKEN: ADMIN_TOKEN,
      FIELDHOOK_LOG_LEVEL: 'warn',
      FIELDHOOK_INGEST_RATE_LIMIT_PER_MINUTE: '0',
      // Every field every second: fields added while running are picked up at once.
      FIELDHOOK_PREDICT_INTERVAL_MS: '1000',
      // Automatic partitions (the default): a killed predictor's fields move after its lease.
      FIELDHOOK_PREDICT_LEASE_MS: String(PREDICT_LEASE_MS),
      FIELDHOOK_PREDICT_HEARTBEAT_MS: String(PREDICT_LEASE_MS / 4),
      FIELDHOOK_WEBHOOK_ALLOW_CIDRS: JSON.stringify({ '*': ['127.0.0.1/32'] }),
      FIELDHOOK_WEBHOOK_TIMEOUT_MS: String(WEBHOOK_TIMEOUT_MS),
      FIELDHOOK_DISPATCH_POLL_INTERVAL_MS: '100',
    };
    const child = startProcess(process.execPath, ['--import', 'tsx', 'services/cli/main.ts', 'start', '--parts', kind], env);
    const instance: Instance = { kind, id, index, url: `http://127.0.0.1:${port}`, process: child };
    instances.set(id, instance);
    return instance;
  }

  const ready = (instance: Instance) =>
    eventually(async () => (await fetch(`${instance.url}/readyz`)).status === 200, { timeoutMs: 90_000, intervalMs: 200, what: `${instance.id} ready` });

  /** Add fields (in season) to the profiles every predictor reads (PostgreSQL, followed through its change feed). */
  async function addFields(from: number, to: number): Promise<void> {
    const settings = (i: number) => ({
      farm: FARM, field: field(i), crop: 'tomato', soil: 'loam', efficiency: 0.9, latitudeDeg: 45.1, longitudeDeg: 9.2, elevationM: 100,
      sowingDate: new Date(Date.now() - 30 * DAY_MS).toISOString().slice(0, 10),
    });
    for (let i = from; i < to; i++) await shared.add(settings(i));
  }

  /**
   * POST one batch, to the given ingestor first and to the other while that one does not answer.
   * A refusal under pressure (429, 503) is retried as a device would: after its Retry-After, else
   * 100 ms later, at the next ingestor.
   */
  async function post(first: number, body: ReturnType<typeof reading>[], secret: string): Promise<void> {
    let attempt = 0;
    let notBefore = 0;
    const outcome = await eventually(
      async (): Promise<{ accepted: number; duplicates: number } | undefined> => {
        if (performance.now() < notBefore) return undefined;
        const ingestors = of('ingestor');
        const target = ingestors[(first + attempt++) % ingestors.length]!;
        try {
          const res = await fetch(`${target.url}/v1/readings`, {
            method: 'POST',
            headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
            body: JSON.stringify(body),
          });
          if (res.status !== 202) {
            const retryAfter = Number(res.headers.get('retry-after'));
            if (Number.isFinite(retryAfter) && retryAfter > 0) notBefore = performance.now() + retryAfter * 1000;
            await res.body?.cancel();
            return undefined;
          }
          return (await res.json()) as { accepted: number; duplicates: number };
        } catch {
          // Refused or reset: that ingestor is down; a device retries, here at the other one.
          return undefined;
        }
      },
      { timeoutMs: 60_000, intervalMs: 100, what: `a batch accepted by an ingestor (from ingestor ${first})` },
    );
    expect(outcome.accepted + outcome.duplicates).toBe(body.length);
    for (const r of body) acknowledged.add(`${r.device}/${r.ts}`);
  }

  /** One phase's traffic: for every device, readings `offset…offset+PER_DEVICE` half over HTTP (both ingestors in turn), half over MQTT. */
  async function traffic(devicesIn: number[], offset: number): Promise<void> {
    const mqtt = (async () => {
      for (let n = 0; n < PER_DEVICE / 2; n++) {
        for (const i of devicesIn) {
          const r = reading(deviceOf(i), offset + 2 * n + 1, base);
          await publisher.publishAsync(deviceReadingsTopic(deviceOf(i)), JSON.stringify(r), { qos: 1 });
          acknowledged.add(`${r.device}/${r.ts}`);
        }
      }
    })();
    const http = (async () => {
      let b = 0;
      for (let n = 0; n < PER_DEVICE / 2; n += BATCH) {
        for (const i of devicesIn) {
          const batch = Array.from({ length: BATCH }, (_, k) => reading(deviceOf(i), offset + 2 * (n + k), base));
          await post(b++, batch, deviceSecrets.get(deviceOf(i))!);
        }
      }
    })();
    await Promise.all([mqtt, http]);
  }

  /** Webhook ids each subscription received, with how often (every request's signature verified). */
  function receivedIds(): Map<string, number>[] {
    return receivers.map((receiver, s) => {
      const ids = new Map<string, number>();
      for (const r of receiver.received) {
        const event = verify(secrets[s]!, r);
        ids.set(event.id, (ids.get(event.id) ?? 0) + 1);
      }
      return ids;
    });
  }

  /** Successful attempts per dispatcher instance (`dispatch_attempts.instance`). */
  const successes = async () =>
    (await sql.query<{ instance: string; n: string }>("SELECT instance, COUNT(*) AS n FROM dispatch_attempts WHERE outcome = 'success' GROUP BY instance ORDER BY instance")).rows;
  const eventIds = async () => (await sql.query<{ id: string }>('SELECT id FROM dispatch_events ORDER BY seq')).rows.map((r) => r.id);
  const staleFields = async () =>
    new Set((await sql.query<{ field: string }>("SELECT field FROM dispatch_events WHERE type = 'sensor.stale'")).rows.map((r) => r.field));

  beforeAll(async () => {
    await influx.createDatabase(bucket);
    mosquitto = await startMosquitto({ dir: join(root, 'mosquitto') });
    databaseUrl = await createTestDatabase('multi_instance');
    sql = new pg.Client({ connectionString: databaseUrl });
    await sql.connect();
    plane = createControlPlane({ DATA_DIR: root, DATABASE_URL: databaseUrl }, silentLogger());
    devices = createDeviceRepository(plane);
    await devices.open();
    shared = createFieldProfileRepository(plane, { clock: systemClock, db: () => openPredictorDb(':memory:') });
    await shared.open();
    for (let i = 0; i < FIELDS + LATE_FIELDS; i++) {
      const { secret } = await devices.add({ id: deviceOf(i), farm: FARM, field: field(i), kind: 'device' });
      deviceSecrets.set(deviceOf(i), secret);
    }
    receivers.push(await startReceiver(() => ({ status: 204, delayMs: 20 })), await startReceiver(() => ({ status: 204, delayMs: 20 })));
    publisher = await connectAsync(mosquitto.url, { clientId: `multi-publisher-${process.pid}`, protocolVersion: 5 });

    // Dispatchers first (the subscriptions must exist before the predictors' first events), then
    // the ingestors, then the predictors, whose first round finds no readings: sensor.stale.
    const dispatchers = [await launch('dispatcher', 0), await launch('dispatcher', 1)];
    await Promise.all(dispatchers.map(ready));
    for (const receiver of receivers) {
      const res = await fetch(`${dispatchers[0]!.url}/v1/subscriptions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ url: receiver.url, events: ['sensor.*'] }),
      });
      expect(res.status).toBe(201);
      secrets.push(((await res.json()) as { secret: string }).secret);
    }
    const rest = [await launch('ingestor', 0), await launch('ingestor', 1), await launch('predictor', 0), await launch('predictor', 1)];
    await Promise.all(rest.map(ready));
    // The fields once the predictors have shared the partitions out: each reports those it holds.
    await eventually(async () => { const [a, b] = await Promise.all(of('predictor').map(held)); return a! > 0 && b! > 0 && a! + b! === PARTITIONS; }, {
      timeoutMs: 30_000, intervalMs: 200, what: 'the partitions shared between both predictors',
    });
    await addFields(0, FIELDS);
  }, 240_000);

  afterAll(async () => {
    await Promise.all([...instances.values()].map((i) => i.process.stop()));
    await publisher?.endAsync();
    for (const r of receivers) await r.close();
    await devices?.close();
    await shared?.close();
    if (plane) await closeControlPlane(plane);
    await sql?.end();
    await mosquitto?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  const split: Record<string, unknown> = {};

  it('stores every reading once, delivers every event once to each subscription, and splits the work', async () => {
    const all = Array.from({ length: FIELDS }, (_, i) => i);
    await traffic(all, 0);
    // The same message at both ingestors: each spools and writes it, InfluxDB keeps one point.
    for (let k = 0; k < TWICE; k++) {
      const r = reading(deviceOf(k % FIELDS), PER_DEVICE + k, base);
      for (const index of [0, 1]) await post(index, [r], deviceSecrets.get(r.device)!);
    }
    const expected = FIELDS * PER_DEVICE + TWICE;
    expect(acknowledged.size).toBe(expected);
    await eventually(async () => (await countPoints(bucket)) === expected, { timeoutMs: 60_000, intervalMs: 200, what: 'every reading stored' });
    const [ia, ib] = of('ingestor') as [Instance, Instance];
    const duplicates = [await counter(ia, 'fieldhook_readings_duplicate_total'), await counter(ib, 'fieldhook_readings_duplicate_total')];
    expect(duplicates).toEqual([0, 0]); // neither ingestor saw the message twice: InfluxDB made it one point

    // One sensor.stale per field, each delivered once to each subscription.
    await eventually(async () => (await staleFields()).size === FIELDS, { timeoutMs: 60_000, intervalMs: 200, what: 'every field reported stale' });
    const events = await eventIds();
    expect(events).toHaveLength(FIELDS);
    await eventually(() => receivedIds().every((ids) => events.every((id) => ids.has(id))), { timeoutMs: 60_000, intervalMs: 200, what: 'every event delivered to both' });
    for (const ids of receivedIds()) {
      expect([...ids.keys()].sort()).toEqual([...events].sort());
      expect([...ids.values()].every((n) => n === 1)).toBe(true);
    }

    const [pa, pb] = of('predictor') as [Instance, Instance];
    const [da, db] = of('dispatcher') as [Instance, Instance];
    // A success is recorded just after the receiver's answer.
    await eventually(async () => (await successes()).reduce((sum, r) => sum + Number(r.n), 0) === 2 * FIELDS, { intervalMs: 100, what: 'every delivery recorded' });
    const attempts = await successes();
    Object.assign(split, {
      readings: expected,
      mqttAccepted: { [ia.id]: await counter(ia, 'fieldhook_readings_accepted_total', 'protocol="mqtt"'), [ib.id]: await counter(ib, 'fieldhook_readings_accepted_total', 'protocol="mqtt"') },
      httpAccepted: { [ia.id]: await counter(ia, 'fieldhook_readings_accepted_total', 'protocol="http"'), [ib.id]: await counter(ib, 'fieldhook_readings_accepted_total', 'protocol="http"') },
      predictorEvents: { [pa.id]: await counter(pa, 'fieldhook_predict_events_total'), [pb.id]: await counter(pb, 'fieldhook_predict_events_total') },
      dispatcherEventsTaken: { [da.id]: await counter(da, 'fieldhook_webhook_events_accepted_total'), [db.id]: await counter(db, 'fieldhook_webhook_events_accepted_total') },
      deliveriesBy: Object.fromEntries(attempts.map((r) => [r.instance, Number(r.n)])),
      events: events.length,
      receivedPerSubscription: receivers.map((r) => r.received.length),
    });
    Object.assign(split, { partitionsHeld: Object.fromEntries(await Promise.all([pa, pb].map(async (p) => [p.id, await held(p)]))) });
    const s = split as { mqttAccepted: Record<string, number>; predictorEvents: Record<string, number>; dispatcherEventsTaken: Record<string, number>; deliveriesBy: Record<string, number> };
    for (const part of [s.mqttAccepted, s.predictorEvents, s.dispatcherEventsTaken, s.deliveriesBy]) {
      expect(Object.values(part)).toHaveLength(2);
      for (const n of Object.values(part)) expect(n).toBeGreaterThan(0);
    }
    expect(Object.values(s.mqttAccepted).reduce((a, b) => a + b, 0)).toBe((FIELDS * PER_DEVICE) / 2);
    expect(Object.values(s.deliveriesBy).reduce((a, b) => a + b, 0)).toBe(2 * FIELDS);
    console.log(`multi-instance, normal operation: ${JSON.stringify(split)}`);
  }, 180_000);

  it('after SIGKILL of one instance of each kind mid-traffic, stores everything acknowledged and delivers every event at least once', async () => {
    const all = Array.from({ length: FIELDS }, (_, i) => i);
    const before = acknowledged.size;
    const sending = traffic(all, 1_000);
    await eventually(() => acknowledged.size >= before + (FIELDS * PER_DEVICE) / 3, { timeoutMs: 60_000, what: 'a third of the traffic acknowledged' });
    const killed = KINDS.map((kind) => of(kind)[1]!);
    const [ingestorA, predictorA] = [of('ingestor')[0]!, of('predictor')[0]!];
    const mqttBefore = await counter(ingestorA, 'fieldhook_readings_accepted_total', 'protocol="mqtt"');
    const eventsBefore = await counter(predictorA, 'fieldhook_predict_events_total');
    await Promise.all(killed.map((i) => i.process.stop('SIGKILL')));
    const killedAt = Date.now();
    const ackedAtKill = acknowledged.size - before;
    for (const i of killed) instances.delete(i.id);
    // Fields configured while the killed predictor is down: their events come after the kill.
    await addFields(FIELDS, FIELDS + LATE_FIELDS);
    await sending;
    expect(ackedAtKill).toBeLessThan(FIELDS * PER_DEVICE);
    expect(acknowledged.size).toBe(before + FIELDS * PER_DEVICE);

    // The survivors carry on: the ingestor takes its share of MQTT readings (and every HTTP
    // batch, above), the predictor every field, the dispatcher delivers what it takes.
    // The killed instances' share of the broker's messages waits in their sessions (Mosquitto
    // queues a shared subscription's messages for a member whose session persists).
    // The surviving predictor takes the killed one's partitions once their leases expire, and so
    // evaluates every field: it reports each of the new ones.
    const survivorPartitions = await eventually(async () => ((await held(predictorA)) === PARTITIONS ? PARTITIONS : 0), {
      timeoutMs: 30_000, intervalMs: 200, what: "the surviving predictor taking the killed one's partitions",
    });
    // Readings published after the kill, whatever the traffic's timing left for then (its MQTT
    // loop may have ended before the kill): the broker deals them among the group's sessions, the
    // survivor's among them.
    for (const i of all) {
      const r = reading(deviceOf(i), 5_001 + i, base);
      await publisher.publishAsync(deviceReadingsTopic(deviceOf(i)), JSON.stringify(r), { qos: 1 });
      acknowledged.add(`${r.device}/${r.ts}`);
    }
    await eventually(async () => (await counter(ingestorA, 'fieldhook_readings_accepted_total', 'protocol="mqtt"')) > mqttBefore, { timeoutMs: 60_000, intervalMs: 200, what: 'the surviving ingestor taking MQTT readings' });
    await eventually(async () => (await counter(predictorA, 'fieldhook_predict_events_total')) >= eventsBefore + LATE_FIELDS, {
      timeoutMs: 60_000, intervalMs: 200, what: 'every new field reported by the surviving predictor',
    });
    const deliveredAfterKill = async () =>
      Number((await sql.query<{ n: string }>("SELECT COUNT(*) AS n FROM dispatch_attempts WHERE outcome = 'success' AND instance = 'dispatcher-a' AND started_at > $1", [killedAt])).rows[0]!.n);
    await eventually(async () => (await deliveredAfterKill()) > 0, { timeoutMs: 60_000, intervalMs: 200, what: 'the surviving dispatcher delivering' });

    // The replacements: same data folder and id (the spool of what the killed ingestor acknowledged, its broker session).
    for (const i of killed) await launch(i.kind, i.index);
    await Promise.all(killed.map((i) => ready(instances.get(i.id)!)));

    const total = acknowledged.size;
    await eventually(async () => (await countPoints(bucket)) === total, { timeoutMs: 90_000, intervalMs: 200, what: 'every acknowledged reading stored' });
    await eventually(async () => (await staleFields()).size === FIELDS + LATE_FIELDS, { timeoutMs: 60_000, intervalMs: 200, what: 'every late field reported stale' });
    const events = await eventIds();
    await eventually(() => receivedIds().every((ids) => events.every((id) => ids.has(id))), {
      timeoutMs: WEBHOOK_TIMEOUT_MS + 30_000 + 60_000, intervalMs: 200, what: 'every event delivered to both, at least once',
    });
    const ids = receivedIds();
    const attempts = await successes();
    const after = {
      ackedAtKill,
      survivorMqttAfterKill: (await counter(ingestorA, 'fieldhook_readings_accepted_total', 'protocol="mqtt"')) - mqttBefore,
      survivorPartitions,
      survivorPredictorEventsAfterKill: (await counter(predictorA, 'fieldhook_predict_events_total')) - eventsBefore,
      survivorDeliveriesAfterKill: await deliveredAfterKill(),
      acknowledged: total,
      stored: await countPoints(bucket),
      events: events.length,
      deliveredPerSubscription: ids.map((m) => [...m.values()].reduce((a, b) => a + b, 0)),
      receivedMoreThanOnce: ids.map((m) => [...m.values()].filter((n) => n > 1).length),
      deliveriesBy: Object.fromEntries(attempts.map((r) => [r.instance, Number(r.n)])),
    };
    console.log(`multi-instance, after SIGKILL of ${killed.map((i) => i.id).join(', ')}: ${JSON.stringify(after)}`);
    expect(after.stored).toBe(total);
  }, 300_000);
});
