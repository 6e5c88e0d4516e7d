/**
 * `npm run bench:predict`: what the predictor costs.
 *
 * 1. Reading-to-webhook latency: BENCH_LATENCY_FIELDS (default 400) fields primed with a drying
 *    history whose soil moisture went quiet (so they start stale). Their next reading is published
 *    on a real Mosquitto (MQTT 5, QoS 1, shared subscription) at BENCH_RATE readings/s (default
 *    100); each one makes the field fresh and due, so the predictor publishes
 *    `irrigation.recommended` and the dispatcher POSTs a signed webhook to a local receiver. The
 *    latency is receive time minus publish time. Baseline from the same run: events published
 *    straight to the dispatcher (no bus, no model), at the same rate.
 * 2. Evaluations per second for BENCH_FIELDS (default 10,000) fields: features, one batched ONNX
 *    inference and the decision, as one scheduled round. Baselines: features alone, and one
 *    inference per field (no batching) over the first 1,000 fields, extrapolated.
 *
 * Loopback only; the recommendation writer is a no-op here (InfluxDB writes run beside the
 * events, not before them). Bounded by BENCH_MAX_SECONDS (default 60) per scenario.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { startMosquitto } from '../infra/harness/mosquitto.js';
import { buildDispatcher } from '../services/dispatcher/build-dispatcher.js';
import { createDispatchConfig } from '../services/dispatcher/config.js';
import { FEATURE_WINDOW_HOURS, createIrrigationModel, featuresFromReadings } from '../services/model/index.js';
import { buildPredictor } from '../services/predictor/build-predictor.js';
import { PREDICT_CONFIG } from '../services/predictor/config.js';
import { DEFAULT_DECISION_OPTIONS } from '../services/predictor/decision.js';
import { evaluateFields, type EvaluatedField } from '../services/predictor/evaluator.js';
import { createFeatureCache } from '../services/predictor/feature-cache.js';
import type { FieldSettings } from '../services/predictor/field-profiles.js';
import { identityOf, type ModelHolder } from '../services/predictor/model-holder.js';
import { createSqliteDecisionStates, createSqliteFieldProfiles, openPredictorDb } from '../services/predictor/sqlite-predictor-store.js';
import { createWindowStore, type WindowReading } from '../services/predictor/window-store.js';
import { loadConfig } from '../services/shared/config.js';
import { silentLogger } from '../services/shared/logger.js';
import { fieldReadingsTopic } from '../services/shared/bus/topics.js';
import { systemClock } from '../services/shared/clock.js';
import { buildHostApp } from '../services/host/http-app.js';
import { simulateField, type FieldRun } from '../services/simulator/field-run.js';
import { createFieldSpecs } from '../services/simulator/fields.js';
import { sensorReadings } from '../services/simulator/sensors.js';
import { POPULATIONS, profileFromSpec } from '../services/training/dataset.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const LATENCY_FIELDS = Number(process.env.BENCH_LATENCY_FIELDS ?? 400);
const RATE = Number(process.env.BENCH_RATE ?? 100);
const FIELDS = Number(process.env.BENCH_FIELDS ?? 10_000);
const MAX_SECONDS = Number(process.env.BENCH_MAX_SECONDS ?? 60);
const ADMIN_TOKEN = 'bench-admin-token-0123456789';

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))]! : Number.NaN;
};
const ms = (x: number) => `${x.toFixed(1)} ms`;

interface Primed {
  settings: FieldSettings;
  profile: ReturnType<typeof profileFromSpec>;
  /** Readings up to the moment (oldest first) and the moment itself, epoch ms. */
  history: WindowReading[];
  next: WindowReading;
  at: number;
}

