/**
 * The predictor as the chat's field directory: every field with the advice in force (its field
 * views, which include the fields other predictors evaluate where they share them) and, for
 * `status`, an assessment now (`assess`, which neither publishes nor changes state) of a field
 * this instance evaluates; of one evaluated elsewhere, what its predictor saved last and the
 * newest water balance it recorded (InfluxDB; left out when InfluxDB cannot be read: the advice
 * in force is still the answer).
 */
import type { Predictor } from '../predictor/build-predictor.js';
import type { DecisionState } from '../predictor/decision.js';
import type { FieldDirectory, FieldView } from './conversation.js';

const adviceOf = (state: DecisionState | null | undefined): FieldView['advice'] =>
  state?.advice
    ? { ...(state.advice.depthMm !== undefined ? { depthMm: state.advice.depthMm } : {}), startBy: state.advice.startBy, validUntil: state.advice.validUntil }
    : null;

export function predictorFieldDirectory(predictor: Pick<Predictor, 'fieldViews' | 'assess'>): FieldDirectory {
  // The shared views, or, while the database cannot be read, this instance's own fields (as the
  // status page does): the chat still answers about what is evaluated here.
  const views = () => predictor.fieldViews.read().catch(() => predictor.fieldViews.local());
  return {
    async list(farms) {
      return (await views())
        .filter((f) => farms.includes(f.settings.farm))
        .map((f) => ({ farm: f.settings.farm, field: f.settings.field, crop: f.settings.crop, advice: adviceOf(f.state) }));
    },
    async status(farm, field) {
      const known = (await views()).find((f) => f.settings.farm === farm && f.settings.field === field);
      if (!known) return undefined;
      const base = { farm, field, crop: known.settings.crop, advice: adviceOf(known.state) };
      const { evaluation } = known;
      // Its windows are on another instance: no assessment here, only what was saved there.
      if (!evaluation.here) {
        const recorded = await predictor.fieldViews.recorded(farm, field).catch(() => undefined);
        return {
          ...base,
          elsewhere: { instance: evaluation.instance, partition: evaluation.partition, savedAt: evaluation.savedAt, ...(recorded ? { recordedAt: recorded.at } : {}) },
          ...(recorded ? { depletionMm: recorded.depletionMm, rawMm: recorded.rawMm } : {}),
        };
      }
      const e = await predictor.assess(farm, field);
      if (!e) return base;
      if (e.assessment.kind !== 'ok' || !e.prediction) return { ...base, unavailable: 'reason' in e.assessment ? e.assessment.reason : e.assessment.kind };
      return { ...base, depletionMm: e.prediction.depletionNowMm, rawMm: e.prediction.rawMm };
    },
  };
}
