import type { FastifyError, FastifyInstance } from 'fastify';
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

/**
 * One error handler for every fieldhook HTTP app: FieldhookErrors become problem+json bodies;
 * anything unexpected is logged in full and answered with an opaque 500.
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const known = isFieldhookError(err) ? err : fromFastifyError(err);
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
      .send(toProblem(Errors.httpNotFound(`No route ${request.method} ${request.url}`)));
  });
}