/** Simulated fields at an hour when they are a few hours from RAW (the advice is due). */
function primedFields(count: number, distinct = 40): Primed[] {
  const specs = createFieldSpecs({ count: distinct, seed: 'bench', population: POPULATIONS.heldOut, idPrefix: 'b' });
  const bases: { run: FieldRun; readings: WindowReading[]; i: number }[] = [];
  for (const s0 of specs) {
    const spec = { ...s0, irrigation: { ...s0.irrigation, triggerFraction: 1.2, skipProbability: 0 }, sensor: { ...s0.sensor, outages: 0, gapProbability: 0 } };
    const run = simulateField(spec);
    const readings = sensorReadings(run).map((r) => ({ ts: Date.parse(r.ts), values: r.values }));
    let i = FEATURE_WINDOW_HOURS + 24;
    while (i < run.depletion.length && !(run.depletion[i]! >= 0.95 * run.raw && run.depletion[i]! < run.raw)) i++;
    if (i < run.depletion.length) bases.push({ run, readings, i });
  }
  return Array.from({ length: count }, (_, k) => {
    const b = bases[k % bases.length]!;
    const p = profileFromSpec(b.run.spec);
    const at = b.run.weather[b.i]!.ts + HOUR;
    const byTs = new Map(b.readings.map((r) => [r.ts, r]));
    return {
      profile: p,
      settings: {
        farm: 'bench', field: `f${k}`, crop: b.run.spec.crop, kc: b.run.spec.cropParams, sowingDate: b.run.spec.sowingDate, thetaFc: b.run.spec.thetaFc,
        thetaWp: b.run.spec.thetaWp, rootDepthM: b.run.spec.rootDepthM, p: b.run.spec.p, efficiency: 0.85, latitudeDeg: p.latitudeDeg,
        longitudeDeg: p.longitudeDeg, elevationM: p.elevationM, tzLongitudeDeg: p.tzLongitudeDeg, windHeightM: p.windHeightM,
      },
      history: b.readings.filter((r) => r.ts > at - (FEATURE_WINDOW_HOURS + 1) * HOUR && r.ts < at),
      next: byTs.get(at)!,
      at,
    };
  });
}

