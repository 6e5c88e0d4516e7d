/**
 * Each field's recent readings, oldest first, trimmed to what the features look at. Readings are
 * applied synchronously (the bus acknowledges after `apply` returns), so nothing acknowledged is
 * missing from the window.
 *
 * Storage is columnar (one Float64Array per quantity, NaN = not reported): 75 h of 10,000
 * fields is three quarters of a million readings, which as objects would cost a few hundred
 * bytes each on the heap; as columns they cost 56.
 */
import { FEATURE_WINDOW_HOURS, type ObservedReading } from '../model/index.js';

const HOUR_MS = 3_600_000;

/** Quantities the FAO-56 Penman-Monteith ET0 needs. */
export const WEATHER_QUANTITIES = ['air_temperature', 'relative_humidity', 'wind_speed', 'solar_radiation'] as const;

/**
 * What the features read; other quantities (battery, RSSI, …) are not kept in the window.
 */
export const FEATURE_QUANTITIES = ['soil_moisture', ...WEATHER_QUANTITIES, 'rainfall', 'et0'] as const;
const Q = FEATURE_QUANTITIES.length;
const SOIL = 0;
/**
 * A reading is weather enough when an ET0 can be had from it: the station's own `et0`, or air
 * temperature (Hargreaves, when humidity, wind or radiation are not measured). A field is stale
 * only without either; a degraded ET0 is stated in the advice's provenance instead.
 */
const ET0 = FEATURE_QUANTITIES.indexOf('et0');
const ET0_SOURCES = [ET0, FEATURE_QUANTITIES.indexOf('air_temperature')];

/** Correlation ids remembered per field (the newest ones are what provenance reports). */
const CORRELATIONS_KEPT = 8;

export interface WindowReading extends ObservedReading {
  ts: number;
  /** Correlation id of the ingest batch the reading came in (links advice back to readings). */
  correlationId?: string;
}

export interface FieldWindow {
  /** Readings (distinct time stamps) held. */
  count: number;
  /** Device time of the newest soil moisture and of the newest weather an ET0 comes from, epoch ms (0 = none). */
  lastSoilMoistureTs: number;
  lastWeatherTs: number;
  /** Time of the newest reading of any kind, epoch ms (device time). */
  newestTs: number;
  /**
   * Revision of each hourly bin (keyed by the bin's end, epoch ms), bumped whenever a reading
   * lands in it: lets the feature cache recompute only the hours that changed.
   */
  binRevisions: Map<number, number>;
  /** Newest correlation ids with the device time of their reading, oldest first. */
  correlations: { ts: number; id: string }[];
}

/** What the freshness gate needs from a span of a window, without materialising readings. */
export interface WindowScan {
  readings: number;
  /** Newest soil moisture and newest weather an ET0 comes from (et0 or air temperature) in the span, epoch ms (−∞ = none). */
  lastSoilMoistureTs: number;
  lastWeatherTs: number;
  /** Distinct hours (by bin end) with a soil moisture reading. */
  soilHours: number;
}

export interface WindowStoreOptions {
  /** History kept per field, h. Default FEATURE_WINDOW_HOURS + 2. */
  keepHours: number;
}

export const DEFAULT_WINDOW_STORE_OPTIONS: WindowStoreOptions = { keepHours: FEATURE_WINDOW_HOURS + 2 };

export interface WindowStore {
  /** Add readings of one field (any order; duplicates of a time stamp merge, the later winning). */
  apply(key: string, readings: Iterable<WindowReading>): void;
  get(key: string): FieldWindow | undefined;
  /** Readings of a field in [fromTs, toTs], oldest first (materialised: for features). */
  between(key: string, fromTs: number, toTs: number): WindowReading[];
  /** Freshness facts of a field's readings in [fromTs, toTs]. */
  scan(key: string, fromTs: number, toTs: number): WindowScan;
  /**
   * A station's `et0` reports in [fromTs, toTs]: the hours holding one (numbered by their end,
   * epoch ms / 1 h), oldest first, and the time of the newest (−∞ = none).
   */
  et0Reports(key: string, fromTs: number, toTs: number): { hours: number[]; newestTs: number };
  keys(): IterableIterator<string>;
  clear(key: string): void;
}

export function isWeatherComplete(values: Readonly<Record<string, number | undefined>>): boolean {
  return WEATHER_QUANTITIES.every((q) => values[q] !== undefined && Number.isFinite(values[q]));
}

interface Columns extends FieldWindow {
  ts: Float64Array;
  /** Row-major: row i, quantity q at i·Q + q. */
  values: Float64Array;
}

