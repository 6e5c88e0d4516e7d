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
  /**
   * An advice in force is sent again only when its net depth grew by more than this many mm
   * *and* by more than `renewDepthFraction` of the depth people were told. Default 5 mm.
   */
  renewDepthMm: number;
  /** See `renewDepthMm`. Default 0.2. */
  renewDepthFraction: number;
  /** An advice in force is sent again when its start-by time moves earlier by more than this, ms. Default 6 h. */
  renewDeadlineMs: number;
  /**
   * Hold advice while the forecast expects at least this fraction of the advised depth as rain
   * (amount × probability) before the field reaches RAW or within `holdGraceH` after. Default 0.5.
   */
  holdRainFraction: number;
  /** See `holdRainFraction`, h. Default 12. */
  holdGraceH: number;
  /**
   * An advice is answered — closed without a message — by water recorded since it was sent that
   * adds up to at least this many mm (and to at most the advice's depth). Default 5.
   */
  answerMinMm: number;
}

/**
 * The renewal tolerances are what makes one need one message. A forecast re-run every hour
 * moves by a few mm and a few hours without anything changing for the person who irrigates:
 * irrigation is set in steps of about 5 mm (a sprinkler run, a drip shift), and one fifth of the
 * depth is within what the root-zone balance can tell apart, so smaller moves are noise. A
 * deadline that moves *later* needs no message (whoever irrigates by the earlier time is not
 * wrong; a depletion hovering just below RAW moves it later every day, and each of those
 * renewals was a false alarm); one that moves earlier by more than 6 h (a hot spell) changes
 * what they must do. Likewise only a depth that grows is sent again: a smaller depth is the
 * water people applied themselves (the record, or the probe, shows it while the advice holds) or
 * rain too little to clear the advice, and applying the depth they hold still refills the root
 * zone, the surplus draining below the roots. On AquaCrop's seasons 300 of 302 such messages were
 * false alarms, nearly all sent as the recorded irrigation went in (models/aquacrop/EVALUATION.md).
 */
export const DEFAULT_DECISION_OPTIONS: DecisionOptions = {
  horizonH: 24,
  clearFraction: 0.5,
  cooldownMs: 6 * HOUR_MS,
  validityMs: 24 * HOUR_MS,
  renewDepthMm: 5,
  renewDepthFraction: 0.2,
  renewDeadlineMs: 6 * HOUR_MS,
  holdRainFraction: 0.5,
  holdGraceH: 12,
  answerMinMm: 5,
};

/*
 * The answer rule. A record is people saying "we watered": one irrigation step or more (about
 * 5 mm, a sprinkler run or a drip shift, as for the renewal tolerance above) answers the advice,
 * even when the system applies the depth over several days (the rest follows, or the probe shows
 * what the soil took), and a need left once it has soaked in is a new advice. Less is no answer:
 * a valve tested, a typo of 0.2 for 20 — the advice stays in force and says what is still due.
 */

/*
 * The hold rule. Rain that refills at least half of what an advice would apply before the field
 * needs it pushes the need back by about half the interval between irrigations: irrigating now
 * would be water the rain then drains below the roots. Half a day past RAW costs the crop little
 * (its stress coefficient falls slowly just beyond RAW), so rain due within 12 h after the
 * crossing still counts. The rule is re-checked every round: when the rain does not come, or a
 * newer forecast drops it, advice follows at once.
 */

/** The advice people were last told about. */
export interface Advice {
  eventId: string;
  /** When it was sent, epoch ms. */
  issuedAt: number;
  /** Until when it holds, epoch ms: extended silently while the need is unchanged. */
  validUntil: number;
  /** Start irrigating by, epoch ms, as sent. */
  startBy: number;
  /** Net depth as sent, mm (absent in states saved before depths were kept). */
  depthMm?: number;
  /** The field's water budget it was judged on ({@link Assessment}'s `budget`; absent in older states). */
  budget?: string;
}