async function latencyScenario(): Promise<{ rows: string[][] }> {
  const dir = mkdtempSync(join(tmpdir(), 'fh-bench-predict-'));
  const mosquitto = await startMosquitto({ dir: join(dir, 'mosquitto') });
  const received = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as { type: string; data: { field: string } };
      if (body.type !== 'sensor.stale' && !received.has(body.data.field)) received.set(body.data.field, performance.now());
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const hookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  const dispatcher = buildDispatcher({
    config: createDispatchConfig({ ADMIN_TOKEN, DISPATCH_DB_PATH: join(dir, 'dispatch.sqlite'), WEBHOOK_ALLOW_CIDRS: { '*': ['127.0.0.1/32'] } }),
    logger: silentLogger(),
  });
  await dispatcher.start();
  const res = await buildHostApp([dispatcher], { logger: silentLogger() }).inject({
    method: 'POST', url: '/v1/subscriptions', headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    payload: { url: hookUrl, events: ['irrigation.*', 'sensor.stale'] },
  });
  if (res.statusCode !== 201) throw new Error(`subscription: ${res.body}`);

  const fields = primedFields(LATENCY_FIELDS);
  // One clock for all fields: each field's history is shifted (by whole hours) so that its due
  // moment is the next full hour; until its reading arrives, its soil moisture is 5 h old.
  const T = Math.ceil(Date.now() / HOUR) * HOUR;
  const shift = (f: Primed) => T - f.at;
  let now = T - 60_000;
  const db = openPredictorDb(':memory:');
  const repo = createSqliteFieldProfiles(db);
  const loaded = new Map<string, WindowReading[]>();
  for (const f of fields) {
    await repo.add(f.settings);
    // The last 4 h lose their soil moisture: the field starts stale and the next reading revives it.
    const s = shift(f);
    loaded.set(`bench/${f.settings.field}`, f.history.map((r) => ({ ts: r.ts + s, values: r.ts > f.at - 4 * HOUR ? { ...r.values, soil_moisture: undefined } : r.values })));
  }
  const model = await createIrrigationModel({ modelPath: 'models/irrigation/model.onnx', cardPath: 'models/irrigation/model.json' });
  const holder: ModelHolder = { start: async () => {}, stop: async () => {}, reload: async () => false, current: () => ({ model, identity: identityOf(model) }) };
  const config = { ...loadConfig(PREDICT_CONFIG, { FIELDHOOK_PREDICT_INTERVAL_MS: String(DAY), FIELDHOOK_PREDICT_MQTT_CLIENT_ID: `bench-${process.pid}`, FIELDHOOK_PREDICT_MQTT_GROUP: 'bench' }), DATA_DIR: dir };
  const predictor = buildPredictor({
    config,
    logger: silentLogger(),
    influx: { url: 'http://127.0.0.1:9', token: '', org: 'o', bucket: 'b', timeoutMs: 100 },
    publish: (e) => dispatcher.publish(e),
    bus: () => ({ url: mosquitto.url, protocolVersion: 5, sharedSubscriptions: true }),
    clock: { ...systemClock, now: () => now },
    fields: repo,
    states: createSqliteDecisionStates(db),
    history: { load: async () => loaded },
    writer: { write: async () => {}, close: async () => {} },
    model: holder,
  });
  await predictor.start(); // every field goes stale: one sensor.stale each
  await new Promise((r) => setTimeout(r, 1_000));

  const producer = await mqtt.connectAsync(mosquitto.url, { protocolVersion: 5, clientId: `bench-producer-${process.pid}` });
  const sent = new Map<string, number>();
  const interval = 1_000 / RATE;
  const t0 = performance.now();
  for (let k = 0; k < fields.length; k++) {
    const f = fields[k]!;
    const wait = t0 + k * interval - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const ts = f.at + shift(f);
    now = ts;
    const payload = JSON.stringify([{ device: 'd', farm: 'bench', field: f.settings.field, ts: new Date(ts).toISOString(), values: f.next.values, correlation_id: `c${k}` }]);
    sent.set(f.settings.field, performance.now());
    void producer.publishAsync(fieldReadingsTopic('bench', f.settings.field), payload, { qos: 1 });
  }
  const deadline = performance.now() + MAX_SECONDS * 1_000;
  while (received.size < fields.length && performance.now() < deadline) {
    const before = received.size;
    await new Promise((r) => setTimeout(r, 1_000));
    if (received.size === before && performance.now() - t0 > 5_000 + (fields.length / RATE) * 1_000) break;
  }
  const latencies = [...received].map(([field, at]) => at - sent.get(field)!);

  // Baseline: the same number of events straight to the dispatcher at the same rate.
  const base = new Map<string, number>();
  received.clear();
  const t1 = performance.now();
  for (let k = 0; k < fields.length; k++) {
    const wait = t1 + k * interval - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const field = `base${k}`;
    base.set(field, performance.now());
    void dispatcher.publish({ type: 'irrigation.recommended', farm: 'bench', field, data: { farm: 'bench', field } });
  }
  const deadline2 = performance.now() + MAX_SECONDS * 1_000;
  while (received.size < fields.length && performance.now() < deadline2) await new Promise((r) => setTimeout(r, 100));
  const baseLat = [...received].map(([field, at]) => at - base.get(field)!);

  await producer.endAsync();
  await predictor.stop();
  await model.close();
  await dispatcher.stop();
  server.close();
  await mosquitto.stop();
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    rows: [
      [`reading → webhook (bus, predictor, dispatcher), ${fields.length} readings at ${RATE}/s`, ms(quantile(latencies, 0.5)), ms(quantile(latencies, 0.99)), `${latencies.length}/${fields.length} readings made advice`, 'p99 < 200 ms'],
      ['baseline: event → webhook (dispatcher only), same rate', ms(quantile(baseLat, 0.5)), ms(quantile(baseLat, 0.99)), `${baseLat.length}/${fields.length}`, ''],
    ],
  };
}

