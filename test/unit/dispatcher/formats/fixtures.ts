import type { EventEnvelope } from '../../../../services/dispatcher/events.js';
import type { FormatName } from '../../../../services/dispatcher/formats/format.js';
import type { SubscriptionRecord } from '../../../../services/dispatcher/store/types.js';

/**
 * Events as the predictor and the dispatcher publish them today (services/predictor/outputs.ts,
 * provenance left out). Optional data a publisher may add (`crop`, `soil`, `refilled_mm`,
 * `device`, `last_reading_at`) makes the messages more precise; see messages.test.ts.
 */
export const ADVICE: EventEnvelope = {
  type: 'irrigation.recommended',
  id: 'evt_p_advice',
  timestamp: '2026-07-06T21:00:00.000Z',
  valid_until: '2026-07-07T21:00:00.000Z',
  data: {
    farm: 'f1',
    field: 'north',
    evaluated_at: '2026-07-06T21:00:00.000Z',
    net_depth_mm: 18,
    gross_depth_mm: 21,
    start_by: '2026-07-07T03:00:00.000Z',
    valid_until: '2026-07-08T03:00:00.000Z',
    depletion_mm: 41,
    depletion_24h_mm: 49.2,
    depletion_48h_mm: 57.3,
    raw_mm: 54,
    taw_mm: 135,
    hours_to_raw: 6,
    reason: 'RAW reached in 6.0 h (horizon 24 h)',
  },
};

export const CLEARED: EventEnvelope = {
  type: 'irrigation.cleared',
  id: 'evt_p_cleared',
  timestamp: '2026-07-07T09:00:00.000Z',
  data: { farm: 'f1', field: 'north', evaluated_at: '2026-07-07T09:00:00.000Z', depletion_mm: 6.1, raw_mm: 54, reason: 'root zone refilled: depletion 6.1 mm ≤ 27.0 mm' },
};

export const STALE: EventEnvelope = {
  type: 'sensor.stale',
  id: 'evt_p_stale',
  timestamp: '2026-07-07T09:40:00.000Z',
  data: { farm: 'f1', field: 'north', evaluated_at: '2026-07-07T09:40:00.000Z', reason: 'soil moisture older than 180 min' },
};

export const RECOVERED: EventEnvelope = {
  type: 'sensor.recovered',
  id: 'evt_p_recovered',
  timestamp: '2026-07-07T12:00:00.000Z',
  data: { farm: 'f1', field: 'north', evaluated_at: '2026-07-07T12:00:00.000Z', stale_since: '2026-07-07T09:40:00.000Z', reason: 'inputs fresh again' },
};

export const TEST_EVENT: EventEnvelope = {
  type: 'webhook.test',
  id: 'evt_test',
  timestamp: '2026-07-07T09:40:00.000Z',
  data: { subscription_id: 'sub_1', message: 'Test event from fieldhook' },
};

export const UNKNOWN_TYPE: EventEnvelope = {
  type: 'frost.warning',
  id: 'evt_frost',
  timestamp: '2026-07-07T09:40:00.000Z',
  data: { farm: 'f1', field: 'north' },
};

export const EVENTS = [ADVICE, CLEARED, STALE, RECOVERED, TEST_EVENT, UNKNOWN_TYPE];

export const URLS: Record<FormatName, string> = {
  'standard-webhooks': 'https://receiver.example.com/hooks',
  slack: 'https://hooks.slack.com/services/T000/B000/XXXX',
  teams: 'https://prod-00.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?sig=XXXX',
  telegram: 'https://api.telegram.org/bot123456:ABC-DEF',
  discord: 'https://discord.com/api/webhooks/123/XXXX',
  ntfy: 'https://ntfy.sh/north-field-alerts',
  email: 'mailto:agronomist@farm.example,manager@farm.example',
};

export function subscription(format: FormatName, overrides: Partial<SubscriptionRecord> = {}): SubscriptionRecord {
  return {
    id: 'sub_1',
    url: URLS[format],
    description: '',
    events: ['*'],
    farms: [],
    fields: [],
    enabled: true,
    disabledReason: null,
    disabledAt: null,
    rateLimitPerSecond: null,
    format,
    locale: 'en',
    timeZone: 'Asia/Jerusalem',
    settings: format === 'telegram' ? { chat_id: -1001234567890 } : {},
    failingSince: null,
    createdAt: 0,
    updatedAt: 0,
    ...overrides,
  };
}
