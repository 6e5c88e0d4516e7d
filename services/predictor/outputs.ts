/**
 * What an evaluation becomes: a `recommendation` point in InfluxDB (every evaluation, so
 * dashboards show the model's view hour by hour) and, when the decision says so, an event for
 * the dispatcher.
 */
import { Point, type InfluxDB } from '@influxdata/influxdb-client';
import type { PublishInput } from '../shared/bus/payloads.js';
import type { Advice, Recovery } from './decision.js';
import { fieldKey } from './field-profiles.js';
import { eventIdOf, type Evaluation } from './evaluator.js';
import { Errors } from '../shared/error-catalog.js';

export const RECOMMENDATION_MEASUREMENT = 'recommendation';
/**
 * Where `fieldhook replay` writes its points: the same schema, kept apart from the live series,
 * which a replay over a period the pipeline ran would otherwise interleave with its own.
 */
export const REPLAY_MEASUREMENT = 'recommendation_replay';

/** The `recommendation` point of one evaluation (in `measurement`, by default the live one). */
export function recommendationPoint(e: Evaluation, measurement = RECOMMENDATION_MEASUREMENT): Point {
  const p = new Point(measurement)
    .tag('farm', e.farm)
    .tag('field', e.field)
    .tag('model', `${e.provenance.model.name}@${e.provenance.model.version}`)
    .timestamp(new Date(e.at));
  const stale = e.assessment.kind === 'stale';
  const advice = e.decision.state.advice;
  p.booleanField('stale', stale);
  p.booleanField('in_season', e.assessment.kind !== 'off-season');
  p.booleanField('advice_active', advice !== null);
  // What people were told, and nothing when they were told nothing: `depth_mm` is the advised net
  // depth in force (0 without advice), never the model's forecast, which has fields of its own.
  p.booleanField('irrigate', advice !== null);
  p.floatField('depth_mm', e.netDepthMm);
  p.floatField('gross_depth_mm', e.grossDepthMm);
  if (advice) p.intField('advice_valid_until', advice.validUntil);
  p.booleanField('hold', e.decision.hold !== undefined);
  if (e.assessment.kind === 'ok' && e.assessment.expectedRain) p.floatField('expected_rain_mm', e.assessment.expectedRain.mm);
  if (e.decision.event) p.stringField('event', e.decision.event);
  p.intField('window_readings', e.provenance.window.readings);
  // Enough to answer "why" from a dashboard: the exact model file and the newest ingest batch.
  p.stringField('model_sha256', e.provenance.model.sha256);
  if (e.correlationId) p.stringField('correlation_id', e.correlationId);
  p.floatField('window_completeness', e.provenance.window.completeness);
  if (e.prediction) {
    const r = e.prediction;
    p.floatField('depletion_mm', r.depletionNowMm);
    // The depletion the model forecasts at the 24 h horizon (what an advice issued now would refill).
    p.floatField('forecast_depletion_mm', r.depletion24hMm);
    p.floatField('depletion_24h_mm', r.depletion24hMm);
    p.floatField('depletion_48h_mm', r.depletion48hMm);
    p.floatField('raw_mm', r.rawMm);
    p.floatField('taw_mm', r.tawMm);
    if (Number.isFinite(e.et0Mm)) p.floatField('et0_mm', e.et0Mm);
    // Beyond the model's reach is written as a large sentinel-free gap: the field is omitted.
    if (r.hoursToRaw !== null) p.floatField('hours_to_threshold', r.hoursToRaw);
  }
  return p;
}

/**
 * The dispatcher events of an evaluation, in the order they are published: `sensor.recovered`
 * when a stale field reports again, then the decision's own event.
 */
export function eventsOf(e: Evaluation): PublishInput[] {
  const events: PublishInput[] = [];
  if (e.decision.recovered) events.push(recoveredEvent(e, e.decision.recovered));
  const event = eventOf(e);
  if (event) events.push(event);
  return events;
}

/**
 * The withdrawal of an advice in force when its field is removed (`fields remove`): receivers
 * would keep it until it lapses, for a field fieldhook no longer knows. One id per advice, so a
 * retry is no second message.
 */
export function removedFieldClearance(farm: string, field: string, advice: Advice, now: number): PublishInput {
  return {
    type: 'irrigation.cleared',
    id: eventIdOf(fieldKey(farm, field), 'irrigation.cleared|field removed', advice.issuedAt),
    timestamp: new Date(now).toISOString(),
    farm,
    field,
    collapse_key: `irrigation:${farm}:${field}`,
    data: { farm, field, evaluated_at: new Date(now).toISOString(), reason: 'field removed' },
  };
}

/** What the message names: the field, and when it was evaluated and on what. */
function about(e: Evaluation) {
  return {
    farm: e.farm,
    field: e.field,
    // Named in the messages people read ("North field (tomato, sandy loam): …").
    ...(e.crop !== undefined ? { crop: e.crop } : {}),
    ...(e.soil !== undefined ? { soil: e.soil } : {}),
    evaluated_at: new Date(e.at).toISOString(),
    provenance: e.provenance,
  };
}

