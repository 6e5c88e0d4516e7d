import type { FastifyError, FastifyInstance } from 'fastify';
import { FieldhookError, isFieldhookError, toProblem } from './errors.js';

/**
 * Map Fastify's own errors (body parsing, schema validation, size limits) onto stable codes, so
 * that a client sees the same shape whatever layer refused its request.
 */
const FASTIFY_CODE_MAP: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'FH_ERR_HTTP_BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'FH_ERR_HTTP_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'FH_ERR_HTTP_MALFORMED_JSON',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'FH_ERR_HTTP_BAD_CONTENT_LENGTH',
  FST_ERR_VALIDATION: 'FH_ERR_HTTP_INVALID_REQUEST',
};

function fromFastifyError(err: FastifyError): FieldhookError {
  const status = err.statusCode ?? 500;
  if (err.validation) {
    return new FieldhookError('FH_ERR_HTTP_INVALID_REQUEST', 400, err.message, {
      errors: err.validation.map((v) => ({ path: v.instancePath, message: v.message })),
    });
  }
  if (err instanceof SyntaxError || (status === 400 && /JSON/i.test(err.message))) {
    return new FieldhookError('FH_ERR_HTTP_MALFORMED_JSON', 400, 'Body is not valid JSON');
  }
  const code = FASTIFY_CODE_MAP[err.code] ?? (status < 500 ? 'FH_ERR_HTTP_BAD_REQUEST' : 'FH_ERR_INTERNAL');
  return new FieldhookError(code, status, status < 500 ? err.message : 'Internal error');
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
      .send(toProblem(new FieldhookError('FH_ERR_HTTP_NOT_FOUND', 404, `No route ${request.method} ${request.url}`)));
  });
}
