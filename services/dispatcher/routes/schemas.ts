// Brings the `tags`/`summary`/`security` additions to FastifySchema into scope.
import type {} from '@fastify/swagger';

/** JSON schemas of the dispatcher API; they drive validation and the OpenAPI document. */

const stringList = { type: 'array', items: { type: 'string', minLength: 1, maxLength: 256 }, maxItems: 256 } as const;
const epochOrNull = { type: ['string', 'null'], format: 'date-time' } as const;

export const subscriptionSchema = {
  $id: 'Subscription',
  type: 'object',
  properties: {
    id: { type: 'string' },
    url: { type: 'string' },
    description: { type: 'string' },
    events: stringList,
    farms: stringList,
    fields: stringList,
    enabled: { type: 'boolean' },
    disabled_reason: { type: ['string', 'null'], description: '`gone` (410), `failing` (continuous failures) or `manual`.' },
    disabled_at: epochOrNull,
    rate_limit_per_second: { type: ['number', 'null'] },
    failing_since: epochOrNull,
    created_at: { type: 'string', format: 'date-time' },
    updated_at: { type: 'string', format: 'date-time' },
    secret: { type: 'string', description: 'Only in the response that created it.' },
  },
} as const;

export const subscriptionInputProps = {
  url: { type: 'string', minLength: 1, maxLength: 2048 },
  description: { type: 'string', maxLength: 1024 },
  events: { ...stringList, minItems: 1, description: 'Event types; `*` = all pipeline events; `irrigation.*` = a family.' },
  farms: { ...stringList, description: 'Only events of these farms; empty = all farms.' },
  fields: { ...stringList, description: 'Only events of these fields; empty = all fields.' },
  enabled: { type: 'boolean' },
  rate_limit_per_second: { type: ['number', 'null'], exclusiveMinimum: 0, maximum: 10000 },
} as const;

export const deliverySchema = {
  $id: 'Delivery',
  type: 'object',
  properties: {
    id: { type: 'string' },
    event_id: { type: 'string' },
    event_type: { type: 'string' },
    subscription_id: { type: 'string' },
    status: { type: 'string', enum: ['pending', 'succeeded', 'failed', 'aborted', 'expired', 'superseded'] },
    attempts: { type: 'integer' },
    next_attempt_at: epochOrNull,
    first_attempt_at: epochOrNull,
    last_attempt_at: epochOrNull,
    last_status_code: { type: ['integer', 'null'] },
    last_error: { type: ['string', 'null'] },
    collapse_key: { type: ['string', 'null'] },
    valid_until: epochOrNull,
    created_at: { type: 'string', format: 'date-time' },
    finished_at: epochOrNull,
    attempt_log: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          attempt: { type: 'integer' },
          started_at: { type: 'string', format: 'date-time' },
          status_code: { type: ['integer', 'null'] },
          latency_ms: { type: 'number' },
          response_snippet: { type: ['string', 'null'] },
          error: { type: ['string', 'null'] },
          outcome: { type: 'string' },
        },
      },
    },
  },
} as const;

export const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } } as const;

export const security = [{ bearerAuth: [] }];
