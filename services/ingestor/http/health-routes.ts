import type { FastifyPluginAsync } from 'fastify';
import type { Registry } from 'prom-client';

/** One readiness check: name, ok, and whatever detail helps an operator. */
export interface ReadinessCheck {
  name: string;
  check: () => Promise<{ ok: boolean; detail?: Record<string, unknown> }>;
}

export interface HealthRoutesOptions {
  registry: Registry;
  checks: ReadinessCheck[];
}

/**
 * `/healthz` says the process is alive; `/readyz` says whether it can do its job now (each check
 * listed, 503 if any fails); `/metrics` is Prometheus text.
 */
export const healthRoutes: FastifyPluginAsync<HealthRoutesOptions> = async (app, opts) => {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const results = await Promise.all(
      opts.checks.map(async (c) => {
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

  app.get('/metrics', async (_request, reply) => {
    return reply.type(opts.registry.contentType).send(await opts.registry.metrics());
  });
};
