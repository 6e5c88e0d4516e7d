import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';

/**
 * Register @fastify/swagger and serve the OpenAPI document at `/documentation/json`. Call it once
 * on the root instance, before the API plugins, so the document lists every route of the app
 * (a process composing several services calls it once for all of them).
 */
export function registerOpenApi(app: FastifyInstance): void {
  void app.register(swagger, {
    openapi: {
      info: { title: 'fieldhook', version: '1.0.0', description: 'Webhook subscriptions, delivery log and replay.' },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
    },
  });
  app.get('/documentation/json', { schema: { hide: true } }, async () => app.swagger());
}
