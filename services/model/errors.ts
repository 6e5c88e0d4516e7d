import { defineError } from '../shared/errors.js';

/** The model file, its card and this code's feature module disagree: refuse to serve. */
export const ModelCardMismatch = defineError('FH_ERR_MODEL_CARD_MISMATCH', 500, 'Model does not match its card');

/** The model file is not the one the card describes (sha256 differs). */
export const ModelChecksumMismatch = defineError('FH_ERR_MODEL_CHECKSUM', 500, 'Model file checksum does not match its card');

/** A feature row has the wrong length or a non-finite value. */
export const ModelInvalidInput = defineError('FH_ERR_MODEL_INVALID_INPUT', 400, 'Invalid model input');
