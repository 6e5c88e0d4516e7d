import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Errors } from './error-catalog.js';
import { FieldhookError, isFieldhookError, toProblem, type ErrorFactory } from './errors.js';

/**
 * Map Fastify's own errors (body parsing, schema validation, size limits) onto stable codes, so
 * that a client sees the same shape whatever layer refused its request.
 */
const FASTIFY_CODE_MAP: Readonly<Record<string, ErrorFactory>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: Errors.httpBodyTooLarge,
  FST_ERR_CTP_INVALID_MEDIA_TYPE: Errors.httpUnsupportedMediaType,
  FST_ERR_CTP_EMPTY_JSON_BODY: Errors.httpMalformedJson,
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: Errors.httpBadContentLength,
  FST_ERR_VALIDATION: Errors.httpInvalidRequest,
};

function fromFastifyError(err: FastifyError): FieldhookError {
  const status = err.statusCode ?? 500;
  if (err.validation) {
    return Errors.httpInvalidRequest(err.message, {
      errors: err.validation.map((v) => ({ path: v.instancePath, message: v.message })),
    });
  }
  if (err instanceof SyntaxError || (status === 400 && /JSON/i.test(err.message))) {
    return Errors.httpMalformedJson();
  }
  const code = FASTIFY_CODE_MAP[err.code]?.code ?? (status < 500 ? Errors.httpBadRequest.code : Errors.internal.code);
  // Fastify's status is kept: it already fits the error, and a 4xx without a code of its own
  // (e.g. 414, 431) must not be reported as a plain 400.
  return new FieldhookError(code, status, status < 500 ? err.message : Errors.internal.defaultMessage);
}

/** The catalog error a request's error is answered with. */
export function toCatalogError(err: unknown): FieldhookError {
  return isFieldhookError(err) ? err : fromFastifyError(err as FastifyError);
}

/**
 * For a route declared with `attachValidation: true` whose service checks the same input in code:
 * when the request failed the route's schema, `check` runs the service's own check first and
 * throws its refusal (its code, its field, its message); only what the schema alone refuses is
 * answered `FH_ERR_HTTP_INVALID_REQUEST`. So a bound written into a schema, for the OpenAPI
 * document and the clients generated from it, never changes what a client is told.
 */
export function refuseInvalidRequest(request: FastifyRequest, check: () => unknown): void {
  const error = request.validationError;
  if (error === undefined) return;
  check();
  throw error;
}

/**
 * One error handler for every fieldhook HTTP app: FieldhookErrors become problem+json bodies;
 * anything unexpected is logged in full and answered with an opaque 500.
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const known = toCatalogError(err);
    if (known.statusCode >= 500) request.log.error({ err }, 'request failed');
    else request.log.info({ code: known.code }, known.message);
    // An error that says when to come back (429/503) says it in Retry-After too.
    const retryAfterS = known.details?.retryAfterS;
    if (typeof retryAfterS === 'number') void reply.header('retry-after', String(retryAfterS));
    void reply.code(known.statusCode).type('application/problem+json').send(toProblem(known));
  });
  app.setNotFoundHandler((request, reply) => {
    void reply
      .code(404)
      .type('application/problem+json')
      .send(toProblem(Errors.httpNotFound(`No route ${request.method} ${bounded(request.url)}`)));
  });
}

/** The start of something a client sent, short enough to repeat in a message. */
function bounded(text: string, max = 120): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/**
 * Fastify's `frameworkErrors`: errors it raises while routing, before any hook (a malformed URL
 * component, a path parameter longer than `maxParamLength`). Answered as problem+json, without
 * repeating the offending path.
 */
export function frameworkErrorHandler(err: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const known =
    err.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? Errors.httpUriTooLong('A path parameter is too long')
      : err.code === 'FST_ERR_BAD_URL'
        ? Errors.httpBadRequest('The URL is not valid')
        : (err.statusCode ?? 500) < 500
          ? Errors.httpBadRequest()
          : Errors.internal();
  void reply.code(known.statusCode).type('application/problem+json').send(toProblem(known));
}

/**
 * A complete HTTP/1.1 response carrying `error` as problem+json, for the places below Fastify
 * where only the socket is at hand; it always closes the connection.
 */
export function rawProblemResponse(error: FieldhookError, headers: Record<string, string> = {}): string {
  const body = JSON.stringify(toProblem(error));
  const lines = [
    `HTTP/1.1 ${error.statusCode} ${STATUS_CODES[error.statusCode] ?? 'Error'}`,
    'Content-Type: application/problem+json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

/** The error for a client error Node's HTTP parser or its timers raised on a connection. */
export function clientErrorOf(err: NodeJS.ErrnoException): FieldhookError {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return Errors.httpHeadersTooLarge();
    case 'ERR_HTTP_REQUEST_TIMEOUT':
    case 'ERR_HTTP_HEADERS_TIMEOUT':
      return Errors.httpRequestTimeout();
    default:
      return Errors.httpBadRequest('The request could not be parsed');
  }
}

/**
 * The server's `clientError` handler (Fastify's `clientErrorHandler`): a malformed request line,
 * headers too large (431), a request or its headers not received in time (408). Answers a stable
 * problem+json that never repeats the request, then closes the connection.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || err.code === 'EPIPE' || socket.destroyed) {
    socket.destroy();
    return;
  }
  // A response already started on this connection cannot be followed by another.
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    socket.end(rawProblemResponse(clientErrorOf(err)), () => socket.destroy());
    // A client that never reads must not keep the socket either.
    setTimeout(() => socket.destroy(), 1_000).unref();
  } else {
    socket.destroy();
  }
}
