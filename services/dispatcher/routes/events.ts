import type { FastifyInstance } from 'fastify';
import type { DispatchService } from '../dispatch-service.js';
import type { PublishInput } from '../events.js';
import { security } from './schemas.js';

const resultSchema = {
  type: 'object',
  properties: { id: { type: 'string' }, deliveries: { type: 'integer' }, duplicate: { type: 'boolean' } },
} as const;

/**
 * `POST /v1/events`: the HTTP way in, for publishers outside the process (the in-process API
 * and the bus topic are the usual ones). 202 means the event is committed to the outbox.
 */
export async function eventRoutes(app: FastifyInstance, opts: { service: DispatchService }): Promise<void> {
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
    },
    async (request, reply) => {
      const body = request.body;
      const result = Array.isArray(body) ? await opts.service.publishMany(body) : await opts.service.publish(body);
      return reply.code(202).send(result);
    },
  );
}
