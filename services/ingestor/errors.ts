import { defineError } from '../shared/errors.js';

/** Ingest error codes: part of the public contract (README "Error codes"). */
export const IngestErrors = {
  authMissing: defineError('FH_ERR_AUTH_MISSING', 401, 'Send Authorization: Bearer <device secret> or webhook-* signature headers'),
  authInvalid: defineError('FH_ERR_AUTH_INVALID', 401, 'Unknown credential'),
  signatureInvalid: defineError('FH_ERR_AUTH_SIGNATURE_INVALID', 401, 'Signature does not match'),
  signatureStale: defineError('FH_ERR_AUTH_SIGNATURE_STALE', 401, 'webhook-timestamp is more than 300 s from the server clock'),
  replayed: defineError('FH_ERR_AUTH_REPLAYED', 409, 'This webhook-id was already accepted'),
  deviceUnknown: defineError('FH_ERR_DEVICE_UNKNOWN', 401, 'Unknown device'),
  deviceDisabled: defineError('FH_ERR_DEVICE_DISABLED', 403, 'Device is disabled'),
  networkForbidden: defineError('FH_ERR_AUTH_NETWORK_FORBIDDEN', 403, 'Source address is not in the allowed networks'),
  deviceForbidden: defineError('FH_ERR_AUTH_DEVICE_FORBIDDEN', 403, 'This credential may not write for that device'),
  malformedJson: defineError('FH_ERR_HTTP_MALFORMED_JSON', 400, 'Body is not valid JSON'),
  badEnvelope: defineError('FH_ERR_INGEST_BAD_ENVELOPE', 400, 'The uplink envelope is not in the expected shape'),
  emptyBatch: defineError('FH_ERR_INGEST_EMPTY_BATCH', 400, 'Send one reading or a non-empty array of readings'),
  batchTooLarge: defineError('FH_ERR_INGEST_BATCH_TOO_LARGE', 413, 'Too many readings in one request'),
  allRefused: defineError('FH_ERR_INGEST_ALL_REFUSED', 400, 'Every reading was refused'),
  backpressure: defineError('FH_ERR_INGEST_BACKPRESSURE', 429, 'Spool above its high-water mark: retry later'),
  spoolFull: defineError('FH_ERR_INGEST_SPOOL_FULL', 503, 'Spool disk budget is full: retry later'),
  rateLimited: defineError('FH_ERR_INGEST_RATE_LIMITED', 429, 'Too many requests for this device'),
};
