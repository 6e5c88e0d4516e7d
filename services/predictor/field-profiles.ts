/**
 * Field configuration: what the model needs to know about a field besides its readings. Stored
 * through an async repository: SQLite beside the predictor's state (sqlite-predictor-store.ts),
 * or PostgreSQL shared by every instance (postgres-field-profiles.ts); open-field-profiles.ts
 * chooses.
 */
import { ID_PATTERN, ID_RULE } from '../shared/ids.js';
import { CROPS, getCrop, getSoil, seasonLength, type KcCurve } from '../agronomy/index.js';
import { daysAfterSowing, type FieldProfile } from '../model/index.js';
import { Errors } from '../shared/error-catalog.js';

/** A field as configured with `fieldhook fields add|update`. */
export interface FieldSettings {
  farm: string;
  field: string;
  /**
   * Crop preset name (services/agronomy/crops.ts); `kc` overrides its curve: Kc ini/mid/end and
   * the four stage lengths in days, which also set the season's length and the root growth.
   */
  crop: string;
  kc?: Partial<KcCurve>;
  /** Local sowing date, YYYY-MM-DD. */
  sowingDate: string;
  /**
   * Local harvest date, YYYY-MM-DD: the season ends at its start and no advice follows. Without
   * it the season ends when the crop's stages have run out (sowing + the four stage lengths).
   */
  harvestedOn?: string;
  /** Soil preset name; `thetaFc`/`thetaWp` (measured, m3/m3) override it. */
  soil?: string;
  thetaFc?: number;
  thetaWp?: number;
  /** Maximum (managed) root depth, m, reached at the end of the development stage (default: the crop's). */
  rootDepthM?: number;
  /** Root depth over the initial stage, m (default: the crop's; equal to `rootDepthM` for a fixed depth). */
  rootDepthMinM?: number;
  /** Depletion fraction p (default: the crop's). */
  p?: number;
  /** Irrigation system application efficiency, 0–1 (drip ≈ 0.9, sprinkler ≈ 0.75, furrow ≈ 0.6). */
  efficiency: number;
  /** Site, decimal degrees, m. */
  latitudeDeg: number;
  longitudeDeg: number;
  elevationM: number;
  /** Central meridian of the local standard time, degrees east (default: round(lon/15)·15). */
  tzLongitudeDeg?: number;
  /** Anemometer height, m (default 2). */
  windHeightM?: number;
}

/**
 * What a field's water budget is (soil retention, root depths, p, the Kc curve, sowing), from the
 * profile the settings resolve to: an advice judged on one budget and refilled on another was
 * corrected, not watered (decision.ts). Written member by member, so a store that keeps the
 * settings' objects with their keys in another order reads as the same budget.
 */
export function waterBudgetOf(p: FieldProfile): string {
  // Asked for every field of every round: made once per profile object (the field set keeps a
  // field's profile until its settings change).
  let budget = budgets.get(p);
  if (budget === undefined) {
    const { kcIni, kcMid, kcEnd, stageDays } = p.crop;
    budget = JSON.stringify([p.thetaFc, p.thetaWp, p.rootDepthM, p.rootDepthMinM ?? null, p.p, kcIni, kcMid, kcEnd, stageDays, p.sowingDate]);
    budgets.set(p, budget);
  }
  return budget;
}
const budgets = new WeakMap<FieldProfile, string>();

/** Profiles by field. */
export interface FieldProfileRepository {
  list(farm?: string): Promise<FieldSettings[]>;
  get(farm: string, field: string): Promise<FieldSettings | undefined>;
  add(settings: FieldSettings): Promise<FieldSettings>;
  update(farm: string, field: string, patch: Partial<Omit<FieldSettings, 'farm' | 'field'>>): Promise<FieldSettings>;
  remove(farm: string, field: string): Promise<boolean>;
  /**
   * A number that moves whenever a profile changes, through any instance (as
   * `DeviceRepository.changeVersion`): a reader re-reads only when it moved. Without it, or
   * while it is NaN, every look counts as a change.
   */
  changeVersion?(): number;
  close(): void;
}

