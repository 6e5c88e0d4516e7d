import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIrrigationModel, type IrrigationModel } from '../../../services/model/index.js';
import { DEFAULT_EVALUATOR_OPTIONS, evaluateFields, localLabel, type EvaluatedField, type Evaluation } from '../../../services/predictor/evaluator.js';
import { identityOf } from '../../../services/predictor/model-holder.js';
import { createWindowStore } from '../../../services/predictor/window-store.js';
import { createSqliteForecasts } from '../../../services/forecasts/store.js';
import { createFeatureCache } from '../../../services/predictor/feature-cache.js';
import { INITIAL_DECISION_STATE } from '../../../services/predictor/decision.js';
import { createAppliedWaterLedger } from '../../../services/predictor/applied-water.js';
import { profileOnDay } from '../../../services/model/features.js';
import { simulateField } from '../../../services/simulator/field-run.js';
import { createFieldSpecs } from '../../../services/simulator/fields.js';
import { sensorReadings } from '../../../services/simulator/sensors.js';
import { POPULATIONS, profileFromSpec } from '../../../services/training/dataset.js';

const HOUR = 3_600_000;
const [spec] = createFieldSpecs({ count: 1, seed: 'evaluator', population: POPULATIONS.heldOut });
const run = simulateField(spec!);
const profile = profileFromSpec(spec!);
const field: EvaluatedField = {
  key: 'f/a',
  profile,
  settings: {
    farm: 'f', field: 'a', crop: spec!.crop, sowingDate: spec!.sowingDate, thetaFc: spec!.thetaFc, thetaWp: spec!.thetaWp, efficiency: 0.8,
    latitudeDeg: profile.latitudeDeg, longitudeDeg: profile.longitudeDeg, elevationM: profile.elevationM, tzLongitudeDeg: profile.tzLongitudeDeg,
  },
};
const at = run.weather[0]!.ts + 400 * HOUR;
const ALL = ['soil_moisture', 'air_temperature', 'relative_humidity', 'wind_speed', 'solar_radiation', 'rainfall'];

let model: IrrigationModel;
beforeAll(async () => {
  model = await createIrrigationModel({ modelPath: 'models/irrigation/model.onnx', cardPath: 'models/irrigation/model.json' });
});
afterAll(() => model.close());

/** The field's readings up to `at`, keeping only some quantities. */
function windowWith(keep: readonly string[], until = at) {
  const windows = createWindowStore({ keepHours: Number.POSITIVE_INFINITY });
  windows.apply(
    field.key,
    sensorReadings(run)
      .filter((r) => Date.parse(r.ts) <= until)
      .map((r) => ({ ts: Date.parse(r.ts), values: Object.fromEntries(keep.map((q) => [q, (r.values as Record<string, number | undefined>)[q]])) })),
  );
  return windows;
}

/**
 * The first hour (from the 200th, every `stepH` hours) at which the field's evaluation without a
 * forecast or an advice in force passes `found`; `when` is -1 if none does. One window with the
 * whole season: an evaluation never looks past its own time.
 */
async function firstHour(found: (e: Evaluation) => boolean, stepH = 1): Promise<{ when: number; evaluation?: Evaluation }> {
  const season = windowWith(ALL, Number.POSITIVE_INFINITY);
  const cache = createFeatureCache();
  for (let i = 200; i < run.weather.length; i += stepH) {
    const t = run.weather[i]!.ts + HOUR;
    const [e] = await evaluateFields([field], t, { windows: season, states: new Map(), model, identity: identityOf(model), cache }, DEFAULT_EVALUATOR_OPTIONS);
    if (found(e!)) return { when: t, evaluation: e! };
  }
  return { when: -1 };
}

