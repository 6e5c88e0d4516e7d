/**
 * What the OpenAPI document says about a route beyond the schema Fastify validates with. The host
 * (services/host/http-app.ts) merges a route's `config.openapi` into the document only: nothing
 * here is compiled into a validator or a serializer, so documenting a request part that a handler
 * checks in code (the readings routes need the raw bytes of their bodies) or the problem responses
 * of a route never changes what the route accepts or how it answers.
 */

import { ERROR_CODES } from './error-catalog.js';

/** An error code as the document mentions it, in backticks. */
export function code(error: { readonly code: string }): string {
  return `\`${error.code}\``;
}

/** A media type and its schema, as an OpenAPI `content` entry. */
export type MediaSchemas = Record<string, { schema: Record<string, unknown> }>;

/** One documented response that is not a problem: its meaning, its bodies by media type, its headers. */
export interface DocumentedResponse {
  description: string;
  content?: MediaSchemas;
  /** Response headers: a JSON schema (with its `description`) per header name. */
  headers?: Record<string, Record<string, unknown>>;
}

export interface RouteDocumentation {
  /** The request body as the handler accepts it, by media type (documentation only). */
  body?: MediaSchemas;
  /** The body may be left out (documentation only; the route schema decides what Fastify takes). */
  bodyOptional?: boolean;
  /** Query parameters the handler reads (documentation only): a JSON schema of type object. */
  querystring?: Record<string, unknown>;
  /** Request headers the handler reads (documentation only): a JSON schema of type object. */
  headers?: Record<string, unknown>;
  /** Responses that are not problems, by status (documentation only). */
  responses?: Record<number, DocumentedResponse>;
  /**
   * The problem+json responses this route sends itself, by status: a line naming the codes. The
   * host adds the ones every route can send (malformed request, unknown route, limits, 500).
   */
  problems?: Record<number, string>;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Documentation only: see services/shared/openapi.ts. */
    openapi?: RouteDocumentation;
  }
}

/** `application/problem+json` (RFC 9457) with fieldhook's stable `code`; the error catalog's codes. */
export const PROBLEM_SCHEMA = {
  $id: 'Problem',
  type: 'object',
  description: 'An error: RFC 9457 problem details with a stable `code` (docs/errors.md lists them).',
  required: ['type', 'title', 'status', 'code'],
  properties: {
    type: { type: 'string', description: '`https://fieldhook.dev/errors/<code>`' },
    title: { type: 'string', description: 'A sentence for people; may change. Branch on `code`.' },
    status: { type: 'integer', minimum: 400, maximum: 599 },
    code: { type: 'string', enum: [...ERROR_CODES] },
    detail: { type: 'string' },
  },
  additionalProperties: true,
};

export const PROBLEM_MEDIA_TYPE = 'application/problem+json';

/** `Retry-After` on a 429 or 503 problem. */
export const RETRY_AFTER_HEADER = { 'Retry-After': { type: 'string', pattern: '^[0-9]+$', description: 'Seconds to wait before retrying.' } } as const;