/** A repository usable once `open()` resolved (PostgreSQL migrates and starts listening there). */
export interface OpenableFieldProfileRepository extends FieldProfileRepository {
  open(): Promise<void>;
  /** Resolves once its change feed is closed (PostgreSQL). */
  close(): void | Promise<void>;
}

/** Check settings before they are stored: a bad profile would only fail later, at prediction. */
export function validateFieldSettings(s: FieldSettings): FieldSettings {
  const problems: string[] = [];
  const num = (name: string, v: number | undefined, min: number, max: number) => {
    if (v !== undefined && !(Number.isFinite(v) && v >= min && v <= max)) problems.push(`${name} must be within ${min}–${max}`);
  };
  if (!s.farm || !s.field) problems.push('farm and field are required');
  // As device ids, farms and fields: they go into topics, InfluxDB tags, chat commands and events.
  else if (!ID_PATTERN.test(s.farm) || !ID_PATTERN.test(s.field)) problems.push(`farm and field must match ${ID_RULE}`);
  if (s.crop === undefined || s.crop === '') {
    problems.push(`a crop is required (a device of the field with one, or --crop); known: ${Object.keys(CROPS).join(', ')}`);
  } else {
    try {
      getCrop(s.crop);
    } catch {
      problems.push(`unknown crop "${s.crop}"; known: ${Object.keys(CROPS).join(', ')}`);
    }
  }
  if (s.soil !== undefined) {
    try {
      getSoil(s.soil);
    } catch {
      problems.push(`unknown soil "${s.soil}"`);
    }
  } else if (s.thetaFc === undefined || s.thetaWp === undefined) {
    problems.push('give a soil preset or both thetaFc and thetaWp');
  }
  if (s.sowingDate === undefined || s.sowingDate === '') problems.push('sowingDate is required (YYYY-MM-DD)');
  else if (!isDate(s.sowingDate)) problems.push('sowingDate must be YYYY-MM-DD');
  if (s.harvestedOn !== undefined) {
    if (!isDate(s.harvestedOn)) problems.push('harvestedOn must be YYYY-MM-DD');
    else if (isDate(s.sowingDate) && s.harvestedOn < s.sowingDate) problems.push(`harvestedOn (${s.harvestedOn}) must not be before sowingDate (${s.sowingDate})`);
  }
  if (s.kc !== undefined) {
    num('kc.kcIni', s.kc.kcIni, 0.1, 2);
    num('kc.kcMid', s.kc.kcMid, 0.1, 2);
    num('kc.kcEnd', s.kc.kcEnd, 0.1, 2);
    const d = s.kc.stageDays;
    if (d !== undefined && !(Array.isArray(d) && d.length === 4 && d.every((x) => Number.isInteger(x) && x >= 1 && x <= 365))) {
      problems.push('kc.stageDays must be four whole numbers of days, 1–365 each (initial, development, mid-season, late season)');
    }
  }
  num('efficiency', s.efficiency, 0.05, 1);
  num('latitudeDeg', s.latitudeDeg, -90, 90);
  num('longitudeDeg', s.longitudeDeg, -180, 180);
  num('elevationM', s.elevationM, -500, 9000);
  num('thetaFc', s.thetaFc, 0.01, 0.7);
  num('thetaWp', s.thetaWp, 0, 0.6);
  num('rootDepthM', s.rootDepthM, 0.05, 5);
  num('rootDepthMinM', s.rootDepthMinM, 0.05, 5);
  num('p', s.p, 0.05, 0.95);
  num('windHeightM', s.windHeightM, 0.5, 30);
  num('tzLongitudeDeg', s.tzLongitudeDeg, -180, 180);
  if (s.latitudeDeg === undefined || s.longitudeDeg === undefined || s.elevationM === undefined) problems.push('latitudeDeg, longitudeDeg and elevationM are required');
  if (problems.length === 0) {
    const { thetaFc, thetaWp } = soilOf(s);
    if (!(thetaFc > thetaWp)) problems.push('field capacity must exceed the wilting point');
    const crop = getCrop(s.crop);
    const max = s.rootDepthM ?? crop.rootDepthM;
    if (s.rootDepthMinM !== undefined && s.rootDepthMinM > max) problems.push(`rootDepthMinM (${s.rootDepthMinM}) must not exceed the root depth (${max})`);
  }
  if (problems.length > 0) throw Errors.fieldInvalid(`Invalid field ${s.farm}/${s.field}: ${problems.join('; ')}`, { problems });
  return s;
}

