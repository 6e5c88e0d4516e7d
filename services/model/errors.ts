import { Errors } from '../shared/error-catalog.js';

/*
 * The model's codes are defined in services/shared/error-catalog.ts. These names remain for the
 * model modules that still import them; new code uses `Errors.*` from the catalog directly.
 */
export const ModelCardMismatch = Errors.modelCardMismatch;
export const ModelChecksumMismatch = Errors.modelChecksum;
export const ModelInvalidInput = Errors.modelInvalidInput;
