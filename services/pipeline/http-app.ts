import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Fastify, { type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import { installErrorHandler } from '../shared/http-errors.js';
import type { Logger } from '../shared/logger.js';

export interface HttpAppOptions {
  logger: Logger;
  /** Runs on the root instance before the plugins (e.g. the OpenAPI generator, which must see every route). */
  setup?: (app: FastifyInstance) => void;
  plugins: FastifyPluginAsync[];
  tls?: { certFile: string; keyFile: string };
}

const CORRELATION_HEADER = 'x-correlation-id';
const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The one Fastify instance of a process. Each request gets a correlation id (the client's own
 * `x-correlation-id` when it sends one) that follows its readings to InfluxDB and beyond.
 */
export function buildHttpApp(options: HttpAppOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: options.logger,
    requestIdHeader: false,
    // A client's own correlation id is kept when it looks like one; anything else gets a fresh id.
    genReqId: (req) => {
      const given = req.headers[CORRELATION_HEADER];
      return typeof given === 'string' && CORRELATION_ID.test(given) ? given : randomUUID();
    },
    trustProxy: false,
    ...(options.tls
      ? { https: { cert: readFileSync(options.tls.certFile), key: readFileSync(options.tls.keyFile) } }
      : {}),
  }) as unknown as FastifyInstance;
  installErrorHandler(app);
  app.addHook('onSend', async (request, reply) => {
    void reply.header(CORRELATION_HEADER, request.id);
  });
  options.setup?.(app);
  for (const plugin of options.plugins) void app.register(plugin);
  return app;
}
