import { describe, expect, it } from 'vitest';
import { DEFAULT_DECISION_OPTIONS, INITIAL_DECISION_STATE, decide, type Assessment, type DecisionState } from '../../../services/predictor/decision.js';

const H = 3_600_000;
const ok = (depletionNowMm: number, hoursToRaw: number | null, rawMm = 40): Assessment => ({ kind: 'ok', depletionNowMm, rawMm, hoursToRaw });

/** Step through a sequence of hourly assessments; returns the events by hour. */
function run(assessments: Assessment[], start: DecisionState = INITIAL_DECISION_STATE) {
  let state = start;
  const events: [number, string][] = [];
  assessments.forEach((a, h) => {
    const r = decide(state, a, h * H, `e${h}`);
    if (r.event) events.push([h, r.event]);
    state = r.state;
  });
  return { state, events };
}

describe('decision state machine', () => {
  it('advises once when RAW comes within the horizon, with start_by at the crossing', () => {
    const r = decide(INITIAL_DECISION_STATE, ok(30, 10), 0, 'e0');
    expect(r.event).toBe('irrigation.recommended');
    expect(r.startBy).toBe(10 * H);
    expect(r.validUntil).toBe(DEFAULT_DECISION_OPTIONS.validityMs);
    expect(decide(INITIAL_DECISION_STATE, ok(20, 30), 0, 'e0').event).toBeNull();
    expect(decide(INITIAL_DECISION_STATE, ok(20, null), 0, 'e0').event).toBeNull();
  });

  it('does not flap when the forecast hovers around the horizon (hysteresis)', () => {
    // hours to RAW alternates in and out of the 24 h horizon; depletion stays above the clear level.
    const seq = Array.from({ length: 20 }, (_, h) => ok(30, h % 2 ? 23 : 25));
    expect(run(seq).events).toEqual([[1, 'irrigation.recommended']]);
  });

  it('clears only once the root zone is refilled below clearFraction·RAW', () => {
    const seq = [ok(35, 5), ok(38, 2), ok(25, 30), ok(19, null)];
    expect(run(seq).events).toEqual([
      [0, 'irrigation.recommended'],
      [3, 'irrigation.cleared'],
    ]);
  });

  it('keeps a cool-down after a clearance', () => {
    const seq = [ok(35, 5), ok(5, null), ok(35, 1), ok(36, 0), ...Array.from({ length: 6 }, () => ok(38, 0))];
    const { events } = run(seq);
    // cleared at h1; due again at h2 but cool-down (6 h) holds until h7
    expect(events).toEqual([
      [0, 'irrigation.recommended'],
      [1, 'irrigation.cleared'],
      [7, 'irrigation.recommended'],
    ]);
  });

  it('renews an expired advice that is still due, and lets it lapse quietly when not', () => {
    const due = Array.from({ length: 26 }, () => ok(38, 0));
    expect(run(due).events).toEqual([
      [0, 'irrigation.recommended'],
      [24, 'irrigation.recommended'],
    ]);
    const lapsing = [ok(30, 5), ...Array.from({ length: 25 }, () => ok(30, 40))];
    const r = run(lapsing);
    expect(r.events).toEqual([[0, 'irrigation.recommended']]);
    expect(r.state.advice).toBeNull();
  });

  it('sends sensor.stale once per episode and never advises from stale data', () => {
    const stale: Assessment = { kind: 'stale', reason: 'soil moisture older than 180 min' };
    const seq = [stale, stale, stale, ok(10, null), stale];
    expect(run(seq).events).toEqual([
      [0, 'sensor.stale'],
      [4, 'sensor.stale'],
    ]);
    // An active advice is neither renewed nor cleared while stale.
    const withAdvice = run([ok(35, 2)]).state;
    const r = decide(withAdvice, stale, 30 * H, 'x');
    expect(r.event).toBe('sensor.stale');
    expect(r.state.advice).toEqual(withAdvice.advice);
  });

  it('a restored state does not re-send: same inputs after a restart emit nothing', () => {
    const first = decide(INITIAL_DECISION_STATE, ok(35, 3), 0, 'e0');
    const restored = JSON.parse(JSON.stringify(first.state)) as DecisionState;
    expect(decide(restored, ok(36, 2), H, 'e1').event).toBeNull();
  });
});
