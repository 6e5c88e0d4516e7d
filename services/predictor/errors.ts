import { defineError } from '../shared/errors.js';

/** Stable codes of the predictor and the field profiles (never rename one). */
export const FieldNotFound = defineError('FH_ERR_FIELD_NOT_FOUND', 404, 'No such field');
export const FieldExists = defineError('FH_ERR_FIELD_EXISTS', 409, 'The field is already configured');
export const FieldInvalid = defineError('FH_ERR_FIELD_INVALID', 400, 'Invalid field settings');
export const PredictModelInvalid = defineError('FH_ERR_PREDICT_MODEL_INVALID', 500, 'The irrigation model could not be loaded');
export const PredictHistoryFailed = defineError('FH_ERR_PREDICT_HISTORY', 502, 'Reading history could not be loaded from InfluxDB');
export const PredictWriteFailed = defineError('FH_ERR_PREDICT_WRITE', 502, 'Recommendations could not be written to InfluxDB');
export const PredictNotStarted = defineError('FH_ERR_PREDICT_NOT_STARTED', 503, 'The predictor has not started');
export const PredictInvalidRange = defineError('FH_ERR_PREDICT_INVALID_RANGE', 400, 'Invalid time range');
export const PredictConfigInvalid = defineError('FH_ERR_PREDICT_CONFIG', 500, 'Invalid predictor settings');
