import { Errors } from '../shared/error-catalog.js';

/*
 * The predictor's codes are defined in services/shared/error-catalog.ts. These names remain for the
 * predictor modules that still import them; new code uses `Errors.*` from the catalog directly.
 */
export const FieldNotFound = Errors.fieldNotFound;
export const FieldExists = Errors.fieldExists;
export const FieldInvalid = Errors.fieldInvalid;
export const PredictModelInvalid = Errors.predictModelInvalid;
export const PredictHistoryFailed = Errors.predictHistory;
export const PredictWriteFailed = Errors.predictWrite;
export const PredictNotStarted = Errors.predictNotStarted;
export const PredictInvalidRange = Errors.predictInvalidRange;
export const PredictConfigInvalid = Errors.predictConfig;