/** What the decision knows about the field between evaluations (persisted). */
export interface DecisionState {
  /** The advice subscribers currently hold, if any. */
  advice: Advice | null;
  /** Epoch ms of the last advice or clearance (the cool-down runs from here), or null. */
  lastChangeAt: number | null;
  /** True while the field is stale; `sensor.stale` is sent once per episode. */
  stale: boolean;
  /**
   * When the episode's `sensor.stale` was decided, epoch ms (absent when not stale, and in states
   * saved before it was kept): names the episode, so its `sensor.recovered` has one id however often
   * it is decided again.
   */
  staleSince?: number;
  /**
   * The last change was an advice withdrawn for the rain ahead: the cool-down does not hold back
   * the advice when a newer forecast drops the rain (the hold rule follows the forecast at once).
   */
  withdrawnForRain?: true;
  /**
   * The advice in force came back that way, within what would have been the cool-down: it is not
   * withdrawn for rain again before the cool-down has run, so a forecast whose rain comes and goes
   * with every issue cannot make the advice flap.
   */
  cameBackAfterRain?: true;
  /**
   * When the field's last event (of any kind) was decided, epoch ms. Event ids come from the state
   * a step starts from (evaluator.ts): this makes every state an event leaves a new one, so no two
   * events of a field share an id, and a step decided again from the same saved state (after a
   * crash before the new state was saved) repeats its event's id.
   */
  lastEventAt?: number;
  /**
   * When the field's decisions began (its first state, saved before it is first evaluated):
   * names its life, so a field removed and added again does not repeat its first life's ids.
   */
  since?: number;
}

/**
 * A state as loaded, with its stale episode named: one saved stale by a release that did not keep
 * `staleSince` takes the time it was saved, which is when it went stale (a stale state is saved
 * once, when the episode begins), so its `sensor.recovered` says since when.
 */
export function loadedState(state: DecisionState, savedAt: number): DecisionState {
  return state.stale && state.staleSince === undefined && Number.isFinite(savedAt) ? { ...state, staleSince: savedAt } : state;
}

export const INITIAL_DECISION_STATE: DecisionState = { advice: null, lastChangeAt: null, stale: false };

/** What one evaluation found. */
export type Assessment =
  /** `lastReadingAt`: the newest reading of what went missing, epoch ms, when there was one. */
  | { kind: 'stale'; reason: string; lastReadingAt?: number }
  /** Out of the crop's season (not sown yet, harvested, or its stages have run out): no advice. */
  | { kind: 'off-season'; reason: string }
  | {
      kind: 'ok';
      /** Depletion now and the RAW threshold, mm. */
      depletionNowMm: number;
      rawMm: number;
      /** Hours until depletion reaches RAW (0 reached, null beyond the model's reach). */
      hoursToRaw: number | null;
      /** Net depth an advice issued now would give (refills the root zone at the horizon), mm. */
      depthMm: number;
      /**
       * Rain the forecast expects before RAW + `holdGraceH` (amount × probability), with the end of
       * its last hour and that time as people read it (`Wed 06:00`, local); absent without a forecast.
       */
      expectedRain?: { mm: number; by: number; byLocal: string };
      /** Recorded irrigations that have ended by now (their end, epoch ms, and net depth, mm); absent when none is known. */
      irrigated?: readonly { endTs: number; mm: number }[];
      /**
       * What the field's water budget was set to (crop, soil, root depth, p): depletion judged on
       * another budget falls without any water coming. Absent: not known.
       */
      budget?: string;
    };

export type DecisionEvent = 'irrigation.recommended' | 'irrigation.cleared' | 'sensor.stale';

/** A stale field has fresh inputs again: `sensor.recovered`, sent before the step's own event. */
export interface Recovery {
  /** When the stale episode was decided, epoch ms, if known. */
  staleSince?: number;
}

export interface DecisionResult {
  state: DecisionState;
  /** The event to publish, if the state changed in a way subscribers must hear about. */
  event: DecisionEvent | null;
  /** Why (for logs, the recommendation point and tests). */
  reason: string;
  /** For `irrigation.recommended`: the new advice's times, epoch ms. */
  startBy?: number;
  validUntil?: number;
  /** Advice held (or withdrawn) for the rain the forecast expects. */
  hold?: { rainMm: number; by: number };
  /** An advice withdrawn because the field's water budget was corrected, not because water came. */
  profileChanged?: true;
  /**
   * The field was stale and its inputs are fresh again. People told it went silent hear that it
   * reports again, whatever the step decides besides (an advice may follow in the same step).
   */
  recovered?: Recovery;
}

/**
 * Step the state machine. `eventId` names the event this step would emit (deterministic, so a
 * re-publish after a crash is de-duplicated by the dispatcher).
 *
 * Hysteresis: advice starts when RAW is within the horizon but only ends when the root zone is
 * refilled below `clearFraction`·RAW (or the advice expires); noise around the threshold cannot
 * make it flap. The cool-down stops a new advice right after a clearance or a previous advice.
 *
 * One need, one message: an advice in force is sent again only when what it tells the person
 * changes materially (its depth, or an earlier start-by; see {@link DEFAULT_DECISION_OPTIONS});
 * otherwise, while water is still due, its validity is extended without a message.
 */
