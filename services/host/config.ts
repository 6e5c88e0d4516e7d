import { CHAT_CONFIG } from '../chat/config.js';
import { DISPATCH_CONFIG } from '../dispatcher/config.js';
import { FORECAST_CONFIG } from '../forecasts/config.js';
import { INGEST_CONFIG } from '../ingestor/config.js';
import { PREDICT_CONFIG } from '../predictor/config.js';
import { mergeConfigShapes } from '../shared/common-config.js';
import { HTTP_SERVER_CONFIG } from './http-config.js';
import { PARTS_CONFIG } from './parts.js';

/**
 * Every setting of `fieldhook start`, one schema per area, validated together at start-up.
 * Keys several areas read (`DATA_DIR`, `LOG_LEVEL`) are declared once, in `COMMON_CONFIG`, and
 * spread into each area; the merge refuses any other key declared by two areas. The HTTP server's
 * limits (`HTTP_SERVER_CONFIG`, services/host/http-config.ts) follow the ingestor's `HTTP_HOST`/`HTTP_PORT`;
 * the dispatcher spreads the same shape in for its standalone server.
 */
export const PIPELINE_CONFIG = mergeConfigShapes(INGEST_CONFIG, HTTP_SERVER_CONFIG, DISPATCH_CONFIG, PREDICT_CONFIG, CHAT_CONFIG, FORECAST_CONFIG, PARTS_CONFIG);
