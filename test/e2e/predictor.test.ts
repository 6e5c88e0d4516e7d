/**
 * The predictor end to end through the real Mosquitto and InfluxDB: readings on the bus topic
 * (as the ingestor publishes them) and in the `reading` measurement, the predictor, the
 * dispatcher and a receiver verifying Standard Webhooks signatures with `standardwebhooks`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { PublishInput } from '../../services/dispatcher/index.js';
import { POPULATIONS, profileFromSpec } from '../../services/training/dataset.js';
import { buildPredictor, type Predictor } from '../../services/predictor/build-predictor.js';
import { PREDICT_CONFIG } from '../../services/predictor/config.js';
import type { FieldSettings } from '../../services/predictor/field-profiles.js';
import { createSqliteFieldProfiles, openPredictorDb } from '../../services/predictor/sqlite-predictor-store.js';
import { loadConfig } from '../../services/shared/config.js';
import { silentLogger } from '../../services/shared/logger.js';
import { systemClock } from '../../services/shared/clock.js';
import { fieldReadingsTopic } from '../../services/shared/bus/topics.js';
import { simulateField, type FieldRun } from '../../services/simulator/field-run.js';
import { createFieldSpecs } from '../../services/simulator/fields.js';
import { sensorReadings, type NativeReading } from '../../services/simulator/sensors.js';
import { createSubscription, makeDispatcher, startReceiver, verify, type Receiver, type TestDispatcher } from '../integration/dispatcher/helpers.js';
import { eventually } from '../helpers/eventually.js';
import { testInflux } from '../helpers/test-influx.js';

const influx = testInflux();

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const FARM = `e2e-${process.pid}`;

interface Scenario {
  run: FieldRun;
  readings: NativeReading[];
  /** Hour index of the first RAW crossing and of the irrigation after it. */
  cross: number;
  irrigation: number;
  /** Added to every simulated time so the episode happens around the wall clock (valid_until). */
  shiftMs: number;
}

/** A field drying out to RAW, irrigated by its farmer a few hours after (seeded, no sensor gaps). */
function scenario(): Scenario {
  const [s0] = createFieldSpecs({ count: 1, seed: 'e2e', population: POPULATIONS.heldOut, idPrefix: 'e2e' });
  const spec = { ...s0!, irrigation: { ...s0!.irrigation, triggerFraction: 1, skipProbability: 0, refillFraction: 1 }, sensor: { ...s0!.sensor, outages: 0, gapProbability: 0 } };
  const run = simulateField(spec);
  let cross = -1;
  for (let i = 150; i < run.depletion.length && cross < 0; i++) if (run.depletion[i]! >= run.raw && run.depletion[i - 1]! < run.raw) cross = i;
  let irrigation = cross;
  while (run.irrigation[irrigation]! === 0) irrigation++;
  const crossTs = run.weather[cross]!.ts + HOUR;
  // Whole days keep the diurnal cycle where the simulator put it.
  const shiftMs = Math.ceil((Date.now() + 6 * HOUR - crossTs) / DAY) * DAY;
  return { run, readings: sensorReadings(run), cross, irrigation, shiftMs };
}

function settingsOf(run: FieldRun, field: string, shiftMs: number): FieldSettings {
  const p = profileFromSpec(run.spec);
  // The season moves with the readings (whole days), so the crop is where the simulator had it.
  const sowingDate = new Date(Date.parse(`${run.spec.sowingDate}T00:00:00Z`) + shiftMs).toISOString().slice(0, 10);
  return {
    farm: FARM, field, crop: run.spec.crop, kc: run.spec.cropParams, sowingDate, thetaFc: run.spec.thetaFc, thetaWp: run.spec.thetaWp,
    // The simulator's root zone has a fixed depth: so has this field's.
    rootDepthM: run.spec.rootDepthM, rootDepthMinM: run.spec.rootDepthM, p: run.spec.p, efficiency: 0.8, latitudeDeg: p.latitudeDeg, longitudeDeg: p.longitudeDeg,
    elevationM: p.elevationM, tzLongitudeDeg: p.tzLongitudeDeg, windHeightM: p.windHeightM,
  };
}