export function decide(
  state: DecisionState,
  assessment: Assessment,
  now: number,
  eventId: string,
  options: DecisionOptions = DEFAULT_DECISION_OPTIONS,
): DecisionResult {
  const result = step(state, assessment, now, eventId, options);
  return result.event || result.recovered ? { ...result, state: { ...result.state, lastEventAt: now } } : result;
}

/** One step of the state machine ({@link decide}), before the state is stamped with its event. */
function step(state: DecisionState, assessment: Assessment, now: number, eventId: string, options: DecisionOptions): DecisionResult {
  if (assessment.kind === 'stale') {
    // Stale data must not keep an advice alive or start one; subscribers hear once per episode.
    if (state.stale) return { state, event: null, reason: `still stale: ${assessment.reason}` };
    return { state: { ...state, stale: true, staleSince: now }, event: 'sensor.stale', reason: assessment.reason };
  }
  const { stale, staleSince, ...fresh } = state;
  if (assessment.kind === 'off-season') {
    // After harvest an advice in force is withdrawn once; nothing else is said until a new season
    // (a field harvested while silent is not "reporting again").
    if (state.advice) return { state: { advice: null, lastChangeAt: now, stale: false }, event: 'irrigation.cleared', reason: assessment.reason };
    return { state: stale ? { ...fresh, stale: false } : state, event: null, reason: assessment.reason };
  }
  const result = decideFresh(stale ? { ...fresh, stale: false } : state, assessment, now, eventId, options);
  return stale ? { ...result, recovered: staleSince !== undefined ? { staleSince } : {} } : result;
}

