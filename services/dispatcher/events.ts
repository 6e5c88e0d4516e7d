import type { EventEnvelope, PublishInput } from '../shared/bus/payloads.js';

/** Event types the pipeline publishes. */
export const EVENT_TYPES = ['irrigation.recommended', 'irrigation.cleared', 'sensor.stale', 'sensor.recovered'] as const;

/**
 * Operational events about delivery itself. A subscription receives them only when it names them
 * in `events` (a `*` does not include them), and they never describe each other's deliveries, so
 * a failing operational endpoint cannot cause a storm of events about itself.
 */
export const OPERATIONAL_EVENT_TYPES = ['endpoint.disabled', 'delivery.exhausted'] as const;

/** Sent by `POST /v1/subscriptions/{id}/test`, to that subscription only. */
export const TEST_EVENT_TYPE = 'webhook.test';

/** Every type fieldhook itself sends. */
const OWN_TYPES: readonly string[] = [...EVENT_TYPES, ...OPERATIONAL_EVENT_TYPES, TEST_EVENT_TYPE];
/** Families of fieldhook's own events (`irrigation`, `sensor`, …): closed to types of its own. */
const OWN_FAMILIES: ReadonlySet<string> = new Set(OWN_TYPES.map((t) => t.slice(0, t.indexOf('.'))));

/**
 * Why `type` names nothing fieldhook sends although it is in one of fieldhook's own families
 * (`irrigation.recomended`), or undefined: a filter or an event of that type would wait for ever.
 * Other families are the events an operator publishes (POST /v1/events).
 */
export function unknownOwnType(type: string): string | undefined {
  const family = type.slice(0, type.indexOf('.'));
  if (!OWN_FAMILIES.has(family) || OWN_TYPES.includes(type)) return undefined;
  return `fieldhook sends no ${type} event; its ${family} events: ${OWN_TYPES.filter((t) => t.startsWith(`${family}.`)).join(', ')}`;
}

/**
 * Why a publisher outside fieldhook may not publish `type`, or undefined when it may: a type in one
 * of fieldhook's own families must be one of the predictor's (a replay re-sends them), never a typo
 * no subscription filter could name (`irrigation.recomended`) nor a notice about delivery itself,
 * which only the dispatcher sends. Other families are the operator's own events.
 */
export function foreignTypeRefusal(type: string): string | undefined {
  if ((EVENT_TYPES as readonly string[]).includes(type)) return undefined;
  if (OWN_TYPES.includes(type)) return `${type} is sent by fieldhook's dispatcher itself`;
  return unknownOwnType(type);
}

// The event payloads are part of the bus contract; the dispatcher adds its outbox record.
export { EVENT_TYPE_PATTERN, PublishInputSchema, type EventEnvelope, type PublishInput } from '../shared/bus/payloads.js';

/** An event as stored in the outbox. */
export interface OutboxEvent {
  id: string;
  type: string;
  farm: string | null;
  field: string | null;
  collapseKey: string | null;
  /** Epoch ms, or null when the event never goes stale. */
  validUntil: number | null;
  correlationId: string | null;
  /** Epoch ms of acceptance. */
  createdAt: number;
  /** The exact bytes signed and sent on every attempt. */
  body: string;
}

export interface PublishResult {
  id: string;
  /** Deliveries created (one per matching subscription); 0 for a duplicate id. */
  deliveries: number;
  /** True when an event with this id was accepted before; nothing new was queued. */
  duplicate: boolean;
}

function stringOrNull(v: unknown): string | null {
  return typeof v === 'string' && v.length > 0 ? v : null;
}

/** Turn a validated publish input into the outbox record and its serialised envelope. */
export function toOutboxEvent(input: PublishInput, id: string, nowMs: number): OutboxEvent {
  const timestamp = input.timestamp ?? new Date(nowMs).toISOString();
  const envelope: EventEnvelope = { type: input.type, id, timestamp, data: input.data };
  if (input.valid_until) envelope.valid_until = new Date(input.valid_until).toISOString();
  return {
    id,
    type: input.type,
    farm: input.farm ?? stringOrNull(input.data.farm),
    field: input.field ?? stringOrNull(input.data.field),
    collapseKey: input.collapse_key ?? null,
    validUntil: input.valid_until ? Date.parse(input.valid_until) : null,
    correlationId: input.correlation_id ?? null,
    createdAt: nowMs,
    body: JSON.stringify(envelope),
  };
}
