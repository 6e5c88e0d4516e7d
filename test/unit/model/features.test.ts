import { describe, expect, it } from 'vitest';
import { profileFromSpec, samplesOfField } from '../../../services/training/dataset.js';
import {
  FEATURE_COUNT,
  FEATURE_NAMES,
  buildObservationSeries,
  computeFeatures,
  featuresFromReadings,
  profileOnDay,
} from '../../../services/model/features.js';
import { simulateField } from '../../../services/simulator/field-run.js';
import { createFieldSpecs } from '../../../services/simulator/fields.js';
import { sensorReadings } from '../../../services/simulator/sensors.js';

const HOUR_MS = 3_600_000;
const spec = createFieldSpecs({
  count: 1,
  seed: 3,
  population: { climates: ['semi-arid'], soils: ['loam'], crops: ['tomato'] },
})[0]!;
const run = simulateField(spec);
const profile = profileFromSpec(spec);
const readings = sensorReadings(run);
const first = run.weather[0]!.ts;
const series = buildObservationSeries(profile, readings, first, first + run.weather.length * HOUR_MS);
const f = (row: Float64Array, name: (typeof FEATURE_NAMES)[number]) => row[FEATURE_NAMES.indexOf(name)]!;

describe('irrigation model features', () => {
  it('names every column once', () => {
    expect(new Set(FEATURE_NAMES).size).toBe(FEATURE_COUNT);
  });

  it('gives the same vector from a 72 h window of readings (prediction) as from the whole season (training)', () => {
    for (const hour of [80, 500, 1500, 2500]) {
      const at = first + hour * HOUR_MS;
      const fromSeason = computeFeatures(profile, series, at);
      const fromWindow = featuresFromReadings(profile, readings, at + 17 * 60_000); // rounded down to the hour
      expect('features' in fromSeason && 'features' in fromWindow).toBe(true);
      if ('features' in fromSeason && 'features' in fromWindow) {
        expect(Array.from(fromWindow.features)).toEqual(Array.from(fromSeason.features));
      }
    }
  });

  it('tracks the truth: depletion near the FAO-56 state, ET0 near the true ET0', () => {
    let depletionError = 0;
    let et0Error = 0;
    let n = 0;
    for (let i = 100; i < run.weather.length - 1; i += 24) {
      const r = computeFeatures(profile, series, first + (i + 1) * HOUR_MS);
      if (!('features' in r)) continue;
      depletionError += Math.abs(f(r.features, 'depletion_smoothed_mm') - run.depletion[i]!);
      const trueEt0 = run.et0.slice(i - 23, i + 1).reduce((s, x) => s + x, 0);
      et0Error += Math.abs(f(r.features, 'et0_24h_mm') - trueEt0) / trueEt0;
      n++;
    }
    expect(n).toBeGreaterThan(50);
    expect(depletionError / n).toBeLessThan(4);
    expect(et0Error / n).toBeLessThan(0.1);
  });

  it('reports a gap instead of features when soil moisture is stale or history short', () => {
    const at = first + 1000 * HOUR_MS;
    const noSoil = readings
      .filter((r) => Date.parse(r.ts) <= at - 13 * HOUR_MS || Date.parse(r.ts) > at)
      .concat(readings.filter((r) => Date.parse(r.ts) > at - 13 * HOUR_MS && Date.parse(r.ts) <= at).map((r) => ({ ...r, values: { ...r.values, soil_moisture: undefined } })));
    expect(featuresFromReadings(profile, noSoil, at)).toEqual({ gap: 'no-recent-soil-moisture' });
    expect(computeFeatures(profile, series, first + 10 * HOUR_MS)).toEqual({ gap: 'short-history' });
  });

  it('builds training samples with targets from the no-irrigation truth', () => {
    const samples = samplesOfField(run);
    expect(samples.length).toBeGreaterThan(400);
    for (const s of samples) {
      expect(s.features).toHaveLength(FEATURE_COUNT);
      expect(s.depletion24h).toBeGreaterThanOrEqual(0);
      expect(s.depletion48h).toBeLessThanOrEqual(s.taw + 1e-9);
      expect(f(s.features, 'taw_mm')).toBeCloseTo(s.taw, 9);
    }
  });

  it('with a minimum root depth, every feature uses the day\'s root zone (TAW and RAW grow with the roots)', () => {
    const growing = { ...profile, rootDepthMinM: 0.2 };
    const [ini, dev] = profile.crop.stageDays;
    const sowing = Date.parse(`${profile.sowingDate}T00:00:00Z`) - (profile.tzLongitudeDeg / 15) * HOUR_MS;
    expect(profileOnDay(growing, sowing + 2 * 86_400_000).rootDepthM).toBe(0.2);
    expect(profileOnDay(growing, sowing + (ini + dev / 2) * 86_400_000).rootDepthM).toBeCloseTo((0.2 + profile.rootDepthM) / 2, 9);
    expect(profileOnDay(profile, sowing)).toBe(profile); // fixed depth: the same object
    const at = sowing + (ini + dev / 4) * 86_400_000;
    const end = Math.floor(at / HOUR_MS) * HOUR_MS;
    const fixed = featuresFromReadings(profile, readings, end);
    const grown = featuresFromReadings(growing, readings, end);
    if (!('features' in fixed) || !('features' in grown)) throw new Error('no features');
    const zr = profileOnDay(growing, end).rootDepthM;
    expect(f(grown.features, 'root_depth_m')).toBeCloseTo(zr, 9);
    expect(f(grown.features, 'taw_mm')).toBeCloseTo((f(fixed.features, 'taw_mm') * zr) / profile.rootDepthM, 6);
    expect(f(grown.features, 'raw_mm')).toBeLessThan(f(fixed.features, 'raw_mm'));
  });
});
