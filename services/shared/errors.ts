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

/** Build a factory for one error code, in the style of `@fastify/error`. */
export function defineError(code: string, statusCode: number, defaultMessage: string) {
  const make = (message: string = defaultMessage, details?: Record<string, unknown>) =>
    new FieldhookError(code, statusCode, message, details);
  return Object.assign(make, { code, statusCode });
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
