import { Errors } from '../shared/error-catalog.js';

/** Crop parameters from FAO-56 Tables 11 (stage lengths), 12 (Kc) and 22 (Zr max, p); Zr min from chapter 8. */
export interface CropPreset {
  name: CropName;
  /** Single crop coefficients for the initial, mid-season and end of the late season, –. */
  kcIni: number;
  kcMid: number;
  kcEnd: number;
  /** Lengths of the initial, development, mid-season and late-season stages, days. */
  stageDays: readonly [number, number, number, number];
  /** Maximum crop height, m (for the climate adjustment of Kc). */
  heightM: number;
  /** Maximum effective rooting depth, m (Table 22), reached at the end of the development stage. */
  rootDepthM: number;
  /**
   * Effective rooting depth over the initial stage, m. FAO-56 chapter 8 lets Zr grow from the
   * depth the seed or transplant draws from (about 0.15–0.2 m for a seeded crop, the root ball's
   * depth for a transplant) to the Table 22 maximum.
   */
  rootDepthMinM: number;
  /** Soil water depletion fraction for no stress at ETc ≈ 5 mm/day, –. */
  p: number;
}

/** What the crop coefficient curve needs from a crop. */
export type KcCurve = Pick<CropPreset, 'kcIni' | 'kcMid' | 'kcEnd' | 'stageDays'>;

export const CROP_NAMES = [
  'tomato',
  'maize-field',
  'maize-sweet',
  'wheat-spring',
  'potato',
  'onion',
  'cotton',
  'soybean',
  'sugar-beet',
  'lettuce',
] as const;
export type CropName = (typeof CROP_NAMES)[number];

/**
 * One representative line per crop. Where FAO-56 gives a range (rooting depth, Kc end) the
 * value is a typical irrigated one; stage lengths are one of the regional rows of Table 11.
 * Minimum rooting depths: 0.15 m for seeded crops, 0.2 m for seed tubers (planted about that
 * deep), 0.25 m for transplanted tomato.
 */
export const CROPS: Readonly<Record<CropName, CropPreset>> = {
  tomato: { name: 'tomato', kcIni: 0.6, kcMid: 1.15, kcEnd: 0.8, stageDays: [30, 40, 40, 25], heightM: 0.6, rootDepthM: 1.0, rootDepthMinM: 0.25, p: 0.4 },
  'maize-field': { name: 'maize-field', kcIni: 0.3, kcMid: 1.2, kcEnd: 0.6, stageDays: [30, 40, 50, 30], heightM: 2.0, rootDepthM: 1.2, rootDepthMinM: 0.15, p: 0.55 },
  'maize-sweet': { name: 'maize-sweet', kcIni: 0.3, kcMid: 1.15, kcEnd: 1.05, stageDays: [20, 25, 25, 10], heightM: 1.5, rootDepthM: 0.9, rootDepthMinM: 0.15, p: 0.5 },
  'wheat-spring': { name: 'wheat-spring', kcIni: 0.3, kcMid: 1.15, kcEnd: 0.3, stageDays: [20, 25, 60, 30], heightM: 1.0, rootDepthM: 1.2, rootDepthMinM: 0.15, p: 0.55 },
  potato: { name: 'potato', kcIni: 0.5, kcMid: 1.15, kcEnd: 0.75, stageDays: [25, 30, 45, 30], heightM: 0.6, rootDepthM: 0.5, rootDepthMinM: 0.2, p: 0.35 },
  onion: { name: 'onion', kcIni: 0.7, kcMid: 1.05, kcEnd: 0.75, stageDays: [15, 25, 70, 40], heightM: 0.4, rootDepthM: 0.45, rootDepthMinM: 0.15, p: 0.3 },
  cotton: { name: 'cotton', kcIni: 0.35, kcMid: 1.18, kcEnd: 0.6, stageDays: [30, 50, 60, 55], heightM: 1.35, rootDepthM: 1.3, rootDepthMinM: 0.15, p: 0.65 },
  soybean: { name: 'soybean', kcIni: 0.4, kcMid: 1.15, kcEnd: 0.5, stageDays: [20, 30, 60, 25], heightM: 0.75, rootDepthM: 1.0, rootDepthMinM: 0.15, p: 0.5 },
  'sugar-beet': { name: 'sugar-beet', kcIni: 0.35, kcMid: 1.2, kcEnd: 0.7, stageDays: [30, 45, 90, 15], heightM: 0.5, rootDepthM: 1.0, rootDepthMinM: 0.15, p: 0.55 },
  lettuce: { name: 'lettuce', kcIni: 0.7, kcMid: 1.0, kcEnd: 0.95, stageDays: [20, 30, 15, 10], heightM: 0.3, rootDepthM: 0.4, rootDepthMinM: 0.15, p: 0.3 },
};

