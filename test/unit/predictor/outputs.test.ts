import { describe, expect, it } from 'vitest';
import { decide, INITIAL_DECISION_STATE } from '../../../services/predictor/decision.js';
import type { Evaluation } from '../../../services/predictor/evaluator.js';
import { eventOf, recommendationPoint } from '../../../services/predictor/outputs.js';

const H = 3_600_000;
const at = Date.parse('2026-07-06T17:00:00Z');

function evaluation(overrides: Partial<Evaluation> = {}): Evaluation {
  const prediction = { depletionNowMm: 40, depletion24hMm: 55, depletion48hMm: 66, tawMm: 130, rawMm: 52, irrigate: true, irrigationDepthMm: 55, hoursToRaw: 14.5 };
  const decision = decide(INITIAL_DECISION_STATE, { kind: 'ok', depletionNowMm: 40, rawMm: 52, hoursToRaw: 14.5 }, at, 'evt_x');
  return {
    key: 'farm 1/north', farm: 'farm 1', field: 'north', at, assessment: { kind: 'ok', depletionNowMm: 40, rawMm: 52, hoursToRaw: 14.5 },
    prediction, et0Mm: 5.2, netDepthMm: 55, grossDepthMm: 55 / 0.8, decision, eventId: 'evt_x',
    provenance: { model: { name: 'm', version: '1.0.0', sha256: 'a'.repeat(64) }, window: { from: '', to: '', readings: 72, completeness: 1 }, features: null, correlation_ids: ['c1'] },
    correlationId: 'c1',
    ...overrides,
  };
}

describe('recommendation outputs', () => {
  it('writes the recommendation point of the InfluxDB schema: tags farm, field, model; depth, depletion, RAW, TAW, ET0', () => {
    const line = recommendationPoint(evaluation()).toLineProtocol()!;
    expect(line).toMatch(/^recommendation,farm=farm\\ 1,field=north,model=m@1\.0\.0 /);
    for (const f of ['irrigate=T', 'depth_mm=55', 'gross_depth_mm=68.75', 'depletion_mm=40', 'raw_mm=52', 'taw_mm=130', 'et0_mm=5.2', 'hours_to_threshold=14.5', 'stale=F', 'event="irrigation.recommended"', 'correlation_id="c1"', `model_sha256="${'a'.repeat(64)}"`]) {
      expect(line).toContain(f);
    }
    expect(line.endsWith(` ${BigInt(at) * 1_000_000n}`)).toBe(true); // ns here; the write API converts to its precision
  });

  it('turns an advice into a dispatcher event with collapse key, valid_until and correlation id', () => {
    const e = eventOf(evaluation())!;
    expect(e).toMatchObject({
      type: 'irrigation.recommended', id: 'evt_x', farm: 'farm 1', field: 'north', collapse_key: 'irrigation:farm 1:north',
      valid_until: new Date(at + 24 * H).toISOString(), correlation_id: 'c1',
      data: { net_depth_mm: 55, gross_depth_mm: 68.8, start_by: new Date(at + 14.5 * H).toISOString(), hours_to_raw: 14.5 },
    });
    const quiet = evaluation({ decision: { state: INITIAL_DECISION_STATE, event: null, reason: 'RAW in 40 h' } });
    expect(eventOf(quiet)).toBeNull();
  });
});
