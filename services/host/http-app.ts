import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { AjvCompiler } from '@fastify/ajv-compiler';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type RouteOptions } from 'fastify';
import { Registry } from 'prom-client';
import type { Component, ReadinessCheck } from '../shared/component.js';
import { Errors } from '../shared/error-catalog.js';
import { clientErrorHandler, frameworkErrorHandler, installErrorHandler, rawProblemResponse } from '../shared/http-errors.js';
import type { FieldhookError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { code, PROBLEM_MEDIA_TYPE, PROBLEM_SCHEMA, RETRY_AFTER_HEADER, type RouteDocumentation } from '../shared/openapi.js';
import { DEFAULT_HTTP_SERVER_OPTIONS, type HttpServerOptions } from './http-config.js';

export interface HostAppOptions {
  logger: Logger;
  /** Process-wide metrics (e.g. prom-client's default ones), served next to the components'. */
  registry?: Registry;
  tls?: { certFile: string; keyFile: string };
  /** Limits of the HTTP server (timeouts, sizes, connection caps); unset ones take the defaults. */
  server?: Partial<HttpServerOptions>;
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
  limitConnections(app.server, limits, options.tls !== undefined);
  // Before any route's own hooks, and for unknown routes too: a request target is bounded.
  app.addHook('onRequest', async (request) => {
    if (request.raw.url !== undefined && request.raw.url.length > limits.maxUrlLengthBytes) {
      throw Errors.httpUriTooLong(`The request target is longer than ${limits.maxUrlLengthBytes} bytes`);
    }
  });
  app.addHook('onSend', async (request, reply) => {
    void reply.header(CORRELATION_HEADER, request.id);
  });
  // A known path asked with a method it does not take is a 405 naming the ones it does, not a 404.
  const paths = knownPaths(app);
  app.addHook('onRequest', async (request, reply) => {
    if (!request.is404) return;
    const allowed = paths.allowed(request.url);
    if (allowed.length === 0) return;
    void reply.header('allow', allowed.join(', '));
    throw Errors.httpMethodNotAllowed(`This path takes ${allowed.join(', ')}`, { allowed });
  });
  // Registered before the components so that the document lists every route of the app.
  app.addSchema(PROBLEM_SCHEMA);
  void app.register(swagger, {
    openapi: {
      openapi: OPENAPI_VERSION,
      info: { title: 'fieldhook', version: '1.0.0', description: 'Sensor readings in, irrigation advice out: ingest, subscriptions, delivery log and replay.' },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'The admin token (`ADMIN_TOKEN`) of the dispatcher API.' },
          deviceSecret: { type: 'http', scheme: 'bearer', description: "A device's or gateway's secret; or sign the request (`webhook-*` headers, see docs/ingest.md)." },
        },
      },
    },
    // Shared schemas keep their `$id` as their name under components.schemas.
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    transform: ({ schema, url, route }) => ({ url, schema: documentedSchema(schema as DocumentedSchema | undefined, route) }),
    transformObject: (documentObject) => finishDocument('openapiObject' in documentObject ? documentObject.openapiObject : documentObject.swaggerObject),
  });
  app.get('/documentation/json', { schema: { hide: true } }, async () => app.swagger());

  const checks: ReadinessCheck[] = components.flatMap((c) => [...(c.readiness ?? [])]);
  // Merging throws on a metric name registered twice: two parts may not claim one series.
  const registries = [options.registry ?? new Registry(), ...components.flatMap((c) => (c.metrics ? [c.metrics] : []))];
  const metrics = Registry.merge(registries);
  // In a plugin of their own, registered after @fastify/swagger, so that the document lists them.
  void app.register(async (host) => {
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
  });

  for (const component of components) if (component.routes) void app.register(component.routes);
  return app;
}

/**
 * Cap the connections the server holds, in all and per source address. A connection over a cap
 * is answered at once with a 503 problem+json (`Retry-After`) and closed: it is kept from Node's
 * HTTP layer altogether (the `connection` event is where Node attaches its parser), so whatever
 * request it carries is read only to be discarded, never parsed nor handled. With TLS a connection
 * is counted once its handshake completes (`secureConnection`; Node bounds the handshake itself).
 */
function limitConnections(server: Server, limits: HttpServerOptions, secure: boolean): void {
  const event = secure ? 'secureConnection' : 'connection';
  let open = 0;
  const perAddress = new Map<string, number>();

  const admit = (socket: Socket): boolean => {
    const address = socket.remoteAddress ?? 'unknown';
    const fromAddress = perAddress.get(address) ?? 0;
    if (open >= limits.maxConnections || fromAddress >= limits.maxConnectionsPerAddress) {
      const which = open >= limits.maxConnections ? 'the server' : 'this address';
      refuse(socket, Errors.httpTooManyConnections(`Too many open connections to ${which}: retry later`, { retryAfterS: limits.connectionRetryAfterS }));
      return false;
    }
    open++;
    perAddress.set(address, fromAddress + 1);
    socket.once('close', () => {
      open--;
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left > 0) perAddress.set(address, left);
      else perAddress.delete(address);
    });
    return true;
  };

  // Node's HTTP server listens to this event to take the socket over; a refused socket must not
  // reach it. Injecting connections through this event is what Node documents for it.
  const emit = server.emit;
  server.emit = function (this: Server, name: string | symbol, ...args: unknown[]): boolean {
    if (name === event && !admit(args[0] as Socket)) return true;
    return Reflect.apply(emit, this, [name, ...args]) as boolean;
  } as Server['emit'];
}

