import swagger from '@fastify/swagger';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { Errors } from '../shared/error-catalog.js';
import { code, PROBLEM_MEDIA_TYPE, PROBLEM_SCHEMA, RETRY_AFTER_HEADER, type RouteDocumentation } from '../shared/openapi.js';

/**
 * Serve the app's OpenAPI document at `/documentation/json`: every route with its Fastify schema,
 * its `config.openapi` documentation and every problem it can answer. Call it before the routes
 * are registered, so that the document lists them all.
 */
export function registerOpenApi(app: FastifyInstance): void {
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
  415: `${code(Errors.httpUnsupportedMediaType)}, ${code(Errors.httpUnsupportedEncoding)}: the body is not of a media type or content coding the route takes.`,
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
