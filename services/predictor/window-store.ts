/**
 * Each field's recent readings, newest last, trimmed to what the features look at. Readings are
 * applied synchronously (the bus acknowledges after `apply` returns), so nothing acknowledged is
 * missing from the window.
 */
import { FEATURE_WINDOW_HOURS, type ObservedReading } from '../model/index.js';

const HOUR_MS = 3_600_000;

/** Quantities the FAO-56 ET0 needs; a field missing any of them recently is stale. */
export const WEATHER_QUANTITIES = ['air_temperature', 'relative_humidity', 'wind_speed', 'solar_radiation'] as const;

/**
 * What the features read; other quantities (battery, RSSI, …) are not kept in the window, which
 * holds 75 h of every field in memory.
 */
export const FEATURE_QUANTITIES = ['soil_moisture', ...WEATHER_QUANTITIES, 'rainfall'] as const;

/** Correlation ids remembered per field (the newest ones are what provenance reports). */
const CORRELATIONS_KEPT = 8;

export interface WindowReading extends ObservedReading {
  ts: number;
  /** Correlation id of the ingest batch the reading came in (links advice back to readings). */
  correlationId?: string;
}

export interface FieldWindow {
  readings: WindowReading[];
  /** Device time of the newest soil moisture and of the newest complete weather, epoch ms (0 = none). */
  lastSoilMoistureTs: number;
  lastWeatherTs: number;
  /** Time the newest reading of any kind arrived, epoch ms (device time). */
  newestTs: number;
  /**
   * Revision of each hourly bin (keyed by the bin's end, epoch ms), bumped whenever a reading
   * lands in it: lets the feature cache recompute only the hours that changed.
   */
  binRevisions: Map<number, number>;
  /** Newest correlation ids with the device time of their reading, oldest first. */
  correlations: { ts: number; id: string }[];
}

export interface WindowStoreOptions {
  /** History kept per field, h. Default FEATURE_WINDOW_HOURS + 2. */
  keepHours: number;
}

export const DEFAULT_WINDOW_STORE_OPTIONS: WindowStoreOptions = { keepHours: FEATURE_WINDOW_HOURS + 2 };

export interface WindowStore {
  /** Add readings of one field (any order; duplicates of a time stamp merge). */
  apply(key: string, readings: Iterable<WindowReading>): void;
  get(key: string): FieldWindow | undefined;
  /** Readings of a field in [fromTs, toTs], oldest first. */
  between(key: string, fromTs: number, toTs: number): WindowReading[];
  keys(): IterableIterator<string>;
  clear(key: string): void;
}

export function isWeatherComplete(values: Readonly<Record<string, number | undefined>>): boolean {
  return WEATHER_QUANTITIES.every((q) => values[q] !== undefined && Number.isFinite(values[q]));
}

export function createWindowStore(options: Partial<WindowStoreOptions> = {}): WindowStore {
  const keepMs = (options.keepHours ?? DEFAULT_WINDOW_STORE_OPTIONS.keepHours) * HOUR_MS;
  const windows = new Map<string, FieldWindow>();

  function insert(w: FieldWindow, r: WindowReading): void {
    // Bins end on the hour and include their end (see buildObservationSeries).
    const binEnd = Math.ceil(r.ts / HOUR_MS) * HOUR_MS;
    w.binRevisions.set(binEnd, (w.binRevisions.get(binEnd) ?? 0) + 1);
    const list = w.readings;
    // Readings nearly always arrive in order: append, else binary-search the slot.
    let i = list.length;
    if (i > 0 && list[i - 1]!.ts >= r.ts) {
      let lo = 0;
      let hi = list.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (list[mid]!.ts < r.ts) lo = mid + 1;
        else hi = mid;
      }
      i = lo;
      const same = list[i];
      if (same && same.ts === r.ts) {
        // Two devices (or a retry) at one instant: merge, the later message winning per quantity.
        list[i] = { ts: r.ts, values: { ...same.values, ...r.values } };
        return;
      }
    }
    list.splice(i, 0, r);
  }

  function remember(w: FieldWindow, ts: number, id: string): void {
    const c = w.correlations;
    if (c.some((x) => x.id === id)) return;
    if (c.length >= CORRELATIONS_KEPT && ts < c[0]!.ts) return;
    let i = c.length;
    while (i > 0 && c[i - 1]!.ts > ts) i--;
    c.splice(i, 0, { ts, id });
    if (c.length > CORRELATIONS_KEPT) c.shift();
  }

  return {
    apply(key, readings) {
      let w = windows.get(key);
      if (!w) windows.set(key, (w = { readings: [], lastSoilMoistureTs: 0, lastWeatherTs: 0, newestTs: 0, binRevisions: new Map(), correlations: [] }));
      for (const input of readings) {
        if (!Number.isFinite(input.ts)) continue;
        const values: Record<string, number> = {};
        let kept = 0;
        for (const q of FEATURE_QUANTITIES) {
          const v = input.values[q];
          if (v !== undefined && Number.isFinite(v)) {
            values[q] = v;
            kept++;
          }
        }
        if (kept === 0) continue;
        const r = { ts: input.ts, values };
        insert(w, r);
        if (input.correlationId) remember(w, input.ts, input.correlationId);
        if (r.ts > w.newestTs) w.newestTs = r.ts;
        const sm = r.values.soil_moisture;
        if (sm !== undefined && Number.isFinite(sm) && r.ts > w.lastSoilMoistureTs) w.lastSoilMoistureTs = r.ts;
        if (r.ts > w.lastWeatherTs && isWeatherComplete(r.values)) w.lastWeatherTs = r.ts;
      }
      const cutoff = w.newestTs - keepMs;
      let drop = 0;
      while (drop < w.readings.length && w.readings[drop]!.ts < cutoff) drop++;
      if (drop > 0) {
        w.readings.splice(0, drop);
        for (const end of w.binRevisions.keys()) if (end < cutoff) w.binRevisions.delete(end);
      }
    },
    get: (key) => windows.get(key),
    between(key, fromTs, toTs) {
      const w = windows.get(key);
      if (!w) return [];
      const list = w.readings;
      const lowerBound = (ts: number, inclusive: boolean) => {
        let lo = 0;
        let hi = list.length;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (inclusive ? list[mid]!.ts < ts : list[mid]!.ts <= ts) lo = mid + 1;
          else hi = mid;
        }
        return lo;
      };
      return list.slice(lowerBound(fromTs, true), lowerBound(toTs, false));
    },
    keys: () => windows.keys(),
    clear: (key) => void windows.delete(key),
  };
}