/** The step for fresh inputs in season: advice, its renewal, extension or clearance. */
function decideFresh(
  fresh: DecisionState,
  assessment: Extract<Assessment, { kind: 'ok' }>,
  now: number,
  eventId: string,
  options: DecisionOptions,
): DecisionResult {
  const { depletionNowMm, rawMm, hoursToRaw, depthMm } = assessment;
  const due = hoursToRaw !== null && hoursToRaw <= options.horizonH;
  // Within the cool-down of the last change; an advice withdrawn for rain is not held back by it.
  const withinCoolDown = fresh.lastChangeAt !== null && now - fresh.lastChangeAt < options.cooldownMs;
  const coolingDown = withinCoolDown && !fresh.withdrawnForRain;
  const startBy = now + Math.max(0, hoursToRaw ?? 0) * HOUR_MS;
  const rain = assessment.expectedRain;
  /** Whether the rain ahead refills at least `holdRainFraction` of this depth. */
  const rainCovers = (depth: number) => rain !== undefined && rain.mm > 0 && rain.mm >= options.holdRainFraction * depth;
  const forRain = (covered: boolean) => (covered && rain ? { hold: { rainMm: rain.mm, by: rain.by }, reason: `hold: ${Math.round(rain.mm)} mm rain expected by ${rain.byLocal}` } : undefined);
  const held = forRain(due && rainCovers(depthMm));
  const hold = held?.hold;
  const holdReason = held?.reason ?? '';

  if (fresh.advice) {
    const advice = fresh.advice;
    const rebudgeted = advice.budget !== undefined && assessment.budget !== undefined && advice.budget !== assessment.budget;
    // An advice saved before budgets were kept takes the one it is judged on now.
    const unbudgeted = advice.budget === undefined && assessment.budget !== undefined;
    if (depletionNowMm <= options.clearFraction * rawMm && rebudgeted) {
      // The field's soil or crop was corrected, no water came: withdrawn, saying so, with no
      // cool-down of its own (the one from the advice still runs).
      return {
        state: { advice: null, lastChangeAt: fresh.lastChangeAt, stale: false },
        event: 'irrigation.cleared',
        reason: `field profile changed: depletion now ${depletionNowMm.toFixed(1)} mm of RAW ${rawMm.toFixed(1)} mm`,
        profileChanged: true,
      };
    }
    if (depletionNowMm <= options.clearFraction * rawMm) {
      return {
        state: { advice: null, lastChangeAt: now, stale: false },
        event: 'irrigation.cleared',
        reason: `root zone refilled: depletion ${depletionNowMm.toFixed(1)} mm ≤ ${(options.clearFraction * rawMm).toFixed(1)} mm`,
      };
    }
    // People recorded the water since they were told: the advice is answered. It is closed without
    // a message (they know what they did) and the cool-down runs from here, so a need that remains
    // after the water soaked in is a new advice, not a correction sent while the water goes in.
    const since = (assessment.irrigated ?? []).filter((r) => r.endTs > advice.issuedAt).reduce((mm, r) => mm + r.mm, 0);
    if (since > 0 && since >= Math.min(options.answerMinMm, advice.depthMm ?? depthMm)) {
      return { state: { advice: null, lastChangeAt: now, stale: false }, event: null, reason: 'advice answered: irrigation recorded' };
    }
    // The rain will do the advice's work: withdraw it, saying why. Also when the model, reading
    // the same forecast, no longer sees RAW within the horizon: the advice would otherwise stay
    // in force ("irrigate") until it lapsed, for a field the rain is about to refill.
    // (An advice past its validity that is not due any more lapses quietly below: receivers already ignore it.)
    const withdrawn = held ?? forRain(!due && now < advice.validUntil && rainCovers(advice.depthMm ?? depthMm));
    if (withdrawn && !(coolingDown && fresh.cameBackAfterRain)) {
      return { state: { advice: null, lastChangeAt: now, stale: false, withdrawnForRain: true }, event: 'irrigation.cleared', reason: withdrawn.reason, hold: withdrawn.hold };
    }
    const change = due && !coolingDown ? materialChange(advice, depthMm, startBy, options) : undefined;
    if (!change) {
      // The advice holds on the corrected budget from here: a refill from now on is water again.
      const kept = rebudgeted || unbudgeted ? { ...advice, budget: assessment.budget } : advice;
      if (now < kept.validUntil) return { state: kept === advice ? fresh : { ...fresh, advice: kept }, event: null, reason: 'advice active' };
      // Expired: while water is still due and the advice says the same, it holds on without a
      // message; otherwise it lapses quietly (receivers already ignore it after valid_until).
      if (!due) return { state: { ...fresh, advice: null }, event: null, reason: 'advice expired, no longer due' };
      return {
        state: { ...fresh, advice: { ...kept, validUntil: now + options.validityMs, depthMm: kept.depthMm ?? depthMm } },
        event: null,
        reason: `advice extended: still due, unchanged (${depthMm.toFixed(1)} mm)`,
      };
    }
    return advise(now, eventId, startBy, depthMm, assessment.budget, options, `advice changed: ${change}`);
  } else if (!due) {
    return { state: fresh, event: null, reason: hoursToRaw === null ? 'RAW not within reach' : `RAW in ${hoursToRaw.toFixed(1)} h` };
  } else if (hold) {
    return { state: fresh, event: null, reason: holdReason, hold };
  } else if (coolingDown) {
    return { state: fresh, event: null, reason: 'due, but in cool-down' };
  }
  const advised = advise(now, eventId, startBy, depthMm, assessment.budget, options, `RAW reached in ${(hoursToRaw ?? 0).toFixed(1)} h (horizon ${options.horizonH} h)`);
  return withinCoolDown && fresh.withdrawnForRain ? { ...advised, state: { ...advised.state, cameBackAfterRain: true } } : advised;
}

/** A new advice, sent. */
function advise(now: number, eventId: string, startBy: number, depthMm: number, budget: string | undefined, options: DecisionOptions, reason: string): DecisionResult {
  const validUntil = now + options.validityMs;
  return {
    state: { advice: { eventId, issuedAt: now, validUntil, startBy, depthMm, ...(budget !== undefined ? { budget } : {}) }, lastChangeAt: now, stale: false },
    event: 'irrigation.recommended',
    reason,
    startBy,
    validUntil,
  };
}

/** How the advice now differs from the one people hold, if it differs materially (see the tolerances). */
export function materialChange(advice: Advice, depthMm: number, startBy: number, options: DecisionOptions): string | undefined {
  const changes: string[] = [];
  if (advice.depthMm !== undefined) {
    // Only a bigger need: a smaller one is water that came since the advice (people's own
    // irrigation, or rain too little to clear it), and the depth they hold still refills the root zone.
    const delta = depthMm - advice.depthMm;
    if (delta > Math.max(options.renewDepthMm, options.renewDepthFraction * advice.depthMm)) {
      changes.push(`depth ${advice.depthMm.toFixed(1)} → ${depthMm.toFixed(1)} mm`);
    }
  }
  const earlierH = (advice.startBy - startBy) / HOUR_MS;
  if (advice.startBy - startBy > options.renewDeadlineMs) changes.push(`start ${earlierH.toFixed(1)} h earlier`);
  return changes.length > 0 ? changes.join(', ') : undefined;
}
