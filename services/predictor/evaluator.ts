/**
 * One evaluation round: for every field asked for, the freshness gate, the shared feature module,
 * one batched ONNX inference for all fields that have features, and the decision step. Pure apart
 * from the model call; the caller writes the points and publishes the events.
 */
import { createHash } from 'node:crypto';
import { FEATURE_NAMES, FEATURE_WINDOW_HOURS, buildObservationSeries, featuresFromReadings, localHourOf, stationEt0PeriodHours, type Et0Provenance, type FeatureContext, type FieldProfile, type IrrigationModel, type IrrigationPrediction } from '../model/index.js';
import { DEFAULT_DECISION_OPTIONS, decide, INITIAL_DECISION_STATE, type Assessment, type DecisionOptions, type DecisionResult, type DecisionState } from './decision.js';
import type { FeatureCache } from './feature-cache.js';
import { offSeasonReason, waterBudgetOf, type FieldSettings } from './field-profiles.js';
import type { ModelIdentity } from './model-holder.js';
import type { RoundTrigger } from './scheduler.js';
import type { WindowStore } from './window-store.js';
import { expectedRain } from '../forecasts/forecast.js';
import type { ForecastReader } from '../forecasts/store.js';
import { creditPrediction, lessShown, unseenFrom, unseenWater, type AppliedWaterLedger, type WaterCredit } from './applied-water.js';
import { profileOnDay } from '../model/features.js';
import { applyFieldFactors, factorsOf, fitDryDay, INITIAL_FIELD_LEARNING, lastDayEnd, observeDay, type FieldFactors, type FieldLearningState } from './field-learning.js';

const HOUR_MS = 3_600_000;
/** Correlation ids carried in provenance: the newest ones, enough to find the readings. */
const MAX_CORRELATION_IDS = 8;

export interface EvaluatorOptions extends DecisionOptions {
  /** Soil moisture or weather older than this makes the field stale, ms. */
  staleAfterMs: number;
  /**
   * Learn each field's root-zone capacity and crop factor from its dry days and use them in the
   * thresholds and the forecast (field-learning.ts). Absent: the default.
   */
  learnField?: boolean;
}

export const DEFAULT_EVALUATOR_OPTIONS: Readonly<EvaluatorOptions> = Object.freeze({
  ...DEFAULT_DECISION_OPTIONS,
  /** 3 h: hourly sensors may miss two reports before a field is called stale. */
  staleAfterMs: 3 * HOUR_MS,
  learnField: true,
});

/** A field as the evaluator needs it. */
export interface EvaluatedField {
  key: string;
  settings: FieldSettings;
  profile: FieldProfile;
}

/** Where the advice came from: enough for an agronomist to ask "why". */
export interface Provenance {
  model: ModelIdentity;
  window: { from: string; to: string; readings: number; /** hours of the 72 with soil moisture, 0–1 */ completeness: number };
  features: Record<string, number> | null;
  /**
   * How the last 24 h of ET0 were had: the station's, FAO-56 Penman-Monteith, or Hargreaves from
   * air temperature alone (then `missing` names the inputs it stood in for). Absent when stale.
   */
  et0?: Et0Provenance;
  correlation_ids: string[];
  /** Recorded irrigations the soil probe does not show yet, credited to the depletion (applied-water.ts). */
  applied_water?: WaterCredit;
  /** What the field has learnt from its dry days and the factors applied to TAW, RAW and the forecast. */
  field_learning?: FieldFactors;
}

export interface Evaluation {
  key: string;
  farm: string;
  field: string;
  /** The field's crop and soil presets (its settings), for messages people read. */
  crop?: string;
  soil?: string;
  /** Evaluation time, epoch ms. */
  at: number;
  assessment: Assessment;
  prediction: IrrigationPrediction | null;
  /** ET0 of the last 24 h, mm (NaN when stale). */
  et0Mm: number;
  /** Net and gross depth of the advice in force (as people were told it), 0 when none, mm. */
  netDepthMm: number;
  grossDepthMm: number;
  decision: DecisionResult;
  /** Id of the event this evaluation emits (deterministic per field, type and time). */
  eventId: string;
  provenance: Provenance;
  correlationId: string | undefined;
  /** The field's learning after this evaluation (the same object when nothing new was learnt); absent when learning is off or the field was not assessed. */
  learning?: FieldLearningState;
}

