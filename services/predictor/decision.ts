/**
 * The decision state machine of one field: pure, so it is unit-tested without clocks or I/O and
 * replays give the same answers as the live predictor. Its state is persisted after every event,
 * so a restarted predictor neither forgets an advice nor sends it again.
 */

const HOUR_MS = 3_600_000;

/** Tunables of the decision. */
export interface DecisionOptions {
  /** Advise when depletion is predicted to reach RAW within this many hours. Default 24. */
  horizonH: number;
  /** An active advice is cleared when depletion falls below this fraction of RAW. Default 0.5. */
  clearFraction: number;
  /** No new advice this soon after the last advice or clearance, ms. Default 6 h. */
  cooldownMs: number;
  /** `valid_until` of an advice, from its issue time, ms. Default 24 h. */
  validityMs: number;
}

export const DEFAULT_DECISION_OPTIONS: DecisionOptions = {
  horizonH: 24,
  clearFraction: 0.5,
  cooldownMs: 6 * HOUR_MS,
  validityMs: 24 * HOUR_MS,
};

/** What the decision knows about the field between evaluations (persisted). */
export interface DecisionState {
  /** The advice subscribers currently hold, if any. */
  advice: { eventId: string; issuedAt: number; validUntil: number; startBy: number } | null;
  /** Epoch ms of the last advice or clearance (the cool-down runs from here), or null. */
  lastChangeAt: number | null;
  /** True while the field is stale; `sensor.stale` is sent once per episode. */
  stale: boolean;
}

export const INITIAL_DECISION_STATE: DecisionState = { advice: null, lastChangeAt: null, stale: false };

/** What one evaluation found. */
export type Assessment =
  | { kind: 'stale'; reason: string }
  | {
      kind: 'ok';
      /** Depletion now and the RAW threshold, mm. */
      depletionNowMm: number;
      rawMm: number;
      /** Hours until depletion reaches RAW (0 reached, null beyond the model's reach). */
      hoursToRaw: number | null;
    };

export type DecisionEvent = 'irrigation.recommended' | 'irrigation.cleared' | 'sensor.stale';

export interface DecisionResult {
  state: DecisionState;
  /** The event to publish, if the state changed in a way subscribers must hear about. */
  event: DecisionEvent | null;
  /** Why (for logs, the recommendation point and tests). */
  reason: string;
  /** For `irrigation.recommended`: the new advice's times, epoch ms. */
  startBy?: number;
  validUntil?: number;
}

/**
 * Step the state machine. `eventId` names the event this step would emit (deterministic, so a
 * re-publish after a crash is de-duplicated by the dispatcher).
 *
 * Hysteresis: advice starts when RAW is within the horizon but only ends when the root zone is
 * refilled below `clearFraction`·RAW (or the advice expires); noise around the threshold cannot
 * make it flap. The cool-down stops a new advice right after a clearance or a previous advice.
 */
export function decide(
  state: DecisionState,
  assessment: Assessment,
  now: number,
  eventId: string,
  options: DecisionOptions = DEFAULT_DECISION_OPTIONS,
): DecisionResult {
  if (assessment.kind === 'stale') {
    // Stale data must not keep an advice alive or start one; subscribers hear once per episode.
    if (state.stale) return { state, event: null, reason: `still stale: ${assessment.reason}` };
    return { state: { ...state, stale: true }, event: 'sensor.stale', reason: assessment.reason };
  }
  const fresh: DecisionState = state.stale ? { ...state, stale: false } : state;
  const { depletionNowMm, rawMm, hoursToRaw } = assessment;
  const due = hoursToRaw !== null && hoursToRaw <= options.horizonH;
  const coolingDown = fresh.lastChangeAt !== null && now - fresh.lastChangeAt < options.cooldownMs;

  if (fresh.advice) {
    if (depletionNowMm <= options.clearFraction * rawMm) {
      return {
        state: { advice: null, lastChangeAt: now, stale: false },
        event: 'irrigation.cleared',
        reason: `root zone refilled: depletion ${depletionNowMm.toFixed(1)} mm ≤ ${(options.clearFraction * rawMm).toFixed(1)} mm`,
      };
    }
    if (now < fresh.advice.validUntil) return { state: fresh, event: null, reason: 'advice active' };
    // Expired: renew while water is still due, otherwise let it lapse quietly (receivers already
    // ignore it after valid_until).
    if (!due) return { state: { ...fresh, advice: null }, event: null, reason: 'advice expired, no longer due' };
  } else if (!due) {
    return { state: fresh, event: null, reason: hoursToRaw === null ? 'RAW not within reach' : `RAW in ${hoursToRaw.toFixed(1)} h` };
  } else if (coolingDown) {
    return { state: fresh, event: null, reason: 'due, but in cool-down' };
  }
  const startBy = now + Math.max(0, hoursToRaw ?? 0) * HOUR_MS;
  const validUntil = now + options.validityMs;
  return {
    state: { advice: { eventId, issuedAt: now, validUntil, startBy }, lastChangeAt: now, stale: false },
    event: 'irrigation.recommended',
    reason: `RAW reached in ${(hoursToRaw ?? 0).toFixed(1)} h (horizon ${options.horizonH} h)`,
    startBy,
    validUntil,
  };
}
