import { DISPATCH_CONFIG } from '../dispatcher/config.js';
import { INGEST_CONFIG } from '../ingestor/config.js';
import { PREDICT_CONFIG } from '../predictor/config.js';
import { mergeConfigShapes } from '../shared/common-config.js';

/**
 * Every setting of `fieldhook start`, one schema per area, validated together at start-up.
 * Keys several areas read (`DATA_DIR`, `LOG_LEVEL`) are declared once, in `COMMON_CONFIG`, and
 * spread into each area; the merge refuses any other key declared by two areas.
 */
export const PIPELINE_CONFIG = mergeConfigShapes(INGEST_CONFIG, DISPATCH_CONFIG, PREDICT_CONFIG);
