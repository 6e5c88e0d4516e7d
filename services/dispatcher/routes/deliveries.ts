import type { FastifyInstance } from 'fastify';
import { Errors } from '../../shared/error-catalog.js';
import { code } from '../../shared/openapi.js';
import type { DispatchService } from '../dispatch-service.js';
import type { DeliveryStatus } from '../store/types.js';
import { presentDelivery } from './present.js';
import { adminDocs, DELIVERY_NOT_FOUND, idParams, security } from './schemas.js';

const ref = { $ref: 'Delivery#' };
const tags = ['deliveries'];

interface ListQuery {
  subscription_id?: string;
  event_id?: string;
  status?: DeliveryStatus;
  since?: string;
  until?: string;
  after?: string;
  limit?: number;
}

/** `/v1/deliveries`: the delivery log and manual retry. */
export async function deliveryRoutes(app: FastifyInstance, opts: { service: DispatchService }): Promise<void> {
  const { service } = opts;

  app.get<{ Querystring: ListQuery }>(
    '/v1/deliveries',
    {
      schema: {
        tags,
        security,
        summary: 'List deliveries, oldest first; page with `after` = the last id of the previous page.',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            subscription_id: { type: 'string' },
            event_id: { type: 'string' },
            status: { type: 'string', enum: ['pending', 'succeeded', 'failed', 'aborted', 'expired', 'superseded'] },
            since: { type: 'string', format: 'date-time' },
            until: { type: 'string', format: 'date-time' },
            after: { type: 'string' },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
          },
        },
        response: {
          200: { type: 'object', properties: { data: { type: 'array', items: ref }, next_after: { type: ['string', 'null'] } } },
        },
      },
      config: adminDocs(),
    },
    async (request) => {
      const q = request.query;
      const limit = q.limit ?? 100;
      const rows = await service.listDeliveries({
        limit,
        ...(q.subscription_id ? { subscriptionId: q.subscription_id } : {}),
        ...(q.event_id ? { eventId: q.event_id } : {}),
        ...(q.status ? { status: q.status } : {}),
        ...(q.since ? { since: Date.parse(q.since) } : {}),
        ...(q.until ? { until: Date.parse(q.until) } : {}),
        ...(q.after ? { after: q.after } : {}),
      });
      return { data: rows.map((d) => presentDelivery(d)), next_after: rows.length === limit ? rows.at(-1)!.id : null };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/deliveries/:id',
    { schema: { tags, security, summary: 'One delivery with every attempt.', params: idParams, response: { 200: ref } }, config: adminDocs(DELIVERY_NOT_FOUND) },
    async (request) => {
      const { delivery, attempts } = await service.getDelivery(request.params.id);
      return presentDelivery(delivery, attempts);
    },
  );

  app.post<{ Params: { id: string } }>(
    '/v1/deliveries/:id/retry',
    {
      schema: {
        tags,
        security,
        summary: 'Send this delivery again now, with a fresh retry schedule (refused once it is past valid_until).',
        params: idParams,
        response: { 202: ref },
      },
      config: adminDocs({ ...DELIVERY_NOT_FOUND, 409: `${code(Errors.webhookExpired)}: the event is past its \`valid_until\`.` }),
    },
    async (request, reply) => reply.code(202).send(presentDelivery(await service.retryDelivery(request.params.id))),
  );
}