async function throughputScenario(): Promise<{ rows: string[][] }> {
  // Every field shifted (by whole hours) so that all are due at one "now" T, as the scheduler
  // evaluates all fields at one time.
  const T = Math.floor(Date.now() / HOUR) * HOUR;
  const primed = primedFields(FIELDS).map((f) => {
    const s = T - f.at;
    return { ...f, history: f.history.map((r) => ({ ts: r.ts + s, values: r.values })), next: { ts: T, values: f.next.values } };
  });
  const model = await createIrrigationModel({ modelPath: 'models/irrigation/model.onnx', cardPath: 'models/irrigation/model.json' });
  const identity = identityOf(model);
  const options = { ...DEFAULT_DECISION_OPTIONS, staleAfterMs: 3 * HOUR };

  // Evaluator alone, cold: a fresh cache computes every bin (the first round after a restart).
  const windows = createWindowStore();
  const fields: EvaluatedField[] = primed.map((f) => {
    const key = `bench/${f.settings.field}`;
    windows.apply(key, [...f.history, f.next]);
    return { key, settings: f.settings, profile: f.profile };
  });
  const tc = performance.now();
  await evaluateFields(fields, T, { windows, states: new Map(), model, identity, cache: createFeatureCache() }, options);
  const cold = (performance.now() - tc) / 1_000;

  // Baseline: features straight from the readings and one ONNX call per field.
  const tf = performance.now();
  const rows: Float64Array[] = [];
  for (const f of fields) {
    const r = featuresFromReadings(f.profile, windows.between(f.key, T - 73 * HOUR, T), T);
    if ('features' in r && rows.length < 1_000) rows.push(r.features);
  }
  const featureSeconds = (performance.now() - tf) / 1_000;
  const tu = performance.now();
  for (const row of rows) await model.predict([row]);
  const unbatched = featureSeconds + ((performance.now() - tu) / 1_000) * (fields.length / rows.length);

  // The whole predictor: a scheduled round an hour after start (one new reading per field):
  // cached bins, one batched inference, decisions, state and outputs.
  const db = openPredictorDb(':memory:');
  const repo = createSqliteFieldProfiles(db);
  for (const f of primed) await repo.add(f.settings);
  let now = T - HOUR;
  let events = 0;
  const holder: ModelHolder = { start: async () => {}, stop: async () => {}, reload: async () => false, current: () => ({ model, identity }) };
  const predictor = buildPredictor({
    config: { ...loadConfig(PREDICT_CONFIG, { FIELDHOOK_PREDICT_INTERVAL_MS: String(DAY) }), DATA_DIR: tmpdir() },
    logger: silentLogger(),
    influx: { url: 'http://127.0.0.1:9', token: '', org: 'o', bucket: 'b', timeoutMs: 100 },
    publish: async (e) => {
      events++;
      return { id: e.id!, deliveries: 1, duplicate: false };
    },
    clock: { ...systemClock, now: () => now },
    fields: repo,
    states: createSqliteDecisionStates(db),
    history: { load: async () => new Map(primed.map((f) => [`bench/${f.settings.field}`, f.history])) },
    writer: { write: async () => {}, close: async () => {} },
    model: holder,
  });
  const ts = performance.now();
  await predictor.start(); // loads, then a first round at T − 1 h (events for the fields already due)
  const startSeconds = (performance.now() - ts) / 1_000;
  const startEvents = events;
  for (const f of primed) predictor.windows.apply(`bench/${f.settings.field}`, [f.next]);
  now = T;
  const tr = performance.now();
  const evaluated = await predictor.evaluate();
  const round = (performance.now() - tr) / 1_000;
  await predictor.stop();
  await model.close();
  return {
    rows: [
      [`${evaluated.length} fields, scheduled round an hour on (fieldhook predictor: cached bins, batched ONNX, decisions, state, outputs)`, `${round.toFixed(3)} s`, `${Math.round(evaluated.length / round)} evaluations/s`, `${events - startEvents} events`, '< 1 s'],
      [`${fields.length} fields, start (load, cold first round, ${startEvents} events, state saved)`, `${startSeconds.toFixed(3)} s`, '', '', ''],
      [`${fields.length} fields, evaluator alone with a cold cache (every bin computed)`, `${cold.toFixed(3)} s`, `${Math.round(fields.length / cold)} evaluations/s`, '', ''],
      [`baseline: features from readings + one ONNX call per field (ONNX: 1,000 measured, extrapolated)`, `${unbatched.toFixed(3)} s`, `${Math.round(fields.length / unbatched)} evaluations/s`, '', ''],
    ],
  };
}

function table(rows: string[][]): string {
  const head = ['measure', 'p50 / time', 'p99 / rate', 'count', 'goal'];
  const all = [head, ...rows];
  const widths = head.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((x, c) => x.padEnd(widths[c]!)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

const cpu = cpus()[0]?.model ?? 'unknown CPU';
process.stdout.write(`bench:predict on ${cpus().length} × ${cpu}, Node ${process.version}\n`);
const latency = await latencyScenario();
const throughput = await throughputScenario();
process.stdout.write(`${table([...latency.rows, ...throughput.rows])}\n`);
process.exit(0);
