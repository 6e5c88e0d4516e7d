/**
 * Features without recomputing the past: each hourly bin of a field's series (mean soil
 * moisture, FAO-56 hourly ET0, rain) depends only on the readings in that hour, so it is computed
 * once with the model's own `buildObservationSeries` and kept until a reading lands in it. An
 * evaluation then assembles 72 cached bins and calls the model's `computeFeatures`: the same
 * numbers as `featuresFromReadings`, at a fraction of the cost (ET0 is the expensive part).
 */
import { FEATURE_WINDOW_HOURS, buildObservationSeries, computeFeatures, type Et0Provenance, type FeatureContext, type FeatureGap, type FieldProfile, type ObservationSeries } from '../model/index.js';
import type { WindowStore } from './window-store.js';

const HOUR_MS = 3_600_000;

/** Slots per field: the 72 bins of a window plus room for the clock to move on. */
const SLOTS = 96;
/** Layout of one slot in a field's Float64Array: bin end, revision, θ, ET0, rain, air temperature, ET0 input bits. */
const END = 0;
const REV = 1;
const THETA = 2;
const ET0 = 3;
const RAIN = 4;
const TEMP = 5;
const INPUTS = 6;
const WIDTH = 7;

export interface FeatureCache {
  /** Features of field `key` at `atTs` (rounded down to the hour), as `featuresFromReadings` gives them. */
  features(key: string, profile: FieldProfile, windows: WindowStore, atTs: number, context?: FeatureContext): { features: Float64Array; et0: Et0Provenance } | { gap: FeatureGap };
  forget(key: string): void;
}

/**
 * Bins live in one Float64Array per field, slot = hour number modulo 96 (about 4 KB a field,
 * 40 MB for 10,000), so the cache costs no garbage-collected objects per bin.
 */
export function createFeatureCache(): FeatureCache {
  const fields = new Map<string, { profile: FieldProfile; slots: Float64Array }>();
  return {
    features(key, profile, windows, atTs, context = {}) {
      const end = Math.floor(atTs / HOUR_MS) * HOUR_MS;
      const start = end - FEATURE_WINDOW_HOURS * HOUR_MS;
      let entry = fields.get(key);
      // A changed profile (site, soil) changes ET0 and everything else: start over.
      if (!entry || entry.profile !== profile) fields.set(key, (entry = { profile, slots: new Float64Array(SLOTS * WIDTH).fill(Number.NaN) }));
      const { slots } = entry;
      const revisions = windows.get(key)?.binRevisions;
      const slotOf = (binEnd: number) => ((((binEnd / HOUR_MS) % SLOTS) + SLOTS) % SLOTS) * WIDTH;
      const valid = (binEnd: number) => {
        const o = slotOf(binEnd);
        return slots[o + END] === binEnd && slots[o + REV] === (revisions?.get(binEnd) ?? 0);
      };
      const store = (binEnd: number, series: ObservationSeries, k: number) => {
        const o = slotOf(binEnd);
        slots[o + END] = binEnd;
        slots[o + REV] = revisions?.get(binEnd) ?? 0;
        slots[o + THETA] = series.theta[k]!;
        slots[o + ET0] = series.et0[k]!;
        slots[o + RAIN] = series.rain[k]!;
        slots[o + TEMP] = series.temperature?.[k] ?? Number.NaN;
        slots[o + INPUTS] = series.inputs?.[k] ?? 0;
      };
      let stale = 0;
      for (let k = 0; k < FEATURE_WINDOW_HOURS; k++) if (!valid(start + (k + 1) * HOUR_MS)) stale++;
      if (stale > FEATURE_WINDOW_HOURS / 4) {
        // Cold (after a start or a gap): one pass over the window beats 72 one-hour passes.
        const series = buildObservationSeries(profile, windows.between(key, start + 1, end), start, end);
        for (let k = 0; k < FEATURE_WINDOW_HOURS; k++) store(start + (k + 1) * HOUR_MS, series, k);
      }
      const theta = new Float64Array(FEATURE_WINDOW_HOURS);
      const et0 = new Float64Array(FEATURE_WINDOW_HOURS);
      const rain = new Float64Array(FEATURE_WINDOW_HOURS);
      const temperature = new Float64Array(FEATURE_WINDOW_HOURS);
      const inputs = new Float64Array(FEATURE_WINDOW_HOURS);
      for (let k = 0; k < FEATURE_WINDOW_HOURS; k++) {
        const binEnd = start + (k + 1) * HOUR_MS;
        if (!valid(binEnd)) {
          const revision = revisions?.get(binEnd) ?? 0;
          const one = buildObservationSeries(profile, revision ? windows.between(key, binEnd - HOUR_MS + 1, binEnd) : [], binEnd - HOUR_MS, binEnd);
          store(binEnd, one, 0);
        }
        const o = slotOf(binEnd);
        theta[k] = slots[o + THETA]!;
        et0[k] = slots[o + ET0]!;
        rain[k] = slots[o + RAIN]!;
        temperature[k] = slots[o + TEMP]!;
        inputs[k] = slots[o + INPUTS]!;
      }
      return computeFeatures(profile, { startTs: start, hours: FEATURE_WINDOW_HOURS, theta, et0, rain, temperature, inputs }, end, context);
    },
    forget: (key) => void fields.delete(key),
  };
}