describe('evaluator: stations as they are', () => {
  const evaluate = async (keep: readonly string[]) => {
    const [e] = await evaluateFields([field], at, { windows: windowWith(keep), states: new Map(), model, identity: identityOf(model) }, DEFAULT_EVALUATOR_OPTIONS);
    return e!;
  };

  it('advises from soil moisture, temperature and rain alone (Hargreaves), and says so in the provenance', async () => {
    const full = await evaluate(['soil_moisture', 'air_temperature', 'relative_humidity', 'wind_speed', 'solar_radiation', 'rainfall']);
    const degraded = await evaluate(['soil_moisture', 'air_temperature', 'rainfall']);
    expect(full.assessment.kind).toBe('ok');
    expect(full.provenance.et0).toMatchObject({ method: 'penman-monteith', missing: [] });
    expect(degraded.assessment.kind).toBe('ok');
    expect(degraded.provenance.et0).toMatchObject({ method: 'hargreaves', missing: ['relative_humidity', 'wind_speed', 'solar_radiation'] });
    // The same field, judged from less: the forecast stays in the same range.
    expect(Math.abs(degraded.prediction!.depletion24hMm - full.prediction!.depletion24hMm)).toBeLessThan(0.25 * full.prediction!.rawMm);
  });

  it('counts the readings of the hour under way: a probe back after a 14 h outage is assessed, not "without recent soil moisture"', async () => {
    // Everything up to 14 h before `at`, then the station's first readings again 20 min past `at`.
    const windows = windowWith(ALL, at - 14 * HOUR);
    const back = sensorReadings(run).filter((r) => Date.parse(r.ts) === at + HOUR);
    expect(back).not.toHaveLength(0);
    windows.apply(field.key, back.map((r) => ({ ts: at + 20 * 60_000, values: r.values as Record<string, number> })));
    const evaluate = async (now: number) => (await evaluateFields([field], now, { windows, states: new Map(), model, identity: identityOf(model), cache: createFeatureCache() }, DEFAULT_EVALUATOR_OPTIONS))[0]!;
    const e = await evaluate(at + 30 * 60_000);
    expect(e.assessment).not.toEqual({ kind: 'stale', reason: 'no-recent-soil-moisture' });
    expect(e.decision.event).not.toBe('sensor.stale');
    // Before that reading the gap is real.
    expect((await evaluate(at + 10 * 60_000)).assessment).toMatchObject({ kind: 'stale' });
  });

  it('is stale only when neither the station\'s et0 nor air temperature arrives', async () => {
    const none = await evaluate(['soil_moisture', 'rainfall']);
    expect(none.assessment).toEqual({ kind: 'stale', reason: 'no et0 or air temperature in 180 min' });
    expect(none.decision.event).toBe('sensor.stale');
  });

  it('a station reporting its et0 once a day (no air temperature): each report covers its day, and the field is fresh until the next one is overdue', async () => {
    // Hour i of the run ends at first + (i + 1) h; a report at first + j h covers the 24 h before it.
    const first = run.weather[0]!.ts;
    const dayTotal = (j: number) => run.et0.slice(j - 24, j).reduce((a, b) => a + b, 0);
    const evaluateAt = async (now: number) => {
      const windows = windowWith(['soil_moisture', 'rainfall'], now);
      windows.apply(field.key, [390, 366, 342].map((j) => ({ ts: first + j * HOUR, values: { et0: dayTotal(j) } })));
      return (await evaluateFields([field], now, { windows, states: new Map(), model, identity: identityOf(model), cache: createFeatureCache() }, DEFAULT_EVALUATOR_OPTIONS))[0]!;
    };
    // Ten hours after the newest report: its day, and its rate for the hours since.
    const fresh = await evaluateAt(at);
    expect(fresh.assessment.kind).toBe('ok');
    expect(fresh.provenance.et0).toMatchObject({ method: 'station', hours: { station: 24, none: 0 } });
    expect(fresh.et0Mm).toBeCloseTo(dayTotal(390), 9);
    // 27 h after it (the next report 3 h overdue, FIELDHOOK_PREDICT_STALE_AFTER_MS): stale.
    expect((await evaluateAt(at + 17 * HOUR + 60_000)).assessment).toMatchObject({ kind: 'stale', reason: 'no et0 in its 24 h period + 180 min, nor air temperature in 180 min' });
    expect((await evaluateAt(at + 17 * HOUR - 60_000)).assessment.kind).toBe('ok');
    // With air temperature as well, until 5 h before `at`: the next report is due as before, not a day after the temperature stopped.
    const withTemperature = async (now: number) => {
      const windows = windowWith(['soil_moisture', 'rainfall'], now);
      windows.apply(field.key, [390, 366, 342].map((j) => ({ ts: first + j * HOUR, values: { et0: dayTotal(j) } })));
      windows.apply(field.key, sensorReadings(run).filter((r) => Date.parse(r.ts) <= at - 5 * HOUR).map((r) => ({ ts: Date.parse(r.ts), values: { air_temperature: (r.values as Record<string, number>).air_temperature! } })));
      return (await evaluateFields([field], now, { windows, states: new Map(), model, identity: identityOf(model), cache: createFeatureCache() }, DEFAULT_EVALUATOR_OPTIONS))[0]!;
    };
    expect((await withTemperature(at + 17 * HOUR + 60_000)).assessment).toMatchObject({ kind: 'stale', reason: 'no et0 in its 24 h period + 180 min, nor air temperature in 180 min' });
  });
});