/** Answer `error` on a socket no HTTP parser reads, discard what the client sends, and close. */
function refuse(socket: Socket, error: FieldhookError): void {
  socket.on('error', () => {});
  socket.on('data', () => {});
  socket.on('end', () => socket.destroy());
  const retryAfterS = error.details?.retryAfterS;
  socket.end(rawProblemResponse(error, typeof retryAfterS === 'number' ? { 'Retry-After': String(retryAfterS) } : {}));
  // A client that keeps its side open does not keep the socket.
  setTimeout(() => socket.destroy(), 1_000).unref();
}

/** The OpenAPI version of `/documentation/json`: 3.1, whose schemas are JSON Schema (type unions, numeric exclusive bounds). */
export const OPENAPI_VERSION = '3.1.0';

/** Problems any route can answer, whatever it does: the host's and the HTTP layer's. */
const HOST_PROBLEMS: Readonly<Record<number, string>> = {
  400: `${code(Errors.httpBadRequest)}: a malformed request (URL, headers).`,
  404: `${code(Errors.httpNotFound)}: no route for this method and path.`,
  414: `${code(Errors.httpUriTooLong)}: the request target or a path parameter is too long.`,
  431: `${code(Errors.httpHeadersTooLarge)}: the request line and headers are too large.`,
  500: `${code(Errors.internal)}: an unexpected failure (details in the server log).`,
  503: `${code(Errors.httpTooManyConnections)}: too many open connections; retry after \`Retry-After\`.`,
};

/** Problems of any route that reads a body. */
const BODY_PROBLEMS: Readonly<Record<number, string>> = {
  400: `${code(Errors.httpMalformedJson)}, ${code(Errors.httpBadContentLength)}: the body is not valid JSON or not of its \`Content-Length\`.`,
  413: `${code(Errors.httpBodyTooLarge)}: the body is larger than the limit.`,
  415: `${code(Errors.httpUnsupportedMediaType)}: the body is not of a media type the route takes.`,
};

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

type DocumentedSchema = Record<string, unknown> & { response?: Record<string, unknown> };

/**
 * The schema @fastify/swagger documents for a route: its Fastify schema, plus its `config.openapi`
 * (request parts checked in code, other responses) and every problem response it can send, the
 * host's included. Only the document sees this; validation and serialization keep the route's own.
 */
function documentedSchema(schema: DocumentedSchema | undefined, route: RouteOptions): DocumentedSchema {
  const docs: RouteDocumentation = route.config?.openapi ?? {};
  const out: DocumentedSchema = { ...schema };
  if (docs.body) out.body = { content: docs.body };
  if (docs.querystring) out.querystring = docs.querystring;
  if (docs.headers) out.headers = docs.headers;
  if (docs.bodyOptional) out[BODY_OPTIONAL] = true;
  const response: Record<string, unknown> = { ...schema?.response };
  // A response without a body is `type: 'null'` to @fastify/swagger (no content).
  for (const [status, doc] of Object.entries(docs.responses ?? {})) response[status] = doc.content ? doc : { ...doc, type: 'null' };

  const methods = Array.isArray(route.method) ? route.method : [route.method];
  const problems = new Map<string, string[]>();
  const add = (table: Readonly<Record<number, string>>) => {
    for (const [status, line] of Object.entries(table)) problems.set(status, [...(problems.get(status) ?? []), line]);
  };
  add(docs.problems ?? {});
  if (methods.some((m) => BODY_METHODS.has(m))) add(BODY_PROBLEMS);
  if (schema?.body || schema?.querystring || schema?.params) add({ 400: `${code(Errors.httpInvalidRequest)}: parameters, query or body fail the schema (each problem in \`errors\`).` });
  add(HOST_PROBLEMS);
  for (const [status, lines] of problems) {
    const problem = { schema: { $ref: 'Problem#' } };
    const existing = response[status] as (DocumentedResponse & { content?: Record<string, unknown> }) | undefined;
    const headers = status === '429' || status === '503' ? { headers: RETRY_AFTER_HEADER } : {};
    response[status] = existing?.content
      ? { ...existing, description: `${existing.description} Or a problem: ${lines.join(' ')}`, content: { ...existing.content, [PROBLEM_MEDIA_TYPE]: problem }, ...headers }
      : { description: lines.join(' '), content: { [PROBLEM_MEDIA_TYPE]: problem }, ...headers };
  }
  out.response = response;
  return out;
}

type DocumentedResponse = NonNullable<RouteDocumentation['responses']>[number];

/** Marks an operation whose body may be left out (@fastify/swagger always marks a body required). */
const BODY_OPTIONAL = 'x-fieldhook-body-optional';

/** The finished document: request bodies a route does not require. */
function finishDocument(document: Record<string, unknown>): Record<string, unknown> {
  const paths = (document.paths ?? {}) as Record<string, Record<string, Record<string, unknown>>>;
  for (const operation of Object.values(paths).flatMap((item) => Object.values(item))) {
    if (operation[BODY_OPTIONAL] === undefined) continue;
    delete operation[BODY_OPTIONAL];
    if (operation.requestBody) (operation.requestBody as { required: boolean }).required = false;
  }
  return document;
}

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

/**
 * The paths of the app's routes and their methods, collected as they are added, for 405 answers.
 * A path parameter matches one non-empty segment.
 */
function knownPaths(app: FastifyInstance): { allowed(url: string): string[] } {
  const routes: { pattern: RegExp; methods: string[] }[] = [];
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const source = route.url
      .split('/')
      .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('/');
    const pattern = new RegExp(`^${source}$`);
    const same = routes.find((r) => r.pattern.source === pattern.source);
    if (same) same.methods.push(...methods);
    else routes.push({ pattern, methods: [...methods] });
  });
  return {
    allowed(url) {
      const path = url.split('?')[0]!;
      const methods = new Set(routes.filter((r) => r.pattern.test(path)).flatMap((r) => r.methods));
      return [...methods].sort();
    },
  };
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