function isDate(v: unknown): v is string {
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(v)) return false;
  // 2026-13-45 is no date (and no Date: toISOString would throw); 2026-02-30 rolls over, so compare.
  const day = new Date(`${v}T00:00:00Z`);
  return !Number.isNaN(day.getTime()) && day.toISOString().slice(0, 10) === v;
}

function soilOf(s: FieldSettings): { thetaFc: number; thetaWp: number } {
  const preset = s.soil !== undefined ? getSoil(s.soil) : undefined;
  return { thetaFc: s.thetaFc ?? preset!.thetaFc, thetaWp: s.thetaWp ?? preset!.thetaWp };
}

/** The model's view of a field: presets resolved, measured values winning over them. */
export function profileOf(s: FieldSettings): FieldProfile {
  const crop = getCrop(s.crop);
  const { thetaFc, thetaWp } = soilOf(s);
  return {
    latitudeDeg: s.latitudeDeg,
    longitudeDeg: s.longitudeDeg,
    tzLongitudeDeg: s.tzLongitudeDeg ?? Math.round(s.longitudeDeg / 15) * 15,
    elevationM: s.elevationM,
    thetaFc,
    thetaWp,
    rootDepthM: s.rootDepthM ?? crop.rootDepthM,
    // A managed depth set without a minimum stays fixed only if the crop's minimum is not below it.
    rootDepthMinM: Math.min(s.rootDepthMinM ?? crop.rootDepthMinM, s.rootDepthM ?? crop.rootDepthM),
    p: s.p ?? crop.p,
    crop: {
      kcIni: s.kc?.kcIni ?? crop.kcIni,
      kcMid: s.kc?.kcMid ?? crop.kcMid,
      kcEnd: s.kc?.kcEnd ?? crop.kcEnd,
      stageDays: s.kc?.stageDays ?? crop.stageDays,
    },
    sowingDate: s.sowingDate,
    windHeightM: s.windHeightM ?? 2,
  };
}

/**
 * When the field's season ends, epoch ms: local midnight at the start of the harvest date, or
 * when the crop's stages have run out (sowing + the sum of the stage lengths) if no harvest is
 * recorded. A later harvest than the stages foresee is honoured (the crop stays at Kc end).
 */
export function seasonEndTs(s: Pick<FieldSettings, 'harvestedOn'>, profile: Pick<FieldProfile, 'sowingDate' | 'tzLongitudeDeg' | 'crop'>): number {
  const tzMs = (profile.tzLongitudeDeg / 15) * 3_600_000;
  const day = (date: string) => Date.parse(`${date}T00:00:00Z`) - tzMs;
  if (s.harvestedOn !== undefined) return day(s.harvestedOn);
  return day(profile.sowingDate) + seasonLength(profile.crop) * 86_400_000;
}

/**
 * Why the field's crop is not in the ground at `now` — `not sown yet (sowing …)`, `harvested …`,
 * `season over (…)` once its stages have run out — or undefined in season. No advice is given
 * off season; the status page and the forecast pull go by it too.
 */
export function offSeasonReason(s: FieldSettings, now: number, profile: FieldProfile = profileOf(s)): string | undefined {
  if (daysAfterSowing(profile, now) < 0) return `not sown yet (sowing ${profile.sowingDate})`;
  const end = seasonEndTs(s, profile);
  if (now < end) return undefined;
  return s.harvestedOn !== undefined ? `harvested ${s.harvestedOn}` : `season over (${new Date(end).toISOString().slice(0, 10)})`;
}

/** Whether the field's crop is in the ground at `now`: sown, and neither harvested nor past its stages. */
export function inSeason(s: FieldSettings, now: number): boolean {
  return offSeasonReason(s, now) === undefined;
}

/** Key of a field in maps and ids. */
export const fieldKey = (farm: string, field: string) => `${farm}/${field}`;