export function createWindowStore(options: Partial<WindowStoreOptions> = {}): WindowStore {
  const keepMs = (options.keepHours ?? DEFAULT_WINDOW_STORE_OPTIONS.keepHours) * HOUR_MS;
  const windows = new Map<string, Columns>();

  /** First row with ts ≥ t (or > t when `after`). */
  function lowerBound(w: Columns, t: number, after = false): number {
    let lo = 0;
    let hi = w.count;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (after ? w.ts[mid]! <= t : w.ts[mid]! < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  function grow(w: Columns): void {
    // 1.5×: a field settles at about 75 rows, so doubling would leave a third of every window empty.
    const capacity = Math.max(16, Math.ceil(w.ts.length * 1.5));
    const ts = new Float64Array(capacity);
    ts.set(w.ts.subarray(0, w.count));
    const values = new Float64Array(capacity * Q);
    values.set(w.values.subarray(0, w.count * Q));
    w.ts = ts;
    w.values = values;
  }

  function weatherComplete(w: Columns, row: number): boolean {
    return ET0_SOURCES.some((q) => !Number.isNaN(w.values[row * Q + q]!));
  }

  function remember(w: Columns, ts: number, id: string): void {
    const c = w.correlations;
    if (c.some((x) => x.id === id)) return;
    if (c.length >= CORRELATIONS_KEPT && ts < c[0]!.ts) return;
    let i = c.length;
    while (i > 0 && c[i - 1]!.ts > ts) i--;
    c.splice(i, 0, { ts, id });
    if (c.length > CORRELATIONS_KEPT) c.shift();
  }

  function insert(w: Columns, r: WindowReading): boolean {
    let kept = 0;
    for (const q of FEATURE_QUANTITIES) {
      const v = r.values[q];
      if (v !== undefined && Number.isFinite(v)) kept++;
    }
    if (kept === 0) return false;
    // Readings nearly always arrive in order: append, else binary-search the slot.
    let row = w.count > 0 && w.ts[w.count - 1]! >= r.ts ? lowerBound(w, r.ts) : w.count;
    if (!(row < w.count && w.ts[row] === r.ts)) {
      if (w.count === w.ts.length) grow(w);
      w.ts.copyWithin(row + 1, row, w.count);
      w.values.copyWithin((row + 1) * Q, row * Q, w.count * Q);
      w.ts[row] = r.ts;
      w.values.fill(Number.NaN, row * Q, (row + 1) * Q);
      w.count++;
    }
    // Two devices (or a retry) at one instant merge, the later message winning per quantity.
    FEATURE_QUANTITIES.forEach((q, i) => {
      const v = r.values[q];
      if (v !== undefined && Number.isFinite(v)) w.values[row * Q + i] = v;
    });
    // Bins end on the hour and include their end (see buildObservationSeries).
    const binEnd = Math.ceil(r.ts / HOUR_MS) * HOUR_MS;
    w.binRevisions.set(binEnd, (w.binRevisions.get(binEnd) ?? 0) + 1);
    if (r.ts > w.newestTs) w.newestTs = r.ts;
    if (!Number.isNaN(w.values[row * Q + SOIL]!) && r.ts > w.lastSoilMoistureTs) w.lastSoilMoistureTs = r.ts;
    if (r.ts > w.lastWeatherTs && weatherComplete(w, row)) w.lastWeatherTs = r.ts;
    return true;
  }

  return {
    apply(key, readings) {
      let w = windows.get(key);
      if (!w) {
        w = { count: 0, ts: new Float64Array(0), values: new Float64Array(0), lastSoilMoistureTs: 0, lastWeatherTs: 0, newestTs: 0, binRevisions: new Map(), correlations: [] };
        windows.set(key, w);
      }
      for (const r of readings) {
        if (!Number.isFinite(r.ts)) continue;
        if (insert(w, r) && r.correlationId) remember(w, r.ts, r.correlationId);
      }
      const cutoff = w.newestTs - keepMs;
      const drop = w.count > 0 && w.ts[0]! < cutoff ? lowerBound(w, cutoff) : 0;
      if (drop > 0) {
        w.ts.copyWithin(0, drop, w.count);
        w.values.copyWithin(0, drop * Q, w.count * Q);
        w.count -= drop;
        for (const end of w.binRevisions.keys()) if (end < cutoff) w.binRevisions.delete(end);
      }
    },
    get: (key) => windows.get(key),
    between(key, fromTs, toTs) {
      const w = windows.get(key);
      if (!w) return [];
      const out: WindowReading[] = [];
      for (let row = lowerBound(w, fromTs), end = lowerBound(w, toTs, true); row < end; row++) {
        const values: Record<string, number> = {};
        for (let q = 0; q < Q; q++) {
          const v = w.values[row * Q + q]!;
          if (!Number.isNaN(v)) values[FEATURE_QUANTITIES[q]!] = v;
        }
        out.push({ ts: w.ts[row]!, values });
      }
      return out;
    },
    scan(key, fromTs, toTs) {
      const result: WindowScan = { readings: 0, lastSoilMoistureTs: Number.NEGATIVE_INFINITY, lastWeatherTs: Number.NEGATIVE_INFINITY, soilHours: 0 };
      const w = windows.get(key);
      if (!w) return result;
      let lastHour = Number.NaN;
      for (let row = lowerBound(w, fromTs), end = lowerBound(w, toTs, true); row < end; row++) {
        const ts = w.ts[row]!;
        result.readings++;
        if (!Number.isNaN(w.values[row * Q + SOIL]!)) {
          result.lastSoilMoistureTs = ts;
          const hour = Math.ceil(ts / HOUR_MS);
          if (hour !== lastHour) result.soilHours++;
          lastHour = hour;
        }
        if (weatherComplete(w, row)) result.lastWeatherTs = ts;
      }
      return result;
    },
    et0Reports(key, fromTs, toTs) {
      const reports = { hours: [] as number[], newestTs: Number.NEGATIVE_INFINITY };
      const w = windows.get(key);
      if (!w) return reports;
      for (let row = lowerBound(w, fromTs), end = lowerBound(w, toTs, true); row < end; row++) {
        if (Number.isNaN(w.values[row * Q + ET0]!)) continue;
        const hour = Math.ceil(w.ts[row]! / HOUR_MS);
        if (reports.hours.at(-1) !== hour) reports.hours.push(hour);
        reports.newestTs = w.ts[row]!;
      }
      return reports;
    },
    keys: () => windows.keys(),
    clear: (key) => void windows.delete(key),
  };
}
