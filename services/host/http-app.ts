import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { AjvCompiler } from '@fastify/ajv-compiler';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import type { Clock } from '../shared/clock.js';
import type { Component, ReadinessCheck } from '../shared/component.js';
import { Errors } from '../shared/error-catalog.js';
import { clientErrorHandler, frameworkErrorHandler, installErrorHandler } from '../shared/http-errors.js';
import type { Logger } from '../shared/logger.js';
import { limitConnections } from './connection-limits.js';
import { healthRoutes } from './health-routes.js';
import { DEFAULT_HTTP_SERVER_OPTIONS, type HttpServerOptions } from './http-config.js';
import { answerMethodNotAllowed } from './method-not-allowed.js';
import { registerOpenApi } from './openapi-document.js';
import { installRequestLog, type RequestLogOptions } from './request-log.js';
import { CORRELATION_HEADER, CORRELATION_ID } from '../shared/correlation.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Content codings the route inflates itself (`gzip`); any other compressed body is refused with 415. */
    contentEncodings?: readonly string[];
  }
}

export { OPENAPI_VERSION } from './openapi-document.js';

export interface HostAppOptions {
  logger: Logger;
  /** Process-wide metrics (e.g. prom-client's default ones), served next to the components'. */
  registry?: Registry;
  tls?: { certFile: string; keyFile: string };
  /** Limits of the HTTP server (timeouts, sizes, connection caps); unset ones take the defaults. */
  server?: Partial<HttpServerOptions>;
  /** Request lines at debug, a throughput summary at info (request-log.ts); the clock drives its interval. */
  requestLog?: Partial<RequestLogOptions> & { clock?: Clock };
}


/**
 * The one Fastify app of a process: the components' routes, one error handler, the OpenAPI
 * document, `/healthz`, `/readyz` (every component's checks) and `/metrics` (every component's
 * registry). Not listening: tests call `app.inject()`, `runHost` listens.
 *
 * Each request gets a correlation id (the client's own `x-correlation-id` when it looks like one)
 * that follows its readings to InfluxDB and beyond.
 */
export function buildHostApp(components: readonly Component[], options: HostAppOptions): FastifyInstance {
  const limits: HttpServerOptions = { ...DEFAULT_HTTP_SERVER_OPTIONS, ...options.server };
  // Node's own limits: the request line and headers (431 above), and how soon it notices a request
  // or its headers overdue (it checks every `connectionsCheckingInterval`; 30 s by default).
  const nodeHttp = {
    maxHeaderSize: limits.maxHeaderSizeBytes,
    headersTimeout: Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs),
    connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(limits.headersTimeoutMs / 4))),
  };
  const app = Fastify({
    loggerInstance: options.logger,
    // One line per request only at debug; info gets a summary per minute (installRequestLog).
    logController: new LogController({ disableRequestLogging: true }),
    requestTimeout: limits.requestTimeoutMs,
    connectionTimeout: limits.connectionTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    maxRequestsPerSocket: limits.maxRequestsPerSocket,
    http: nodeHttp,
    clientErrorHandler,
    frameworkErrors: frameworkErrorHandler,
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
    // Query strings, path parameters and headers are text, coerced to their schema's types; a JSON
    // body is taken as sent: `"enabled": null` is refused, not read as false.
    schemaController: { compilersFactory: { buildValidator: bodiesUncoerced() } },
    ...(options.tls
      ? { https: { ...nodeHttp, cert: readFileSync(options.tls.certFile), key: readFileSync(options.tls.keyFile) } }
      : {}),
  }) as unknown as FastifyInstance;
  installErrorHandler(app);
  // JSON routes take JSON: Fastify's own text/plain parser would hand their schema a string, and
  // `{"farm":…}` sent as text/plain would be told it is "not an object" instead of 415. The line
  // protocol routes, which do take text, add their own parser.
  app.removeContentTypeParser('text/plain');
  installRequestLog(app, options.logger, options.requestLog);
  limitConnections(app.server, limits, options.tls !== undefined);
  // Before any route's own hooks, and for unknown routes too: a request target is bounded.
  app.addHook('onRequest', async (request) => {
    if (request.raw.url !== undefined && request.raw.url.length > limits.maxUrlLengthBytes) {
      throw Errors.httpUriTooLong(`The request target is longer than ${limits.maxUrlLengthBytes} bytes`);
    }
  });
  // A compressed body a route would read as plain text answers with what is wrong, before it is read
  // (else a gzipped JSON body is "not valid JSON"). A route that inflates names its codings in its
  // config (`contentEncodings`).
  app.addHook('onRequest', async (request) => {
    const raw = request.headers['content-encoding'];
    if (raw === undefined) return;
    const coding = String(raw).trim().toLowerCase();
    if (coding === '' || coding === 'identity') return;
    const taken = request.routeOptions.config?.contentEncodings ?? [];
    if (!taken.includes(coding)) {
      throw Errors.httpUnsupportedEncoding(taken.length > 0 ? `Content-Encoding ${coding.slice(0, 32)} is not taken here (${taken.join(', ')} is)` : 'Send the body uncompressed', { accepted: ['identity', ...taken] });
    }
  });
  app.addHook('onSend', async (request, reply) => {
    void reply.header(CORRELATION_HEADER, request.id);
    // Refused before its body arrived (a credential refused first): the connection cannot carry a
    // next request while the rest of this body may still come, and a client sending it slowly
    // would get a second answer (the timeout's 408) to one request. Closed after the answer.
    if (!request.raw.complete) void reply.header('connection', 'close');
  });
  answerMethodNotAllowed(app);
  // Registered before the components so that the document lists every route of the app.
  registerOpenApi(app);

  const checks: ReadinessCheck[] = components.flatMap((c) => [...(c.readiness ?? [])]);
  // Merging throws on a metric name registered twice: two parts may not claim one series.
  const registries = [options.registry ?? new Registry(), ...components.flatMap((c) => (c.metrics ? [c.metrics] : []))];
  const metrics = Registry.merge(registries);
  // In a plugin of their own, registered after the OpenAPI generator, so that the document lists them.
  void app.register(healthRoutes, { checks, metrics });

  for (const component of components) if (component.routes) void app.register(component.routes);
  return app;
}

/**
 * Fastify's validator compilers, one coercing (its default, for query strings, parameters and
 * headers) and one that does not coerce, for bodies.
 */
function bodiesUncoerced(): ValidatorFactory {
  const coercing = AjvCompiler();
  const exact = AjvCompiler();
  return (externalSchemas, options) => {
    const forText = coercing(externalSchemas, options);
    const ajvOptions = options as { customOptions?: Record<string, unknown> } | undefined;
    const forBodies = exact(externalSchemas, { ...ajvOptions, customOptions: { ...ajvOptions?.customOptions, coerceTypes: false } } as Parameters<ValidatorFactory>[1]);
    return (route) => (route.httpPart === 'body' ? forBodies(route) : forText(route));
  };
}

type ValidatorFactory = ReturnType<typeof AjvCompiler>;