function recoveredEvent(e: Evaluation, recovery: Recovery): PublishInput {
  // One id per stale episode: decided again after a failed publish, it is the same event.
  const since = recovery.staleSince;
  return {
    type: 'sensor.recovered',
    // A state saved before episodes were named: one id all the same, so a retry is no second message.
    id: eventIdOf(e.key, 'sensor.recovered', since ?? 0),
    timestamp: new Date(e.at).toISOString(),
    farm: e.farm,
    field: e.field,
    // Not collapsed with advice: it must not replace an advice not yet delivered.
    collapse_key: `sensor:${e.farm}:${e.field}`,
    ...(e.correlationId ? { correlation_id: e.correlationId } : {}),
    data: {
      ...about(e),
      ...(since !== undefined ? { stale_since: new Date(since).toISOString() } : {}),
      reason: 'inputs fresh again',
    },
  };
}

/** The decision's own event of an evaluation, or null when it emits none. */
function eventOf(e: Evaluation): PublishInput | null {
  const type = e.decision.event;
  if (!type) return null;
  const base = about(e);
  let data: Record<string, unknown>;
  if (type === 'irrigation.recommended') {
    const r = e.prediction!;
    data = {
      ...base,
      net_depth_mm: round1(e.netDepthMm),
      gross_depth_mm: round1(e.grossDepthMm),
      start_by: new Date(e.decision.startBy!).toISOString(),
      valid_until: new Date(e.decision.validUntil!).toISOString(),
      depletion_mm: round1(r.depletionNowMm),
      depletion_24h_mm: round1(r.depletion24hMm),
      depletion_48h_mm: round1(r.depletion48hMm),
      raw_mm: round1(r.rawMm),
      taw_mm: round1(r.tawMm),
      hours_to_raw: r.hoursToRaw === null ? null : round1(r.hoursToRaw),
      // The forecast's rain before the need, too little to hold the advice (so people know it was counted).
      ...(e.assessment.kind === 'ok' && e.assessment.expectedRain
        ? { expected_rain_mm: round1(e.assessment.expectedRain.mm), expected_rain_by: new Date(e.assessment.expectedRain.by).toISOString() }
        : {}),
      reason: e.decision.reason,
    };
  } else if (type === 'irrigation.cleared') {
    // A clearance at harvest has no prediction behind it, only the reason; one for a corrected
    // soil or crop gives its figures in the reason only, so no message reads them as a refill.
    const r = e.decision.profileChanged ? null : e.prediction;
    const hold = e.decision.hold;
    data = {
      ...base,
      ...(r ? { depletion_mm: round1(r.depletionNowMm), raw_mm: round1(r.rawMm) } : {}),
      // Withdrawn for the rain ahead: how much, and by when.
      ...(hold ? { hold: { expected_rain_mm: round1(hold.rainMm), by: new Date(hold.by).toISOString() } } : {}),
      reason: e.decision.reason,
    };
  } else {
    const since = e.assessment.kind === 'stale' ? e.assessment.lastReadingAt : undefined;
    data = { ...base, reason: e.decision.reason, ...(since !== undefined ? { last_reading_at: new Date(since).toISOString() } : {}) };
  }
  return {
    type,
    id: e.eventId,
    timestamp: new Date(e.at).toISOString(),
    farm: e.farm,
    field: e.field,
    // One collapse key per field: a newer advice, clearance or stale notice replaces an
    // undelivered older one, so a receiver that was down gets the current state, not history.
    collapse_key: `irrigation:${e.farm}:${e.field}`,
    ...(type === 'irrigation.recommended' ? { valid_until: new Date(e.decision.validUntil!).toISOString() } : {}),
    ...(e.correlationId ? { correlation_id: e.correlationId } : {}),
    data,
  };
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

export interface RecommendationWriter {
  write(evaluations: readonly Evaluation[]): Promise<void>;
  close(): Promise<void>;
}

/** Writes through the v2 write API (served by 1.8, 2.x, 3.x); one request per round. */
export function createRecommendationWriter(influx: InfluxDB, org: string, bucket: string, measurement = RECOMMENDATION_MEASUREMENT): RecommendationWriter {
  const api = influx.getWriteApi(org, bucket, 'ms', { maxRetries: 2, batchSize: 100_000, flushInterval: 0 });
  return {
    async write(evaluations) {
      if (evaluations.length === 0) return;
      api.writePoints(evaluations.map((e) => recommendationPoint(e, measurement)));
      try {
        await api.flush();
      } catch (err) {
        throw Errors.predictWrite(`Writing ${evaluations.length} recommendation points failed: ${(err as Error).message}`);
      }
    },
    async close() {
      await api.close().catch(() => {});
    },
  };
}
