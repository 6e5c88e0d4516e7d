/**
 * The predictor as the chat's field directory: its fields with the advice in force (its status
 * snapshot) and, for `status`, an assessment now (`assess`, which neither publishes nor changes
 * state).
 */
import type { Predictor } from '../predictor/build-predictor.js';
import type { DecisionState } from '../predictor/decision.js';
import type { FieldDirectory, FieldView } from './conversation.js';

const adviceOf = (state: DecisionState | null | undefined): FieldView['advice'] =>
  state?.advice
    ? { ...(state.advice.depthMm !== undefined ? { depthMm: state.advice.depthMm } : {}), startBy: state.advice.startBy, validUntil: state.advice.validUntil }
    : null;

export function predictorFieldDirectory(predictor: Pick<Predictor, 'status' | 'assess'>): FieldDirectory {
  return {
    async list(farms) {
      return predictor
        .status()
        .fields.filter((f) => farms.includes(f.settings.farm))
        .map((f) => ({ farm: f.settings.farm, field: f.settings.field, crop: f.settings.crop, advice: adviceOf(f.state) }));
    },
    async status(farm, field) {
      const known = predictor.status().fields.find((f) => f.settings.farm === farm && f.settings.field === field);
      if (!known) return undefined;
      const e = await predictor.assess(farm, field);
      const base = { farm, field, crop: known.settings.crop, advice: adviceOf(known.state) };
      if (!e) return base;
      if (e.assessment.kind !== 'ok' || !e.prediction) return { ...base, unavailable: 'reason' in e.assessment ? e.assessment.reason : e.assessment.kind };
      return { ...base, depletionMm: e.prediction.depletionNowMm, rawMm: e.prediction.rawMm };
    },
  };
}