/** Look up a crop by name (`maize-field`, `maize_field`, `Maize field` all work). */
export function getCrop(name: string): CropPreset {
  const key = name.trim().toLowerCase().replace(/[\s_]+/g, '-');
  const crop = (CROPS as Record<string, CropPreset | undefined>)[key];
  if (!crop) {
    throw Errors.agronomyUnknownPreset(`Unknown crop "${name}"; known: ${CROP_NAMES.join(', ')}`, { field: 'crop' });
  }
  return crop;
}

/** Total season length, days. */
export function seasonLength(crop: Pick<CropPreset, 'stageDays'>): number {
  return crop.stageDays.reduce((a, b) => a + b, 0);
}

export type GrowthStage = 'before-sowing' | 'initial' | 'development' | 'mid-season' | 'late-season' | 'harvested';

/** Growth stage on a day after sowing (day 0 = sowing day). */
export function growthStage(crop: Pick<CropPreset, 'stageDays'>, daysAfterSowing: number): GrowthStage {
  if (daysAfterSowing < 0) return 'before-sowing';
  const [ini, dev, mid, late] = crop.stageDays;
  if (daysAfterSowing < ini) return 'initial';
  if (daysAfterSowing < ini + dev) return 'development';
  if (daysAfterSowing < ini + dev + mid) return 'mid-season';
  if (daysAfterSowing < ini + dev + mid + late) return 'late-season';
  return 'harvested';
}

/**
 * Climate adjustment of Kc mid and Kc end (FAO-56 Eq. 62 and 65): the tables hold for a
 * sub-humid climate (RHmin ≈ 45 %, u2 ≈ 2 m/s); drier and windier air raises Kc of tall crops.
 * FAO-56 does not adjust a Kc end below 0.45 (crops left to dry in the field).
 * @param kcTable Kc from Table 12, –
 * @param u2 mean wind speed at 2 m over the stage, m/s (valid 1–6)
 * @param rhMinPct mean minimum relative humidity over the stage, % (valid 20–80)
 * @param heightM mean crop height over the stage, m (valid 0.1–10)
 */
export function adjustKcForClimate(kcTable: number, u2: number, rhMinPct: number, heightM: number): number {
  if (kcTable < 0.45) return kcTable;
  const u = Math.min(6, Math.max(1, u2));
  const rh = Math.min(80, Math.max(20, rhMinPct));
  const h = Math.min(10, Math.max(0.1, heightM));
  return kcTable + (0.04 * (u - 2) - 0.004 * (rh - 45)) * (h / 3) ** 0.3;
}

/** Kc mid and Kc end of a crop, adjusted to a climate (see {@link adjustKcForClimate}). */
export function climateAdjustedCrop(crop: CropPreset, u2: number, rhMinPct: number): CropPreset {
  return {
    ...crop,
    kcMid: adjustKcForClimate(crop.kcMid, u2, rhMinPct, crop.heightM),
    kcEnd: adjustKcForClimate(crop.kcEnd, u2, rhMinPct, crop.heightM),
  };
}

/**
 * Crop coefficient on a day after sowing (FAO-56 Fig. 25 and Eq. 66): constant Kc ini over the
 * initial stage, linear to Kc mid over development, constant over mid-season and linear to
 * Kc end over the late season. Outside the season the field is bare: Kc ini is kept as a
 * stand-in for soil evaporation.
 * @param daysAfterSowing days since sowing (may be fractional)
 */
export function cropCoefficient(crop: KcCurve, daysAfterSowing: number): number {
  const [ini, dev, mid, late] = crop.stageDays;
  const d = daysAfterSowing;
  if (d < 0) return crop.kcIni;
  if (d < ini) return crop.kcIni;
  if (d < ini + dev) return crop.kcIni + ((d - ini) / dev) * (crop.kcMid - crop.kcIni);
  if (d < ini + dev + mid) return crop.kcMid;
  if (d < ini + dev + mid + late) return crop.kcMid + ((d - ini - dev - mid) / late) * (crop.kcEnd - crop.kcMid);
  return crop.kcEnd;
}

/**
 * Effective rooting depth on a day after sowing (FAO-56 chapter 8): Zr min over the initial
 * stage, growing linearly to Zr max over the development stage (as the canopy, and with it Kc,
 * develops), Zr max from mid-season on. Before sowing the bare soil's top layer counts: Zr min.
 *
 * Interpolated by days, not growing degree days: the stage lengths that carry the crop through
 * the season are in days (Table 11, and what a field overrides), FAO-56 tabulates no base
 * temperatures or thermal times per stage, and the predictor keeps 72 h of readings, not the
 * season's temperatures a degree-day sum would need. A season running warmer or cooler than
 * the table is corrected by overriding the stage lengths.
 * @param daysAfterSowing days since sowing (may be fractional)
 * @returns Zr, m
 */
export function rootDepthOn(stageDays: CropPreset['stageDays'], minM: number, maxM: number, daysAfterSowing: number): number {
  const [ini, dev] = stageDays;
  const lo = Math.min(minM, maxM);
  if (daysAfterSowing <= ini) return lo;
  if (dev <= 0 || daysAfterSowing >= ini + dev) return maxM;
  return lo + ((daysAfterSowing - ini) / dev) * (maxM - lo);
}
