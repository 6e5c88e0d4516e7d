import { INGEST_CONFIG } from '../ingestor/config.js';

/** Every setting of `fieldhook start`, one schema per area, validated together at start-up. */
export const PIPELINE_CONFIG = {
  ...INGEST_CONFIG,
};
