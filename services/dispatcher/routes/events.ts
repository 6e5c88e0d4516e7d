import type { FastifyInstance } from 'fastify';
import { Errors } from '../../shared/error-catalog.js';
import { code } from '../../shared/openapi.js';
import type { DispatchService } from '../dispatch-service.js';
import { EVENT_TYPE_PATTERN, foreignTypeRefusal, type PublishInput } from '../events.js';
import { adminDocs, security } from './schemas.js';

const resultSchema = {
  type: 'object',
  properties: { id: { type: 'string' }, deliveries: { type: 'integer' }, duplicate: { type: 'boolean' } },
} as const;

/**
 * An event as the service accepts it (`PublishInputSchema` in services/shared/bus/payloads.ts):
 * documented here, checked by the service, which answers `FH_ERR_WEBHOOK_INVALID_EVENT`.
 */
const POISON_KEYS = `An object may not have a \`__proto__\` key, nor a \`constructor\` holding a \`prototype\` (${code(Errors.httpMalformedJson)}).`;

const NOT_A_PROTOTYPE = { allOf: [{ $ref: 'JsonValue#' }, { not: { type: 'object', required: ['prototype'] } }] } as const;

/** Any JSON value the JSON parser takes: it refuses keys that could reach an object's prototype. */
const jsonValueSchema = {
  $id: 'JsonValue',
  description: POISON_KEYS,
  anyOf: [{ type: ['string', 'number', 'boolean', 'null'] }, { type: 'array', items: { $ref: 'JsonValue#' } }, { $ref: 'JsonObject#' }],
} as const;

const jsonObjectSchema = {
  $id: 'JsonObject',
  type: 'object',
  description: POISON_KEYS,
  propertyNames: { not: { const: '__proto__' } },
  properties: { constructor: NOT_A_PROTOTYPE },
  additionalProperties: { $ref: 'JsonValue#' },
} as const;

const eventInput = {
  type: 'object',
  required: ['type', 'data'],
  description: POISON_KEYS,
  propertyNames: { not: { const: '__proto__' } },
  additionalProperties: { $ref: 'JsonValue#' },
  properties: {
    constructor: NOT_A_PROTOTYPE,
    type: { type: 'string', pattern: EVENT_TYPE_PATTERN.source, description: 'e.g. `irrigation.recommended`' },
    data: { allOf: [{ $ref: 'JsonObject#' }], description: 'The payload receivers get; `farm` and `field` in it route the event when not given below.' },
    id: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,128}$', description: 'Publishing one id twice is accepted once.' },
    timestamp: { type: 'string', format: 'date-time' },
    farm: { type: 'string', minLength: 1, maxLength: 128 },
    field: { type: 'string', minLength: 1, maxLength: 128 },
    collapse_key: { type: 'string', minLength: 1, maxLength: 256 },
    valid_until: { type: 'string', format: 'date-time' },
    correlation_id: { type: 'string', maxLength: 128 },
  },
} as const;

/**
 * `POST /v1/events`: the HTTP way in, for publishers outside the process (the in-process API
 * and the bus topic are the usual ones). 202 means the event is committed to the outbox.
 */
export async function eventRoutes(app: FastifyInstance, opts: { service: DispatchService }): Promise<void> {
  // Shared schemas of the document; no route validates with them.
  app.addSchema(jsonValueSchema);
  app.addSchema(jsonObjectSchema);
  app.post<{ Body: PublishInput | PublishInput[] }>(
    '/v1/events',
    {
      schema: {
        tags: ['events'],
        security,
        summary: 'Publish one event (or an array, committed together) to every matching subscription.',
        body: { type: ['object', 'array'] },
        response: { 202: { oneOf: [resultSchema, { type: 'array', items: resultSchema }] } },
      },
      config: adminDocs(
        { 400: `${code(Errors.webhookInvalidEvent)}: an event is not of the envelope shape, or its type is in one of fieldhook's own families (\`irrigation\`, \`sensor\`, \`endpoint\`, \`delivery\`, \`webhook\`) without being one the predictor sends (each problem in \`errors\`).` },
        { body: { 'application/json': { schema: { oneOf: [eventInput, { type: 'array', items: eventInput }] } } } },
      ),
    },
    async (request, reply) => {
      const body = request.body;
      // The typo a subscription filter is refused for is refused here too, before anything is committed.
      const errors = (Array.isArray(body) ? body : [body]).flatMap((e, i) => {
        const why = typeof e?.type === 'string' ? foreignTypeRefusal(e.type) : undefined;
        return why ? [{ path: Array.isArray(body) ? `${i}.type` : 'type', message: why }] : [];
      });
      if (errors.length > 0) throw Errors.webhookInvalidEvent('Invalid event', { errors });
      const result = Array.isArray(body) ? await opts.service.publishMany(body) : await opts.service.publish(body);
      return reply.code(202).send(result);
    },
  );
}
