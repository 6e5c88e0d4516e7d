/**
 * Every fieldhook HTTP response names its request in this header (the id a client sent, when it
 * is one, else a new one); logs, spool records and deliveries carry the same id. A client of the
 * API also tells by it that it reached fieldhook and not something else on that port.
 */
export const CORRELATION_HEADER = 'x-correlation-id';

/** A correlation id a client may choose. */
export const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;
