import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import type { Component, ReadinessCheck } from '../shared/component.js';
import { installErrorHandler } from '../shared/http-errors.js';
import type { Logger } from '../shared/logger.js';

export interface HostAppOptions {
  logger: Logger;
  /** Process-wide metrics (e.g. prom-client's default ones), served next to the components'. */
  registry?: Registry;
  tls?: { certFile: string; keyFile: string };
}

const CORRELATION_HEADER = 'x-correlation-id';
const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The one Fastify app of a process: the components' routes, one error handler, the OpenAPI
 * document, `/healthz`, `/readyz` (every component's checks) and `/metrics` (every component's
 * registry). Not listening: tests call `app.inject()`, `runHost` listens.
 *
 * Each request gets a correlation id (the client's own `x-correlation-id` when it looks like one)
 * that follows its readings to InfluxDB and beyond.
 */
export function buildHostApp(components: readonly Component[], options: HostAppOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: options.logger,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers[CORRELATION_HEADER];
      return typeof given === 'string' && CORRELATION_ID.test(given) ? given : randomUUID();
    },
    trustProxy: false,
    // Nullable fields are written as type unions (`["string", "null"]`), as OpenAPI 3.1 does; an
    // unknown property is refused rather than silently dropped, so a typo (`event` for `events`)
    // does not create a subscription to everything.
    ajv: { customOptions: { allowUnionTypes: true, removeAdditional: false } },
    ...(options.tls
      ? { https: { cert: readFileSync(options.tls.certFile), key: readFileSync(options.tls.keyFile) } }
      : {}),
  }) as unknown as FastifyInstance;
  installErrorHandler(app);
  app.addHook('onSend', async (request, reply) => {
    void reply.header(CORRELATION_HEADER, request.id);
  });
  // Registered before the components so that the document lists every route of the app.
  void app.register(swagger, {
    openapi: {
      info: { title: 'fieldhook', version: '1.0.0', description: 'Sensor readings in, irrigation advice out: ingest, subscriptions, delivery log and replay.' },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
    },
  });
  app.get('/documentation/json', { schema: { hide: true } }, async () => app.swagger());

  const checks: ReadinessCheck[] = components.flatMap((c) => [...(c.readiness ?? [])]);
  // Merging throws on a metric name registered twice: two parts may not claim one series.
  const registries = [options.registry ?? new Registry(), ...components.flatMap((c) => (c.metrics ? [c.metrics] : []))];
  const metrics = Registry.merge(registries);
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const results = await Promise.all(
      checks.map(async (c) => {
        try {
          return { name: c.name, ...(await c.check()) };
        } catch (err) {
          return { name: c.name, ok: false, detail: { error: (err as Error).message } };
        }
      }),
    );
    const ready = results.every((r) => r.ok);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks: results });
  });
  app.get('/metrics', async (_request, reply) => reply.type(metrics.contentType).send(await metrics.metrics()));

  for (const component of components) if (component.routes) void app.register(component.routes);
  return app;
}
