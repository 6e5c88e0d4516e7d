import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import type { Component, ReadinessCheck } from '../shared/component.js';
import { Errors } from '../shared/error-catalog.js';
import { clientErrorHandler, frameworkErrorHandler, installErrorHandler, rawProblemResponse } from '../shared/http-errors.js';
import type { FieldhookError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
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
