import { describe, expect, it } from 'vitest';
import { decide, INITIAL_DECISION_STATE } from '../../../services/predictor/decision.js';
import type { Evaluation } from '../../../services/predictor/evaluator.js';
import { eventsOf, recommendationPoint } from '../../../services/predictor/outputs.js';

const H = 3_600_000;
const at = Date.parse('2026-07-06T17:00:00Z');

function evaluation(overrides: Partial<Evaluation> = {}): Evaluation {
  const prediction = { depletionNowMm: 40, depletion24hMm: 55, depletion48hMm: 66, tawMm: 130, rawMm: 52, irrigate: true, irrigationDepthMm: 55, hoursToRaw: 14.5 };
  const decision = decide(INITIAL_DECISION_STATE, { kind: 'ok', depletionNowMm: 40, rawMm: 52, hoursToRaw: 14.5, depthMm: 55 }, at, 'evt_x');
  return {
    key: 'farm 1/north', farm: 'farm 1', field: 'north', at, assessment: { kind: 'ok', depletionNowMm: 40, rawMm: 52, hoursToRaw: 14.5, depthMm: 55 },
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
    for (const f of ['irrigate=T', 'depth_mm=55', 'gross_depth_mm=68.75', 'depletion_mm=40', 'forecast_depletion_mm=55', 'in_season=T', `advice_valid_until=${at + 24 * H}i`, 'raw_mm=52', 'taw_mm=130', 'et0_mm=5.2', 'hours_to_threshold=14.5', 'stale=F', 'event="irrigation.recommended"', 'correlation_id="c1"', `model_sha256="${'a'.repeat(64)}"`]) {
      expect(line).toContain(f);
    }
    expect(line.endsWith(` ${BigInt(at) * 1_000_000n}`)).toBe(true); // ns here; the write API converts to its precision
  });

  it('turns an advice into a dispatcher event with collapse key, valid_until and correlation id', () => {
    const [e, ...more] = eventsOf(evaluation());
    expect(more).toEqual([]);
    expect(e).toMatchObject({
      type: 'irrigation.recommended', id: 'evt_x', farm: 'farm 1', field: 'north', collapse_key: 'irrigation:farm 1:north',
      valid_until: new Date(at + 24 * H).toISOString(), correlation_id: 'c1',
      data: { net_depth_mm: 55, gross_depth_mm: 68.8, start_by: new Date(at + 14.5 * H).toISOString(), hours_to_raw: 14.5 },
    });
    const quiet = evaluation({ decision: { state: INITIAL_DECISION_STATE, event: null, reason: 'RAW in 40 h' } });
    expect(eventsOf(quiet)).toEqual([]);
  });

  it('writes depth_mm 0 when no advice is in force, with the forecast depletion in its own field', () => {
    const prediction = { depletionNowMm: 20, depletion24hMm: 31, depletion48hMm: 40, tawMm: 130, rawMm: 52, irrigate: false, irrigationDepthMm: 0, hoursToRaw: 60 };
    const line = recommendationPoint(
      evaluation({ prediction, netDepthMm: 0, grossDepthMm: 0, decision: { state: INITIAL_DECISION_STATE, event: null, reason: 'RAW in 60 h' } }),
    ).toLineProtocol()!;
    for (const f of ['irrigate=F', 'depth_mm=0', 'gross_depth_mm=0', 'forecast_depletion_mm=31', 'advice_active=F']) expect(line).toContain(f);
    expect(line).not.toContain('advice_valid_until');
  });

  it('a harvested field: in_season false, no depth, and a clearance that carries only its reason', () => {
    const state = { advice: null, lastChangeAt: at, stale: false };
    const e = evaluation({
      assessment: { kind: 'off-season', reason: 'harvested 2026-07-06' },
      prediction: null, netDepthMm: 0, grossDepthMm: 0,
      decision: { state, event: 'irrigation.cleared', reason: 'harvested 2026-07-06' },
    });
    const line = recommendationPoint(e).toLineProtocol()!;
    for (const f of ['in_season=F', 'irrigate=F', 'depth_mm=0', 'event="irrigation.cleared"']) expect(line).toContain(f);
    const [cleared] = eventsOf(e);
    expect(cleared).toMatchObject({ type: 'irrigation.cleared', data: { reason: 'harvested 2026-07-06' } });
    expect(cleared!.data).not.toHaveProperty('depletion_mm');
  });

  it('a clearance for a corrected soil or crop gives its figures in the reason only: no message reads them as a refill', () => {
    const withdrawn = decide({ advice: { eventId: 'a', issuedAt: at - H, validUntil: at + 23 * H, startBy: at, depthMm: 50, budget: 'loam' }, lastChangeAt: at - H, stale: false }, { kind: 'ok', depletionNowMm: 6, rawMm: 52, hoursToRaw: null, depthMm: 52, budget: 'sand' }, at, 'evt_c');
    const [cleared] = eventsOf(evaluation({ decision: withdrawn }));
    expect(cleared).toMatchObject({ type: 'irrigation.cleared', data: { reason: 'field profile changed: depletion now 6.0 mm of RAW 52.0 mm' } });
    expect(cleared!.data).not.toHaveProperty('depletion_mm');
    expect(cleared!.data).not.toHaveProperty('raw_mm');
  });

  it('a stale field that reports again: sensor.recovered first, one id per episode, then the advice of the same step', () => {
    const staleAt = at - 5 * H;
    const silent = decide(INITIAL_DECISION_STATE, { kind: 'stale', reason: 'no readings' }, staleAt, 'evt_s').state;
    const assessment = { kind: 'ok' as const, depletionNowMm: 40, rawMm: 52, hoursToRaw: 14.5, depthMm: 55 };
    const back = (now: number) => evaluation({ at: now, decision: decide(silent, assessment, now, 'evt_x') });
    const [recovered, advice, ...more] = eventsOf(back(at));
    expect(more).toEqual([]);
    expect(recovered).toMatchObject({
      type: 'sensor.recovered', farm: 'farm 1', field: 'north', collapse_key: 'sensor:farm 1:north', correlation_id: 'c1',
      data: { farm: 'farm 1', field: 'north', stale_since: new Date(staleAt).toISOString(), evaluated_at: new Date(at).toISOString() },
    });
    expect(recovered).not.toHaveProperty('valid_until');
    expect(advice).toMatchObject({ type: 'irrigation.recommended', id: 'evt_x' });
    // Decided again an hour later (the first publish failed): the same event, which the outbox takes once.
    expect(eventsOf(back(at + H))[0]!.id).toBe(recovered!.id);
    // Another episode is another event.
    const later = decide(decide(silent, assessment, at, 'a').state, { kind: 'stale', reason: 'no readings' }, at + 10 * H, 'b').state;
    expect(eventsOf(evaluation({ decision: decide(later, assessment, at + 20 * H, 'c') }))[0]!.id).not.toBe(recovered!.id);
  });
});
