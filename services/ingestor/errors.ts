import { Errors } from '../shared/error-catalog.js';

/*
 * The ingest codes are defined in services/shared/error-catalog.ts. This object remains for the
 * ingest modules that still import it; new code uses `Errors.*` from the catalog directly.
 */
export const IngestErrors = {
  authMissing: Errors.authMissing,
  authInvalid: Errors.authInvalid,
  signatureInvalid: Errors.authSignatureInvalid,
  signatureStale: Errors.authSignatureStale,
  replayed: Errors.authReplayed,
  deviceUnknown: Errors.deviceUnknown,
  deviceDisabled: Errors.deviceDisabled,
  networkForbidden: Errors.authNetworkForbidden,
  deviceForbidden: Errors.authDeviceForbidden,
  malformedJson: Errors.httpMalformedJson,
  badEnvelope: Errors.ingestBadEnvelope,
  emptyBatch: Errors.ingestEmptyBatch,
  batchTooLarge: Errors.ingestBatchTooLarge,
  allRefused: Errors.ingestAllRefused,
  backpressure: Errors.ingestBackpressure,
  spoolFull: Errors.ingestSpoolFull,
  rateLimited: Errors.ingestRateLimited,
} as const;