/** Deterministic event id: a re-publish of the same decision after a crash is a duplicate. */
export function eventIdOf(key: string, type: string, from: number | string): string {
  return `evt_p_${createHash('sha256').update(`${key}|${type}|${from}`).digest('hex').slice(0, 32)}`;
}

/**
 * A decision state as text whatever the order its keys were stored in (PostgreSQL's jsonb keeps an
 * order of its own). Asked for every field of every round: made once per state object (a field's
 * state object stays the same until a step changes it).
 */
function stateStamp(state: DecisionState): string {
  let stamp = stamps.get(state);
  if (stamp === undefined) {
    stamp = JSON.stringify(state, (_key, value: unknown) =>
      value !== null && typeof value === 'object' && !Array.isArray(value) ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : value,
    );
    stamps.set(state, stamp);
  }
  return stamp;
}
const stamps = new WeakMap<DecisionState, string>();

const iEt0 = FEATURE_NAMES.indexOf('et0_24h_mm');

/**
 * Evaluate `fields` at time `now` (epoch ms) with the readings in `windows` and the decision
 * states in `states` (not modified; the new states are in the results). In a round `trigger`ed by
 * arriving readings a stale field is left as it was, without an event: a back-fill arrives over
 * several rounds, the first of which may hold only its oldest readings, and silence is the
 * scheduled round's to judge (scheduler.ts).
 */