describe(`predictor end to end (Mosquitto, InfluxDB ${influx.kind}, dispatcher, standardwebhooks)`, () => {
  const mosquittoUrl = inject('mosquittoUrl');
  const database = `predict_e2e_${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'fh-predict-e2e-'));
  const sc = scenario();
  let t: TestDispatcher;
  let receiver: Receiver;
  let secret: string;
  let producer: MqttClient;
  const published: PublishInput[] = [];
  let simNow = 0;

  const config = loadConfig(PREDICT_CONFIG, {
    FIELDHOOK_PREDICT_ADVICE_VALIDITY_MS: String(48 * HOUR),
    FIELDHOOK_PREDICT_INTERVAL_MS: String(3_600_000),
    FIELDHOOK_PREDICT_DEBOUNCE_MS: '5',
    FIELDHOOK_PREDICT_MQTT_CLIENT_ID: `e2e-predict-${process.pid}`,
    FIELDHOOK_PREDICT_MQTT_GROUP: `e2e-${process.pid}`,
  });

  function makePredictor(): Predictor {
    return buildPredictor({
      config: { ...config, DATA_DIR: dir },
      logger: silentLogger(),
      influx: influx.target(database),
      publish: async (event) => {
        published.push(event);
        return t.dispatcher.publish(event);
      },
      bus: () => ({ url: mosquittoUrl, protocolVersion: 5, sharedSubscriptions: true }),
      clock: { ...systemClock, now: () => simNow },
    });
  }

  const shifted = (r: NativeReading) => ({ ...r, ts: new Date(Date.parse(r.ts) + sc.shiftMs).toISOString() });
  const readingAt = (i: number) => sc.readings.find((r) => Date.parse(r.ts) === sc.run.weather[i]!.ts + HOUR)!;

  async function writeInflux(field: string, list: NativeReading[]): Promise<void> {
    const lines = list.map((r) => {
      const values = Object.entries(r.values).map(([k, v]) => `${k}=${v}`).join(',');
      return `reading,device=${r.device},farm=${FARM},field=${field} ${values} ${Date.parse(r.ts)}`;
    });
    const res = await fetch(`${influx.url}/write?db=${database}&precision=ms`, { method: 'POST', headers: influx.headers, body: lines.join('\n') });
    expect(res.status).toBe(204);
  }

  /** One simulated hour: the reading to InfluxDB and the bus (as the ingestor does), then a scheduled round. */
  async function hour(predictor: Predictor, i: number, fields: string[]): Promise<void> {
    const r = shifted(readingAt(i));
    simNow = Date.parse(r.ts);
    for (const field of fields) {
      await writeInflux(field, [r]);
      const bus = [{ device: r.device, farm: FARM, field, id: r.id, ts: r.ts, values: r.values, correlation_id: `corr-${field}-${i}` }];
      await producer.publishAsync(fieldReadingsTopic(FARM, field), JSON.stringify(bus), { qos: 1 });
      await eventually(() => (predictor.windows.get(`${FARM}/${field}`)?.newestTs ?? 0) >= simNow, { timeoutMs: 10_000, what: `reading ${i} of ${field} applied` });
    }
    await predictor.idle();
    await predictor.evaluate();
    // Deliver before the next decision: a newer event of the same field would supersede it.
    await eventually(() => receiver.received.length >= published.length, { timeoutMs: 10_000, what: 'deliveries' });
  }

  beforeAll(async () => {
    await influx.createDatabase(database);
    t = makeDispatcher();
    await t.dispatcher.start();
    receiver = await startReceiver();
    ({ secret } = await createSubscription(t.dispatcher, { url: receiver.url, events: ['irrigation.*', 'sensor.stale', 'sensor.recovered'], farms: [FARM] }));
    producer = await mqtt.connectAsync(mosquittoUrl, { protocolVersion: 5, clientId: `e2e-producer-${process.pid}` });
    const db = openPredictorDb(join(dir, 'predictor.db'));
    const repo = createSqliteFieldProfiles(db);
    await repo.add(settingsOf(sc.run, 'drying', sc.shiftMs));
    await repo.add(settingsOf(sc.run, 'silent', sc.shiftMs));
    db.close();
  });

  afterAll(async () => {
    await producer?.endAsync();
    await receiver?.close();
    await t?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('advises once before RAW, survives a restart without re-sending, clears after irrigation; a silent field goes stale and is heard again when it reports', async () => {
    const start = sc.cross - 96;
    // Three days of history already stored: the predictor rebuilds its windows from InfluxDB.
    const history = sc.readings.filter((r) => Date.parse(r.ts) > sc.run.weather[start - 72]!.ts && Date.parse(r.ts) <= sc.run.weather[start]!.ts + HOUR).map(shifted);
    await writeInflux('drying', history);
    await writeInflux('silent', history);
    simNow = Date.parse(history.at(-1)!.ts);
    let predictor = makePredictor();
    await predictor.start();
    expect(predictor.windows.get(`${FARM}/drying`)?.count).toBeGreaterThanOrEqual(70);

    const restartAt = sc.cross - 2;
    for (let i = start + 1; i <= sc.irrigation + 8; i++) {
      // The silent field's sensor stops after 4 hours and is back once the other field is irrigated.
      await hour(predictor, i, i <= start + 4 || i > sc.irrigation ? ['drying', 'silent'] : ['drying']);
      if (i === restartAt) {
        // Restart with an advice in force: the new instance must remember it.
        expect(published.map((e) => e.type)).toContain('irrigation.recommended');
        await predictor.stop();
        predictor = makePredictor();
        await predictor.start();
        expect(predictor.windows.get(`${FARM}/drying`)?.count).toBeGreaterThanOrEqual(70);
      }
    }
    await predictor.stop();

    const events = receiver.received.map((r) => verify(secret, r));
    if (process.env.FIELDHOOK_TEST_LOG) console.log(events.map((e) => [e.type, e.data.field, e.data.evaluated_at, e.data.reason]), new Date(sc.run.weather[sc.cross]!.ts + HOUR + sc.shiftMs));
    const of = (field: string) => events.filter((e) => e.data.field === field).map((e) => e.type);
    expect(of('drying')).toEqual(['irrigation.recommended', 'irrigation.cleared']);
    expect(of('silent')).toEqual(['sensor.stale', 'sensor.recovered']);
    const [wentStale, recovered] = events.filter((e) => e.data.field === 'silent');
    // Declared by the scheduled round of the hour its soil moisture grew 3 h old; back once six
    // hours of its weather after the gap make the day's ET0 known (MAX_ET0_UNKNOWN_HOURS).
    expect(recovered!.data.stale_since).toBe(wentStale!.data.evaluated_at);
    expect(recovered!.data.evaluated_at).toBe(shifted(readingAt(sc.irrigation + 6)).ts);

    const advice = events.find((e) => e.type === 'irrigation.recommended')!.data as Record<string, unknown> & { provenance: Record<string, unknown> };
    const crossTs = sc.run.weather[sc.cross]!.ts + HOUR + sc.shiftMs;
    expect(Date.parse(advice.evaluated_at as string)).toBeLessThan(crossTs);
    expect(Date.parse(advice.start_by as string)).toBeLessThanOrEqual(crossTs + 12 * HOUR);
    expect(advice.gross_depth_mm as number).toBeCloseTo((advice.net_depth_mm as number) / 0.8, 0);
    expect(advice.provenance).toMatchObject({
      model: { name: 'fieldhook-irrigation', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
      window: { readings: expect.any(Number), completeness: expect.any(Number) },
      correlation_ids: expect.arrayContaining([expect.stringMatching(/^corr-drying-/)]),
    });
    expect(Object.keys(advice.provenance.features as object)).toContain('depletion_smoothed_mm');
    // The restart was after the advice and before the irrigation, and nothing was sent twice.
    expect(published.filter((e) => e.type === 'irrigation.recommended')).toHaveLength(1);

    // Every evaluation left a point; the advice shows in the recommendation measurement.
    const q = new URLSearchParams({ db: database, q: `SELECT count("depletion_mm"), max("gross_depth_mm") FROM "recommendation" WHERE "field" = 'drying'` });
    const body = (await (await fetch(`${influx.url}/query?${q}`, { headers: influx.headers })).json()) as { results: { series?: { values: number[][] }[] }[] };
    const [, count, maxGross] = body.results[0]!.series![0]!.values[0]!;
    expect(count).toBeGreaterThan(sc.irrigation - start);
    expect(maxGross).toBeGreaterThan(0);
  }, 120_000);
});
