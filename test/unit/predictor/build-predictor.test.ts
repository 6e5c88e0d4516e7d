import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { PublishInput } from '../../../services/dispatcher/index.js';
import { createIrrigationModel, type IrrigationModel } from '../../../services/model/index.js';
import { buildPredictor } from '../../../services/predictor/build-predictor.js';
import { PREDICT_CONFIG } from '../../../services/predictor/config.js';
import { identityOf, type ModelHolder } from '../../../services/predictor/model-holder.js';
import { createSqliteDecisionStates, createSqliteFieldProfiles, openPredictorDb } from '../../../services/predictor/sqlite-predictor-store.js';
import { DEFAULT_WINDOW_STORE_OPTIONS, type WindowReading } from '../../../services/predictor/window-store.js';
import { loadConfig } from '../../../services/shared/config.js';
import { systemClock } from '../../../services/shared/clock.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { createFieldSpecs } from '../../../services/simulator/fields.js';
import { eventually } from '../../helpers/eventually.js';
import { simulatedField } from '../../helpers/simulated-field.js';
import { POPULATIONS, profileFromSpec } from '../../../services/training/dataset.js';

const HOUR = 3_600_000;

describe('scheduled evaluation', () => {
  let model: IrrigationModel;
  beforeAll(async () => {
    model = await createIrrigationModel({ modelPath: 'models/irrigation/model.onnx', cardPath: 'models/irrigation/model.json' });
  });
  afterAll(async () => {
    vi.useRealTimers();
    await model.close();
  });

  it('re-evaluates fields without new readings, so a silent sensor is reported once as sensor.stale', async () => {
    const { spec, p, readings, db, fields } = await simulatedField('sched', 0, 100);
    let now = readings.at(-1)!.ts;
    const historyFor = new Map<string, WindowReading[]>([['f/a', readings]]);
    const published: PublishInput[] = [];
    const points: number[] = [];
    const holder: ModelHolder = { start: async () => {}, stop: async () => {}, reload: async () => false, current: () => ({ model, identity: identityOf(model) }) };
    const config = { ...loadConfig(PREDICT_CONFIG, { FIELDHOOK_PREDICT_INTERVAL_MS: String(HOUR) }), DATA_DIR: '/nonexistent' };
    const predictor = buildPredictor({
      config,
      logger: silentLogger(),
      influx: { url: 'http://127.0.0.1:9', token: '', org: 'o', bucket: 'b', timeoutMs: 100 },
      publish: async (e) => {
        published.push(e);
        return { id: e.id!, deliveries: 1, duplicate: false };
      },
      clock: { ...systemClock, now: () => now },
      fields,
      states: createSqliteDecisionStates(db),
      history: { load: async (_from, _to, wanted) => new Map((wanted ?? []).flatMap((w) => { const k = `${w.farm}/${w.field}`; const r = historyFor.get(k); return r ? [[k, r] as const] : []; })) },
      writer: { write: async (e) => void points.push(e.length), close: async () => {} },
      model: holder,
    });
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout', 'Date'] });
    await predictor.start();
    expect(points).toEqual([1]); // evaluated once at start, fresh: no stale event
    expect(published.filter((e) => e.type === 'sensor.stale')).toHaveLength(0);

    const tick = async () => {
      now += HOUR;
      const before = points.length;
      await vi.advanceTimersByTimeAsync(HOUR);
      await eventually(() => points.length > before, { what: 'the scheduled round' });
      await predictor.idle();
    };
    await tick();
    await tick();
    expect(points).toHaveLength(3);
    expect(published.filter((e) => e.type === 'sensor.stale')).toHaveLength(0); // 2 h of silence: still fresh
    await tick(); // 3 h: the threshold is "older than", still fresh
    await tick(); // 4 h
    await tick();
    expect(points).toHaveLength(6);
    const stale = published.filter((e) => e.type === 'sensor.stale');
    expect(stale).toHaveLength(1);
    expect(stale[0]).toMatchObject({ farm: 'f', field: 'a', collapse_key: 'irrigation:f:a', data: { reason: expect.stringMatching(/soil moisture older/) } });
    expect(published.filter((e) => e.type === 'irrigation.recommended')).toHaveLength(0);

    // A field configured while running is picked up by the next scheduled round, with its history.
    await fields.add({
      farm: 'f', field: 'b', crop: spec!.crop, sowingDate: spec!.sowingDate, thetaFc: spec!.thetaFc, thetaWp: spec!.thetaWp, efficiency: 0.9,
      latitudeDeg: p.latitudeDeg, longitudeDeg: p.longitudeDeg, elevationM: p.elevationM, tzLongitudeDeg: p.tzLongitudeDeg,
    });
    historyFor.set('f/b', readings.map((r) => ({ ...r, ts: r.ts + 5 * HOUR })));
    await tick();
    expect(points.at(-1)).toBe(2);
    // Hourly readings, trimmed to the window the features need.
    expect(predictor.windows.get('f/b')?.count).toBe(DEFAULT_WINDOW_STORE_OPTIONS.keepHours + 1);
    vi.useRealTimers();
    await predictor.stop();
  });

  it('after a restart, waits for what the spool hands back before its first round judges any field', async () => {
    const { readings, db, fields } = await simulatedField('hand-back', 0, 100);
    const published: PublishInput[] = [];
    const rounds: number[] = [];
    const predictor = buildPredictor({
      config: { ...loadConfig(PREDICT_CONFIG, {}), DATA_DIR: '/nonexistent' },
      logger: silentLogger(),
      influx: { url: 'http://127.0.0.1:9', token: '', org: 'o', bucket: 'b', timeoutMs: 100 },
      publish: async (e) => (published.push(e), { id: e.id!, deliveries: 1, duplicate: false }),
      clock: { ...systemClock, now: () => readings.at(-1)!.ts },
      fields,
      states: createSqliteDecisionStates(db),
      // InfluxDB does not have the readings yet: the windows are rebuilt empty.
      history: { load: async () => new Map() },
      writer: { write: async (e) => void rounds.push(e.length), close: async () => {} },
      model: { start: async () => {}, stop: async () => {}, reload: async () => false, current: () => ({ model, identity: identityOf(model) }) },
    });
    // An ingestor in this process announces its hand-back before the predictor starts.
    const local = predictor.localReadings;
    local.expectHandBack();
    let started = false;
    const starting = predictor.start().then(() => (started = true));
    const batch = (from: number, to: number) => new Map([['f/a', { farm: 'f', field: 'a', readings: readings.slice(from, to).map((r) => ({ ts: r.ts, values: r.values as Record<string, number> })) }]]);
    await local.handBack(batch(0, 50));
    // Several turns of the event loop later, with the hand-back not over: no round yet.
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(rounds).toEqual([]);
    expect(started).toBe(false);
    await local.handBack(batch(50, 100));
    local.handedBack();
    await starting;
    try {
      // The first round saw every reading handed back: the field is fresh.
      expect(rounds).toEqual([1]);
      expect(published.filter((e) => e.type === 'sensor.stale')).toEqual([]);
      expect(predictor.windows.get('f/a')?.count).toBeGreaterThan(0);
    } finally {
      await predictor.stop();
    }
  });

  it('withdraws an advice in force when its field is removed, once', async () => {
    const [spec] = createFieldSpecs({ count: 1, seed: 'removed', population: POPULATIONS.heldOut });
    const p = profileFromSpec(spec!);
    const db = openPredictorDb(':memory:');
    const fields = createSqliteFieldProfiles(db);
    const states = createSqliteDecisionStates(db);
    const now = Date.parse('2026-07-06T12:00:00Z');
    for (const field of ['a', 'b']) {
      await fields.add({
        farm: 'f', field, crop: spec!.crop, sowingDate: '2026-05-01', thetaFc: spec!.thetaFc, thetaWp: spec!.thetaWp, efficiency: 0.9,
        latitudeDeg: p.latitudeDeg, longitudeDeg: p.longitudeDeg, elevationM: p.elevationM, tzLongitudeDeg: p.tzLongitudeDeg,
      });
    }
    const advice = { eventId: 'evt_a', issuedAt: now - HOUR, validUntil: now + 23 * HOUR, startBy: now, depthMm: 20 };
    await states.save('f', 'a', { advice, lastChangeAt: now - HOUR, stale: false });
    const published: PublishInput[] = [];
    const predictor = buildPredictor({
      config: { ...loadConfig(PREDICT_CONFIG, {}), DATA_DIR: '/nonexistent' },
      logger: silentLogger(),
      influx: { url: 'http://127.0.0.1:9', token: '', org: 'o', bucket: 'b', timeoutMs: 100 },
      publish: async (e) => (published.push(e), { id: e.id!, deliveries: 1, duplicate: false }),
      clock: { ...systemClock, now: () => now },
      fields,
      states,
      history: { load: async () => new Map() },
      writer: { write: async () => {}, close: async () => {} },
      model: { start: async () => {}, stop: async () => {}, reload: async () => false, current: () => ({ model, identity: identityOf(model) }) },
    });
    await predictor.start();
    try {
      // A field new to the predictor has its first state saved before it is evaluated: it names the field's life.
      expect((await states.loadMany(['f/b'])).get('f/b')).toMatchObject({ since: now });
      expect((await states.loadMany(['f/a'])).get('f/a')).not.toHaveProperty('since');
      const before = published.length;
      // Field b had no advice: its removal says nothing.
      await fields.remove('f', 'b');
      await predictor.reloadFields();
      expect(published.slice(before)).toEqual([]);
      await fields.remove('f', 'a');
      await predictor.reloadFields();
      await predictor.reloadFields();
      const withdrawn = published.slice(before);
      expect(withdrawn).toHaveLength(1);
      expect(withdrawn[0]).toMatchObject({ type: 'irrigation.cleared', farm: 'f', field: 'a', collapse_key: 'irrigation:f:a', data: { reason: 'field removed' } });
      expect(predictor.status().fields).toEqual([]);
    } finally {
      await predictor.stop();
    }
  });
});