export async function evaluateFields(
  fields: readonly EvaluatedField[],
  now: number,
  deps: {
    windows: WindowStore;
    states: ReadonlyMap<string, DecisionState>;
    model: IrrigationModel;
    identity: ModelIdentity;
    cache?: FeatureCache;
    /** Recorded irrigations per field: credited until the probe shows them. */
    applied?: AppliedWaterLedger;
    /** The weather ahead per field; without it advice knows no forecast. */
    forecasts?: ForecastReader;
    /**
     * What each field has learnt so far (not modified; the new states are in the results). Without
     * it nothing is learnt or applied: learning needs a caller that keeps it from day to day.
     */
    learning?: ReadonlyMap<string, FieldLearningState>;
    /** Mixed into event ids: a replay's events (replay.ts) are not the live pipeline's. */
    eventScope?: string;
  },
  options: EvaluatorOptions,
  trigger: RoundTrigger = 'explicit',
): Promise<Evaluation[]> {
  const learn = (options.learnField ?? DEFAULT_EVALUATOR_OPTIONS.learnField) && deps.learning !== undefined;
  // Features end with the hour that holds `now`: readings of the hour under way count (a new field,
  // or a probe back after an outage, is not "without recent soil moisture" until the next hour).
  // On the hour, as replays and the training data evaluate, this is `now` itself.
  const featureTs = Math.ceil(now / HOUR_MS) * HOUR_MS;
  const fromTs = featureTs - FEATURE_WINDOW_HOURS * HOUR_MS;
  const pending: { f: EvaluatedField; features: Float64Array; base: Omit<Provenance, 'features' | 'model'>; corr: string | undefined; lastSoilTs: number }[] = [];
  const results: Evaluation[] = [];

  const finish = (
    f: EvaluatedField,
    assessment: Assessment,
    prediction: IrrigationPrediction | null,
    features: Float64Array | null,
    base: Omit<Provenance, 'features' | 'model'>,
    corr: string | undefined,
    learning?: FieldLearningState,
  ) => {
    const state = deps.states.get(f.key) ?? INITIAL_DECISION_STATE;
    const type = assessment.kind === 'stale' ? 'sensor.stale' : 'irrigation.recommended';
    // Ids come from the state the step starts from, not from its time: a predictor that
    // published and stopped (a crash, a failed save) before its new state was saved decides
    // again from the same state after its restart, and the same event is a duplicate the
    // dispatcher accepts once. The id depends on the event actually emitted (a clearance's is
    // known after the decision).
    const from = `${deps.eventScope ?? ''}|${stateStamp(state)}`;
    const provisional = eventIdOf(f.key, type, from);
    const decision: DecisionResult = assessment.kind === 'stale' && trigger === 'readings'
      ? { state, event: null, reason: `stale inputs (${assessment.reason}); silence is judged by the scheduled round` }
      : decide(state, assessment, now, provisional, options);
    const eventId = decision.event ? eventIdOf(f.key, decision.event, from) : provisional;
    const advice = decision.state.advice;
    const net = advice ? (advice.depthMm ?? (assessment.kind === 'ok' ? assessment.depthMm : 0)) : 0;
    results.push({
      key: f.key,
      farm: f.settings.farm,
      field: f.settings.field,
      crop: f.settings.crop,
      ...(f.settings.soil !== undefined ? { soil: f.settings.soil } : {}),
      at: now,
      assessment,
      prediction,
      et0Mm: features ? features[iEt0]! : Number.NaN,
      netDepthMm: net,
      grossDepthMm: net / f.settings.efficiency,
      decision,
      eventId,
      provenance: {
        model: deps.identity,
        ...base,
        features: features ? Object.fromEntries(FEATURE_NAMES.map((n, i) => [n, round(features[i]!)])) : null,
      },
      correlationId: corr,
      ...(learning ? { learning } : {}),
    });
  };

  /** The field's learning, with the newest completed local day looked at once. */
  function learnt(f: EvaluatedField): FieldLearningState {
    let state = deps.learning!.get(f.key) ?? INITIAL_FIELD_LEARNING;
    const dayEnd = lastDayEnd(Math.floor(now / HOUR_MS) * HOUR_MS, f.profile.tzLongitudeDeg);
    if (dayEnd > state.lastDayEnd) {
      const from = dayEnd - 48 * HOUR_MS;
      const series = buildObservationSeries(f.profile, deps.windows.between(f.key, from + 1, dayEnd), from, dayEnd);
      state = observeDay(state, dayEnd, fitDryDay(f.profile, series, dayEnd, deps.applied?.get(f.key) ?? []));
    }
    return state;
  }

  /**
   * The weather ahead and the water recorded, as the model's features take them; without a
   * forecast reader or ledger the features take their "none" values. Only what is known at `now`:
   * a replay sees no record that starts later.
   */
  function featureContext(f: EvaluatedField): FeatureContext {
    return {
      ...(deps.forecasts ? { forecast: deps.forecasts.hours(f.settings.farm, f.settings.field, featureTs, featureTs + 24 * HOUR_MS) } : {}),
      ...(deps.applied ? { applied: deps.applied.get(f.key).filter((r) => r.startTs <= now) } : {}),
    };
  }

  const staleMin = Math.round(options.staleAfterMs / 60_000);
  /**
   * Why the field has no fresh weather an ET0 comes from, or undefined when it has. A station that
   * reports its `et0` as a total every few hours (or once a day) is not stale until its next report
   * is overdue: its newest report's rate stands for the hours since (features.ts,
   * spreadStationEt0); the reason then names its period.
   */
  function weatherStale(key: string, lastWeatherTs: number): string | undefined {
    if (now - lastWeatherTs <= options.staleAfterMs) return undefined;
    const reports = deps.windows.et0Reports(key, fromTs, now);
    const period = stationEt0PeriodHours(reports.hours);
    if (period <= 1) return `no et0 or air temperature in ${staleMin} min`;
    if (now - reports.newestTs <= period * HOUR_MS + options.staleAfterMs) return undefined;
    return `no et0 in its ${period} h period + ${staleMin} min, nor air temperature in ${staleMin} min`;
  }

  for (const f of fields) {
    // Out of season: before the sowing date (a field registered for the coming season: bare soil
    // needs no advice), or after the harvest or the crop's stages.
    const why = offSeasonReason(f.settings, now, f.profile);
    if (why !== undefined) {
      const base = { window: { from: new Date(fromTs).toISOString(), to: new Date(now).toISOString(), readings: 0, completeness: 0 }, correlation_ids: [] };
      finish(f, { kind: 'off-season', reason: why }, null, null, base, undefined);
      continue;
    }
    // Freshness from the readings up to `now` (not the window's newest): replays stay honest.
    const scan = deps.windows.scan(f.key, fromTs, now);
    // Only batches that arrived with readings up to `now` (a replay must not cite later ones).
    const corrs = (deps.windows.get(f.key)?.correlations ?? []).filter((c) => c.ts <= now).map((c) => c.id);
    const base = {
      window: {
        from: new Date(fromTs).toISOString(),
        to: new Date(now).toISOString(),
        readings: scan.readings,
        completeness: round(Math.min(1, scan.soilHours / FEATURE_WINDOW_HOURS)),
      },
      correlation_ids: [...new Set(corrs)].slice(-MAX_CORRELATION_IDS),
    };
    const corr = base.correlation_ids.at(-1);
    const staleReason = scan.readings === 0
      ? 'no readings'
      : now - scan.lastSoilMoistureTs > options.staleAfterMs
        ? `soil moisture older than ${staleMin} min`
        : weatherStale(f.key, scan.lastWeatherTs);
    if (staleReason) {
      // When the missing input was last seen, for the people told ("no fresh readings since 09:10").
      const missingSince = now - scan.lastSoilMoistureTs > options.staleAfterMs ? scan.lastSoilMoistureTs : scan.lastWeatherTs;
      const lastReadingAt = scan.readings > 0 && Number.isFinite(missingSince) && missingSince > 0 ? missingSince : undefined;
      finish(f, { kind: 'stale', reason: staleReason, ...(lastReadingAt !== undefined ? { lastReadingAt } : {}) }, null, null, base, corr);
      continue;
    }
    const context = featureContext(f);
    const computed = deps.cache
      ? deps.cache.features(f.key, f.profile, deps.windows, featureTs, context)
      : featuresFromReadings(f.profile, deps.windows.between(f.key, fromTs, now), featureTs, context);
    if ('gap' in computed) {
      finish(f, { kind: 'stale', reason: computed.gap }, null, null, base, corr);
      continue;
    }
    // One non-finite feature would make the model refuse the whole batch: judge that field
    // unusable (like a gap) instead of failing every other field of the round.
    const bad = computed.features.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) {
      finish(f, { kind: 'stale', reason: `incomplete inputs: ${FEATURE_NAMES[bad]}` }, null, null, base, corr);
      continue;
    }
    pending.push({ f, features: computed.features, base: { ...base, et0: computed.et0 }, corr, lastSoilTs: scan.lastSoilMoistureTs });
  }

  /** Water recorded for the field that its probe does not show yet at `now` (applied-water.ts). */
  function unseenCredit(f: EvaluatedField, lastSoilTs: number): WaterCredit | undefined {
    if (!deps.applied) return undefined;
    const records = deps.applied.get(f.key);
    const credit = unseenWater(records, lastSoilTs, now);
    if (credit.ids.length === 0) return credit;
    // The probe's rise over the credited part only: what it showed before, the credit left out already.
    const since = Math.min(...records.filter((r) => credit.ids.includes(r.id)).map((r) => unseenFrom(r, lastSoilTs)));
    const thetaAt = (from: number, to: number) => deps.windows.between(f.key, from, to).findLast((r) => r.values.soil_moisture !== undefined)?.values.soil_moisture;
    const before = thetaAt(since - 3 * HOUR_MS, since);
    const latest = thetaAt(since + 1, now);
    if (before === undefined || latest === undefined) return credit;
    return lessShown(credit, 1000 * (latest - before) * profileOnDay(f.profile, now).rootDepthM);
  }

  /** End of the field's newest recorded irrigation that has ended by `now` (a replay sees none later). */
  function endedIrrigations(f: EvaluatedField): { endTs: number; mm: number }[] | undefined {
    const ended = (deps.applied?.get(f.key) ?? []).filter((r) => r.endTs <= now).map((r) => ({ endTs: r.endTs, mm: r.depthMm }));
    return ended.length > 0 ? ended : undefined;
  }

  /**
   * The forecast's rain before the need and `holdGraceH` after it (the hold rule, decision.ts).
   * The need is the RAW crossing within the horizon; for a field whose advice is in force and
   * that the model no longer sees crossing (the same rain in its features), the start-by people
   * were told.
   */
  function rainBeforeNeed(f: EvaluatedField, hoursToRaw: number | null) {
    if (!deps.forecasts) return undefined;
    const advice = deps.states.get(f.key)?.advice;
    const needAt = hoursToRaw !== null && hoursToRaw <= options.horizonH ? now + hoursToRaw * HOUR_MS : advice ? Math.max(now, advice.startBy) : undefined;
    if (needAt === undefined) return undefined;
    const until = needAt + options.holdGraceH * HOUR_MS;
    const rain = expectedRain(deps.forecasts.hours(f.settings.farm, f.settings.field, now, until), now, until);
    return rain.by === null ? undefined : { mm: rain.mm, by: rain.by, byLocal: localLabel(rain.by, f.profile.tzLongitudeDeg) };
  }

  if (pending.length > 0) {
    const predictions = await deps.model.predict(pending.map((p) => p.features));
    pending.forEach((p, i) => {
      const hour = localHourOf(p.features);
      // The field's learnt capacity and crop factor first (in the field's own mm), then water it was given.
      const learning = learn ? learnt(p.f) : undefined;
      const factors = learning ? factorsOf(learning, p.f.profile.tzLongitudeDeg) : undefined;
      const learned = factors ? applyFieldFactors(predictions[i]!, factors, hour) : predictions[i]!;
      const credit = unseenCredit(p.f, p.lastSoilTs);
      const prediction = credit && credit.mm > 0 ? creditPrediction(learned, credit.mm, hour) : learned;
      // An advice refills the root zone to field capacity at the horizon, and is never for less than RAW.
      const depthMm = Math.max(prediction.depletion24hMm, prediction.rawMm);
      const rain = rainBeforeNeed(p.f, prediction.hoursToRaw);
      const irrigated = endedIrrigations(p.f);
      finish(
        p.f,
        {
          kind: 'ok', depletionNowMm: prediction.depletionNowMm, rawMm: prediction.rawMm, hoursToRaw: prediction.hoursToRaw, depthMm,
          ...(rain ? { expectedRain: rain } : {}), ...(irrigated ? { irrigated } : {}), budget: waterBudgetOf(p.f.profile),
        },
        prediction,
        p.features,
        { ...p.base, ...(credit && credit.ids.length > 0 ? { applied_water: credit } : {}), ...(factors ? { field_learning: factors } : {}) },
        p.corr,
        learning,
      );
    });
  }
  return results;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/**
 * `Wed 06:00 UTC-7` in the field's local standard time: how a person reads a deadline. The zone is
 * named because it is the field's meridian (`tzLongitudeDeg`), with no daylight saving: a farm's
 * summer clock reads an hour later.
 */
export function localLabel(ts: number, tzLongitudeDeg: number): string {
  const offsetMin = Math.round((tzLongitudeDeg / 15) * 60);
  const d = new Date(ts + offsetMin * 60_000);
  const abs = Math.abs(offsetMin);
  const zone = offsetMin === 0 ? 'UTC' : `UTC${offsetMin < 0 ? '-' : '+'}${Math.floor(abs / 60)}${abs % 60 ? `:${String(abs % 60).padStart(2, '0')}` : ''}`;
  return `${WEEKDAYS[d.getUTCDay()]} ${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')} ${zone}`;
}

function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}
