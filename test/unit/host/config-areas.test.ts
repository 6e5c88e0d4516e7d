import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CHAT_CONFIG } from '../../../services/chat/config.js';
import { DISPATCH_CONFIG, createDispatchConfig } from '../../../services/dispatcher/config.js';
import { PIPELINE_CONFIG } from '../../../services/host/config.js';
import { PARTS_CONFIG } from '../../../services/host/parts.js';
import { INGEST_CONFIG } from '../../../services/ingestor/config.js';
import { PREDICT_CONFIG } from '../../../services/predictor/config.js';
import { FORECAST_CONFIG } from '../../../services/forecasts/config.js';
import { COMMON_CONFIG, conflictingConfigKeys, mergeConfigShapes } from '../../../services/shared/common-config.js';
import type { ConfigShape } from '../../../services/shared/config.js';

const AREAS: Record<string, ConfigShape> = { ingest: INGEST_CONFIG, dispatch: DISPATCH_CONFIG, predict: PREDICT_CONFIG, forecast: FORECAST_CONFIG, chat: CHAT_CONFIG, parts: PARTS_CONFIG };

describe('config areas', () => {
  it('declare no key twice: a key in several areas is one schema, spread in from a shared shape', () => {
    const owners = new Map<string, string[]>();
    for (const [area, shape] of Object.entries(AREAS)) {
      for (const key of Object.keys(shape)) owners.set(key, [...(owners.get(key) ?? []), area]);
    }
    const shared = [...owners].filter(([, areas]) => areas.length > 1);
    for (const [key, areas] of shared) {
      const schemas = new Set(areas.map((area) => AREAS[area]![key]));
      expect(schemas.size, `${key} is declared separately in ${areas.join(' and ')}`).toBe(1);
    }
    for (const [area, shape] of Object.entries(AREAS)) {
      for (const [key, schema] of Object.entries(COMMON_CONFIG)) if (key in shape) expect(shape[key], `${area}.${key}`).toBe(schema);
    }
    expect(conflictingConfigKeys(Object.values(AREAS))).toEqual([]);
  });

  it('merge into PIPELINE_CONFIG without losing a key', () => {
    const keys = new Set(Object.values(AREAS).flatMap((shape) => Object.keys(shape)));
    expect(new Set(Object.keys(PIPELINE_CONFIG))).toEqual(keys);
    for (const shape of Object.values(AREAS)) {
      for (const [key, schema] of Object.entries(shape)) expect(PIPELINE_CONFIG[key as keyof typeof PIPELINE_CONFIG]).toBe(schema);
    }
  });

  it('refuse to merge two declarations of one key', () => {
    const a = { PORT: z.coerce.number().default(1) };
    const b = { PORT: z.coerce.number().default(2) };
    expect(conflictingConfigKeys([a, b])).toEqual(['PORT']);
    expect(() => mergeConfigShapes(a, b)).toThrow(/PORT/);
    expect(Object.keys(mergeConfigShapes(COMMON_CONFIG, { ...COMMON_CONFIG, ...a }))).toEqual([...Object.keys(COMMON_CONFIG), 'PORT']);
  });

  it('give the standalone dispatcher the common settings', () => {
    const config = createDispatchConfig();
    expect(config.DATA_DIR).toBe('.fieldhook');
    expect(config.LOG_LEVEL).toBe('info');
  });
});