describe('evaluator: event ids', () => {
  it('come from the state a step starts from: decided again from the same saved state (a crash before the new state was saved) the event is the same, a new life of the field a new one', async () => {
    const { when, evaluation: advised } = await firstHour((e) => e.decision.event === 'irrigation.recommended');
    expect(when).toBeGreaterThan(0);
    const windows = windowWith(ALL, when + HOUR);
    const again = async (now: number, state = INITIAL_DECISION_STATE) =>
      (await evaluateFields([field], now, { windows, states: new Map([[field.key, state]]), model, identity: identityOf(model) }, DEFAULT_EVALUATOR_OPTIONS))[0]!;
    const first = await again(when);
    const restarted = await again(when + 20 * 60_000);
    expect(first.decision.event).toBe('irrigation.recommended');
    expect(restarted.decision.event).toBe('irrigation.recommended');
    expect(restarted.eventId).toBe(first.eventId);
    expect(first.eventId).toBe(advised!.eventId);
    // The field removed and added again: its first state names another life.
    expect((await again(when, { ...INITIAL_DECISION_STATE, since: when - 5 * 86_400_000 })).eventId).not.toBe(first.eventId);
    // A replay's events are not the live pipeline's.
    const replayed = (await evaluateFields([field], when, { windows, states: new Map(), model, identity: identityOf(model), eventScope: 'replay' }, DEFAULT_EVALUATOR_OPTIONS))[0]!;
    expect(replayed.eventId).not.toBe(first.eventId);
  });
});

