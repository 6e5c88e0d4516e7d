import type { FastifyPluginAsync } from 'fastify';
import type { Registry } from 'prom-client';
import type { ReadinessCheck } from '../shared/component.js';
import type { RouteDocumentation } from '../shared/openapi.js';

/**
 * `/healthz` (the process is up), `/readyz` (every component's checks; 503 when one fails or
 * throws) and `/metrics` (every component's metrics and the process's).
 */
export const healthRoutes: FastifyPluginAsync<{ checks: readonly ReadinessCheck[]; metrics: Registry }> = async (host, { checks, metrics }) => {
  host.get('/healthz', { schema: { tags: ['host'], summary: 'The process is up.' }, config: { openapi: HEALTHZ_DOCS } }, async () => ({ status: 'ok' }));
  host.get('/readyz', { schema: { tags: ['host'], summary: "Every component's readiness checks." }, config: { openapi: READYZ_DOCS } }, async (_request, reply) => {
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
  host.get('/metrics', { schema: { tags: ['host'], summary: 'Prometheus metrics of every component and the process.' }, config: { openapi: METRICS_DOCS } }, async (_request, reply) =>
    reply.type(metrics.contentType).send(await metrics.metrics()),
  );
};

const TEXT = { type: 'string' } as const;

const HEALTHZ_DOCS: RouteDocumentation = {
  responses: {
    200: { description: 'Up.', content: { 'application/json': { schema: { type: 'object', required: ['status'], properties: { status: { const: 'ok' } } } } } },
  },
};

const READINESS = {
  type: 'object',
  required: ['status', 'checks'],
  properties: {
    status: { type: 'string', enum: ['ready', 'not_ready'] },
    checks: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'ok'],
        properties: { name: { type: 'string' }, ok: { type: 'boolean' }, detail: { type: 'object', additionalProperties: true } },
      },
    },
  },
} as const;

const READYZ_DOCS: RouteDocumentation = {
  responses: {
    200: { description: 'Every check passes.', content: { 'application/json': { schema: READINESS } } },
    503: { description: 'A check fails or throws (named in `checks`).', content: { 'application/json': { schema: READINESS } } },
  },
};

const METRICS_DOCS: RouteDocumentation = {
  responses: { 200: { description: 'Prometheus text exposition format.', content: { 'text/plain': { schema: TEXT } } } },
};
