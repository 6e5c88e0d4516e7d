import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIrrigationModel, FEATURE_WINDOW_HOURS, type IrrigationModel } from '../../../services/model/index.js';
import type { DecisionState } from '../../../services/predictor/decision.js';
import { DEFAULT_EVALUATOR_OPTIONS, evaluateFields, type EvaluatedField, type Evaluation } from '../../../services/predictor/evaluator.js';
import { createFeatureCache } from '../../../services/predictor/feature-cache.js';
import type { FieldLearningState } from '../../../services/predictor/field-learning.js';
import { identityOf } from '../../../services/predictor/model-holder.js';
import { createWindowStore } from '../../../services/predictor/window-store.js';
import { hoursToRawAhead, simulateField } from '../../../services/simulator/field-run.js';
import { createFieldSpecs } from '../../../services/simulator/fields.js';
import { sensorReadings } from '../../../services/simulator/sensors.js';
import { POPULATIONS, profileFromSpec } from '../../../services/training/dataset.js';

const HOUR_MS = 3_600_000;

describe('a field whose roots reach deeper than its profile', () => {
  let model: IrrigationModel;
  beforeAll(async () => {
    model = await createIrrigationModel({ modelPath: 'models/irrigation/model.onnx', cardPath: 'models/irrigation/model.json' });
  });
  afterAll(() => model.close());

  /** One simulated season of a field told 60 % of its true root depth, evaluated hourly. */
  async function season(learnField: boolean) {
    const [spec] = createFieldSpecs({ count: 1, seed: 'deep-roots', population: POPULATIONS.heldOut, idPrefix: 'd' });
    const run = simulateField(spec!);
    const told = profileFromSpec(spec!);
    const profile = { ...told, rootDepthM: told.rootDepthM * 0.6 };
    const field: EvaluatedField = {
      key: 'sim/deep',
      profile,
      settings: { farm: 'sim', field: 'deep', crop: spec!.crop, sowingDate: spec!.sowingDate, thetaFc: spec!.thetaFc, thetaWp: spec!.thetaWp, efficiency: 0.85, latitudeDeg: profile.latitudeDeg, longitudeDeg: profile.longitudeDeg, elevationM: profile.elevationM },
    };
    const windows = createWindowStore({ keepHours: Number.POSITIVE_INFINITY });
    windows.apply(field.key, sensorReadings(run).map((r) => ({ ts: Date.parse(r.ts), values: r.values })));
    const states = new Map<string, DecisionState>();
    const learning = new Map<string, FieldLearningState>();
    const cache = createFeatureCache();
    const advice: { day: number; early: boolean; e: Evaluation }[] = [];
    for (let i = FEATURE_WINDOW_HOURS - 1; i < run.weather.length; i++) {
      const [e] = await evaluateFields([field], run.weather[i]!.ts + HOUR_MS, { windows, states, learning, model, identity: identityOf(model), cache }, { ...DEFAULT_EVALUATOR_OPTIONS, learnField });
      states.set(field.key, e!.decision.state);
      if (e!.learning) learning.set(field.key, e!.learning);
      if (e!.decision.event === 'irrigation.recommended') {
        advice.push({ day: i / 24, early: hoursToRawAhead(run, i, DEFAULT_EVALUATOR_OPTIONS.horizonH + 24) === null, e: e! });
      }
    }
    return advice;
  }

  it('gets advice days early until it has learnt its capacity from dry days, then on time', async () => {
    const without = await season(false);
    const withLearning = await season(true);
    const earlyAfter = (advice: typeof without, day: number) => advice.filter((a) => a.day >= day && a.early).length;
    // Told 60 % of its roots, the field runs out of its budget too soon by the profile's reckoning.
    expect(earlyAfter(without, 40)).toBeGreaterThanOrEqual(3);
    // Once a few weeks of dry days have shown it drains slower than the profile says, advice comes on time.
    expect(earlyAfter(withLearning, 40)).toBe(0);
    const late = withLearning.filter((a) => a.day >= 40).at(-1)!.e;
    expect(late.provenance.field_learning).toMatchObject({ applied: true });
    expect(late.provenance.field_learning!.dry_days).toBeGreaterThan(10);
    expect(late.provenance.field_learning!.taw_factor).toBeGreaterThan(1.25);
    expect(late.provenance.field_learning!.ratio).toBeLessThan(0.75);
    // Its probe sees the whole root zone, so the crop slows beyond RAW as FAO-56 says: RAW stays where the ratio puts it.
    expect(late.provenance.field_learning!.raw_factor).toBe(1);
    // The thresholds the decision compared with are the learnt ones.
    expect(late.prediction!.rawMm).toBeCloseTo(late.provenance.features!.raw_mm! * late.provenance.field_learning!.taw_factor, 1);
  }, 120_000);
});