describe('evaluator: the weather ahead', () => {
  it('a forecast of rain holds the advice it would otherwise send, and the advice says so', async () => {
    // The first hour at which the field is advised without a forecast.
    const { when, evaluation: advised } = await firstHour((e) => e.decision.event === 'irrigation.recommended');
    expect(when).toBeGreaterThan(0);
    const depth = advised!.netDepthMm;
    const forecasts = createSqliteForecasts(':memory:');
    // A farm-wide forecast: 60 % chance of rain over three hours, in all more than half the depth.
    const perHour = depth / 3 / 0.6 + 0.5;
    forecasts.save({ farm: 'f', issuedAt: when, source: 'test', hours: [1, 2, 3].map((k) => ({ ts: when + (k + 2) * HOUR, rainMm: perHour, rainProbability: 0.6 })) });
    const windows = windowWith(ALL, when);
    const [held] = await evaluateFields([field], when, { windows, states: new Map(), model, identity: identityOf(model), forecasts }, DEFAULT_EVALUATOR_OPTIONS);
    expect(held!.decision.event).toBeNull();
    expect(held!.decision.reason).toMatch(/^hold: \d+ mm rain expected by (Sun|Mon|Tue|Wed|Thu|Fri|Sat) \d\d:00 UTC([+-]\d+(:\d\d)?)?$/);
    expect(held!.decision.hold).toMatchObject({ by: when + 5 * HOUR });
    expect(held!.decision.hold!.rainMm).toBeCloseTo(3 * perHour * 0.6, 6);
    expect(held!.netDepthMm).toBe(0);

    // With an advice in force, the same forecast withdraws it, saying why.
    const [withdrawn] = await evaluateFields([field], when, { windows, states: new Map([[field.key, advised!.decision.state]]), model, identity: identityOf(model), forecasts }, DEFAULT_EVALUATOR_OPTIONS);
    expect(withdrawn!.decision.event).toBe('irrigation.cleared');
    expect(withdrawn!.decision.reason).toBe(held!.decision.reason);

    // Rain that the model, reading it as well, takes to put RAW beyond the horizon (as it does when
    // enough falls soon enough; here its answer is set so): the advice in force is withdrawn all
    // the same, rather than left to say "irrigate" until it lapses.
    const downpour = createSqliteForecasts(':memory:');
    downpour.save({ farm: 'f', issuedAt: when, source: 'test', hours: [1, 2, 3].map((k) => ({ ts: when + k * HOUR, rainMm: 30 })) });
    const rainAware: IrrigationModel = { ...model, predict: async (rows) => (await model.predict(rows)).map((p) => ({ ...p, hoursToRaw: null, irrigate: false })) };
    const [drenched] = await evaluateFields([field], when, { windows, states: new Map([[field.key, advised!.decision.state]]), model: rainAware, identity: identityOf(model), forecasts: downpour }, DEFAULT_EVALUATOR_OPTIONS);
    expect(drenched!.decision).toMatchObject({ event: 'irrigation.cleared', reason: expect.stringMatching(/^hold: 90 mm rain expected by /), hold: { rainMm: 90 } });
    // Without rain ahead the same answer leaves the advice in force (hysteresis: only a refill ends it).
    const [quiet] = await evaluateFields([field], when, { windows, states: new Map([[field.key, advised!.decision.state]]), model: rainAware, identity: identityOf(model) }, DEFAULT_EVALUATOR_OPTIONS);
    expect(quiet!.decision).toMatchObject({ event: null, reason: 'advice active' });

    // A field's own forecast wins over its farm's: a dry one for this field lets the advice through.
    forecasts.save({ farm: 'f', field: 'a', issuedAt: when, source: 'test', hours: [1, 2, 3].map((k) => ({ ts: when + (k + 2) * HOUR, rainMm: 0 })) });
    const [dry] = await evaluateFields([field], when, { windows, states: new Map(), model, identity: identityOf(model), forecasts }, DEFAULT_EVALUATOR_OPTIONS);
    expect(dry!.decision.event).toBe('irrigation.recommended');
    expect(dry!.decision.state).not.toBe(INITIAL_DECISION_STATE);
    forecasts.close();
  }, 60_000);

  it('the model reads a day of forecast: rain lowers its depletion ahead for the same readings, and without one it predicts as before', async () => {
    // The first moment the field is dry enough for rain to matter.
    const { when, evaluation: before } = await firstHour((e) => !!e.prediction && e.prediction.depletion24hMm > 0.5 * e.prediction.rawMm, 6);
    expect(when).toBeGreaterThan(0);
    const windows = windowWith(ALL, when);
    const forecasts = createSqliteForecasts(':memory:');
    const evaluate = async () =>
      (await evaluateFields([field], when, { windows, states: new Map(), model, identity: identityOf(model), forecasts }, DEFAULT_EVALUATOR_OPTIONS))[0]!;

    // No forecast yet (or only another farm's): exactly the prediction made without a forecast store.
    forecasts.save({ farm: 'elsewhere', issuedAt: when, source: 'test', hours: Array.from({ length: 24 }, (_, k) => ({ ts: when + (k + 1) * HOUR, rainMm: 2 })) });
    const none = await evaluate();
    expect(none.prediction).toEqual(before!.prediction);
    expect(none.provenance.features).toEqual(before!.provenance.features);
    expect(none.provenance.features!.forecast_available).toBe(0);

    // A wet day ahead for this farm: the same readings, a lower depletion 24 h ahead.
    forecasts.save({ farm: 'f', issuedAt: when, source: 'test', hours: Array.from({ length: 24 }, (_, k) => ({ ts: when + (k + 1) * HOUR, rainMm: 1 })) });
    const wet = await evaluate();
    expect(wet.provenance.features!.forecast_available).toBe(1);
    expect(wet.provenance.features!.forecast_rain_24h_mm).toBeCloseTo(24, 6);
    expect(wet.prediction!.depletionNowMm).toBeCloseTo(none.prediction!.depletionNowMm, 9);
    expect(wet.prediction!.depletion24hMm).toBeLessThan(none.prediction!.depletion24hMm - 0.25 * none.prediction!.rawMm);

    // A dry day ahead (a forecast that says 0 mm) keeps the prediction near the one without a forecast.
    forecasts.save({ farm: 'f', issuedAt: when + 1, source: 'test', hours: Array.from({ length: 24 }, (_, k) => ({ ts: when + (k + 1) * HOUR, rainMm: 0 })) });
    const dry = await evaluate();
    expect(dry.provenance.features!.forecast_available).toBe(1);
    expect(Math.abs(dry.prediction!.depletion24hMm - none.prediction!.depletion24hMm)).toBeLessThan(0.15 * none.prediction!.rawMm);
    forecasts.close();
  }, 60_000);
});

