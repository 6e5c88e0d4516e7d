/**
 * Features without recomputing the past: each hourly bin of a field's series (mean soil
 * moisture, FAO-56 hourly ET0, rain) depends only on the readings in that hour, so it is computed
 * once with the model's own `buildObservationSeries` and kept until a reading lands in it. An
 * evaluation then assembles 72 cached bins and calls the model's `computeFeatures`: the same
 * numbers as `featuresFromReadings`, at a fraction of the cost (ET0 is the expensive part).
 */
import { FEATURE_WINDOW_HOURS, buildObservationSeries, computeFeatures, type FeatureGap, type FieldProfile } from '../model/index.js';
import type { WindowStore } from './window-store.js';

const HOUR_MS = 3_600_000;

interface Bin {
  revision: number;
  theta: number;
  et0: number;
  rain: number;
}

export interface FeatureCache {
  /** Features of field `key` at `atTs` (rounded down to the hour), as `featuresFromReadings` gives them. */
  features(key: string, profile: FieldProfile, windows: WindowStore, atTs: number): { features: Float64Array } | { gap: FeatureGap };
  forget(key: string): void;
}

export function createFeatureCache(): FeatureCache {
  const fields = new Map<string, { profile: FieldProfile; bins: Map<number, Bin> }>();
  return {
    features(key, profile, windows, atTs) {
      const end = Math.floor(atTs / HOUR_MS) * HOUR_MS;
      const start = end - FEATURE_WINDOW_HOURS * HOUR_MS;
      let entry = fields.get(key);
      // A changed profile (site, soil) changes ET0 and everything else: start over.
      if (!entry || entry.profile !== profile) fields.set(key, (entry = { profile, bins: new Map() }));
      const revisions = windows.get(key)?.binRevisions;
      let stale = 0;
      for (let k = 0; k < FEATURE_WINDOW_HOURS; k++) {
        const binEnd = start + (k + 1) * HOUR_MS;
        if (entry.bins.get(binEnd)?.revision !== (revisions?.get(binEnd) ?? 0)) stale++;
      }
      if (stale > FEATURE_WINDOW_HOURS / 4) {
        // Cold (after a start or a gap): one pass over the window beats 72 one-hour passes.
        const series = buildObservationSeries(profile, windows.between(key, start + 1, end), start, end);
        for (let k = 0; k < FEATURE_WINDOW_HOURS; k++) {
          const binEnd = start + (k + 1) * HOUR_MS;
          entry.bins.set(binEnd, { revision: revisions?.get(binEnd) ?? 0, theta: series.theta[k]!, et0: series.et0[k]!, rain: series.rain[k]! });
        }
      }
      const theta = new Float64Array(FEATURE_WINDOW_HOURS);
      const et0 = new Float64Array(FEATURE_WINDOW_HOURS);
      const rain = new Float64Array(FEATURE_WINDOW_HOURS);
      for (let k = 0; k < FEATURE_WINDOW_HOURS; k++) {
        const binEnd = start + (k + 1) * HOUR_MS;
        const revision = revisions?.get(binEnd) ?? 0;
        let bin = entry.bins.get(binEnd);
        if (!bin || bin.revision !== revision) {
          const one = buildObservationSeries(profile, revision ? windows.between(key, binEnd - HOUR_MS + 1, binEnd) : [], binEnd - HOUR_MS, binEnd);
          bin = { revision, theta: one.theta[0]!, et0: one.et0[0]!, rain: one.rain[0]! };
          entry.bins.set(binEnd, bin);
        }
        theta[k] = bin.theta;
        et0[k] = bin.et0;
        rain[k] = bin.rain;
      }
      // Bins that slid out of the window are not needed again.
      for (const binEnd of entry.bins.keys()) if (binEnd <= start) entry.bins.delete(binEnd);
      return computeFeatures(profile, { startTs: start, hours: FEATURE_WINDOW_HOURS, theta, et0, rain }, end);
    },
    forget: (key) => void fields.delete(key),
  };
}
