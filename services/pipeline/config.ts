import { DISPATCH_CONFIG } from '../dispatcher/config.js';
import { INGEST_CONFIG } from '../ingestor/config.js';
import { PREDICT_CONFIG } from '../predictor/config.js';

/**
 * Every setting of `fieldhook start`, one schema per area, validated together at start-up.
 * Keys both areas share (`DATA_DIR`, `LOG_LEVEL`) have the same meaning in each.
 */
export const PIPELINE_CONFIG = {
  ...INGEST_CONFIG,
  ...DISPATCH_CONFIG,
  ...PREDICT_CONFIG,
};