describe('evaluator: irrigation records', () => {
  it('a recorded irrigation holds back the advice by the water the probe does not show yet, and never counts it twice', async () => {
    const { when, evaluation: advised } = await firstHour((e) => e.decision.event === 'irrigation.recommended');
    expect(when).toBeGreaterThan(0);
    const depth = Math.round(advised!.prediction!.depletionNowMm);
    const applied = createAppliedWaterLedger();
    applied.add(field.key, [{ id: 'r1', startTs: when - 2 * HOUR, endTs: when, depthMm: depth }]);
    const deps = { states: new Map(), model, identity: identityOf(model), applied };

    // A probe below the wetting front shows nothing yet: the whole record is credited, no advice.
    // (Its readings since the record began are held at the one before, so the probe's own noise
    // at whichever hour the model first advises cannot pass for water it shows.)
    const before = windowWith(ALL, when).between(field.key, 0, when - 2 * HOUR).findLast((r) => r.values.soil_moisture !== undefined)!.values.soil_moisture!;
    const still = createWindowStore({ keepHours: Number.POSITIVE_INFINITY });
    still.apply(field.key, windowWith(ALL, when).between(field.key, 0, when).map((r) => (r.ts > when - 2 * HOUR && r.values.soil_moisture !== undefined
      ? { ...r, values: { ...r.values, soil_moisture: before } }
      : r)));
    const [unseen] = await evaluateFields([field], when, { ...deps, windows: still }, DEFAULT_EVALUATOR_OPTIONS);
    expect(unseen!.provenance.applied_water).toEqual({ mm: depth, ids: ['r1'] });
    expect(unseen!.prediction!.depletionNowMm).toBeLessThan(advised!.prediction!.depletionNowMm - depth / 2);
    expect(unseen!.decision.event).toBeNull();

    // A probe in the wetted layer shows the water as it runs: the record adds only what it does not
    // show (crediting it again would call the root zone refilled, then advise again once the credit ends).
    const zr = profileOnDay(profile, when).rootDepthM;
    const wetted = createWindowStore({ keepHours: Number.POSITIVE_INFINITY });
    wetted.apply(field.key, windowWith(ALL, when).between(field.key, 0, when).map((r) => (r.ts > when - 2 * HOUR && r.values.soil_moisture !== undefined
      ? { ...r, values: { ...r.values, soil_moisture: r.values.soil_moisture + depth / (1000 * zr) } }
      : r)));
    const [seen] = await evaluateFields([field], when, { ...deps, windows: wetted }, DEFAULT_EVALUATOR_OPTIONS);
    expect(seen!.provenance.applied_water!.ids).toEqual(['r1']);
    expect(seen!.provenance.applied_water!.mm).toBeLessThan(0.1 * depth);
    expect(seen!.decision.event).toBeNull();
  }, 60_000);
});

describe('evaluator: who judges silence', () => {
  // A back-fill's first bus round: only readings from 5 h before `at` have arrived so far.
  const oldestOnly = () => windowWith(ALL, at - 5 * HOUR);
  const state = { ...INITIAL_DECISION_STATE };
  const evaluate = async (trigger?: 'readings' | 'scheduled' | 'explicit') =>
    (await evaluateFields([field], at, { windows: oldestOnly(), states: new Map([[field.key, state]]), model, identity: identityOf(model) }, DEFAULT_EVALUATOR_OPTIONS, trigger))[0]!;

  it('a round triggered by arriving readings declares no field stale: state unchanged, no event', async () => {
    const e = await evaluate('readings');
    expect(e.assessment).toMatchObject({ kind: 'stale', reason: 'soil moisture older than 180 min' });
    expect(e.decision.event).toBeNull();
    expect(e.decision.state).toBe(state);
    expect(e.decision.reason).toBe('stale inputs (soil moisture older than 180 min); silence is judged by the scheduled round');
  });

  it('the scheduled round (and an explicit one) declares the same field stale', async () => {
    for (const trigger of ['scheduled', 'explicit', undefined] as const) {
      const e = await evaluate(trigger);
      expect(e.decision.event).toBe('sensor.stale');
      expect(e.decision.state).toEqual({ ...state, stale: true, staleSince: at, lastEventAt: at });
    }
  });

  it('readings that arrive for a stale field end its episode at once: recovered, naming when it went stale', async () => {
    const silent = { ...INITIAL_DECISION_STATE, stale: true, staleSince: at - 2 * HOUR };
    const [e] = await evaluateFields([field], at, { windows: windowWith(ALL, at), states: new Map([[field.key, silent]]), model, identity: identityOf(model) }, DEFAULT_EVALUATOR_OPTIONS, 'readings');
    expect(e!.assessment.kind).toBe('ok');
    expect(e!.decision.recovered).toEqual({ staleSince: at - 2 * HOUR });
    expect(e!.decision.state.stale).toBe(false);
    expect(e!.decision.state).not.toHaveProperty('staleSince');
  });
});

describe('localLabel', () => {
  it('writes a deadline in the field\'s standard time and names that time\'s offset', () => {
    const ts = Date.parse('2026-12-01T03:00:00Z'); // a Tuesday
    expect(localLabel(ts, 0)).toBe('Tue 03:00 UTC');
    expect(localLabel(ts, -105)).toBe('Mon 20:00 UTC-7');
    expect(localLabel(ts, 82.5)).toBe('Tue 08:30 UTC+5:30');
    expect(localLabel(ts, -52.5)).toBe('Mon 23:30 UTC-3:30');
  });
});
