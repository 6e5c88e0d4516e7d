import { describe, expect, it } from 'vitest';
import { featuresFromReadings } from '../../../services/model/index.js';
import { createFeatureCache } from '../../../services/predictor/feature-cache.js';
import { createWindowStore } from '../../../services/predictor/window-store.js';
import { simulateField } from '../../../services/simulator/field-run.js';
import { createFieldSpecs } from '../../../services/simulator/fields.js';
import { sensorReadings } from '../../../services/simulator/sensors.js';
import { POPULATIONS, profileFromSpec } from '../../../services/training/dataset.js';

const HOUR = 3_600_000;

describe('feature cache', () => {
  it('gives exactly the features of featuresFromReadings, also after late and merged readings', () => {
    const [spec] = createFieldSpecs({ count: 1, seed: 'cache', population: POPULATIONS.heldOut });
    const run = simulateField(spec!);
    const profile = profileFromSpec(spec!);
    const all = sensorReadings(run).map((r) => ({ ts: Date.parse(r.ts), values: r.values }));
    const windows = createWindowStore();
    const cache = createFeatureCache();
    // Hold some readings back and deliver them late, as a back-fill would.
    const late = new Set([90, 95, 130, 131]);
    let checked = 0;
    for (let i = 0; i < 200; i++) {
      if (!late.has(i)) windows.apply('k', [all[i]!]);
      if (i === 140) windows.apply('k', [...late].map((j) => all[j]!));
      if (i === 150) windows.apply('k', [{ ts: all[148]!.ts, values: { rainfall: 3 } }]); // merges into an existing point
      if (i < 80) continue;
      const at = all[i]!.ts + (i % 3) * 20 * 60_000;
      const expected = featuresFromReadings(profile, windows.between('k', Math.floor(at / HOUR) * HOUR - 72 * HOUR, at), at);
      expect(cache.features('k', profile, windows, at)).toEqual(expected);
      checked++;
    }
    expect(checked).toBe(120);
  });
});
