/**
 * Every error fieldhook reports to a client carries a stable code (`FH_ERR_<AREA>_<WHAT>`) and an
 * HTTP status. Codes are part of the public contract: clients branch on them, so never rename one.
 */
export class FieldhookError extends Error {
  readonly code: string;
  readonly statusCode: number;
  /** Extra machine-readable detail for the client (never secrets or internals). */
  readonly details: Record<string, unknown> | undefined;

  constructor(code: string, statusCode: number, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'FieldhookError';
    this.code = code;
    this.statusCode = statusCode;
    this.details = details;
  }
}

/** A factory for one error code that also carries what the error catalog documents about it. */
export type ErrorFactory<C extends string = string> = ((message?: string, details?: Record<string, unknown>) => FieldhookError) & {
  readonly code: C;
  readonly statusCode: number;
  /** What a client sees when the caller gives no message of its own. */
  readonly defaultMessage: string;
  /** One line for the error table in docs/errors.md: when this code is sent. */
  readonly meaning: string;
};

/**
 * Build a factory for one error code, in the style of `@fastify/error`. Only the error catalog
 * (services/shared/error-catalog.ts) calls this, so every code is defined once.
 */
export function defineError<C extends string>(code: C, statusCode: number, defaultMessage: string, meaning: string): ErrorFactory<C> {
  const make = (message: string = defaultMessage, details?: Record<string, unknown>) =>
    new FieldhookError(code, statusCode, message, details);
  return Object.assign(make, { code, statusCode, defaultMessage, meaning });
}

export function isFieldhookError(err: unknown): err is FieldhookError {
  return err instanceof FieldhookError;
}

/** The JSON body of an error response (RFC 9457 problem details, plus our code). */
export interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail?: string;
  [extra: string]: unknown;
}

export function toProblem(err: FieldhookError): Problem {
  return {
    type: `https://fieldhook.dev/errors/${err.code}`,
    title: err.message,
    status: err.statusCode,
    code: err.code,
    ...err.details,
  };
}
