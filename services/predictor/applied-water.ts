/**
 * Water that people and valve controllers report (irrigation records) in the predictor's balance.
 *
 * The model sees the field through its soil probe, and the probe shows an irrigation only once the
 * water has reached it. Until then a recorded irrigation is credited directly: its net depth comes
 * off the depletion now and off the 24 h and 48 h forecasts (FAO-56: irrigation enters the balance
 * like effective rain), and the threshold crossing is recomputed. Once the probe has reported
 * `probeSettleMs` after the water ended, its readings carry the irrigation and the credit ends, so
 * the water is never counted twice for long. Water is taken to go in evenly over the record's
 * span: the part applied by now is credited, less the part the probe has had `probeSettleMs` to
 * show (a record spread over days, with the probe reporting all along, is mostly in its readings
 * already, or gone). Pure: the live predictor and replay use the same rule.
 */
import { predictionFrom, type IrrigationPrediction } from '../model/index.js';

/** One recorded irrigation as the predictor keeps it. */
export interface AppliedWater {
  id: string;
  startTs: number;
  endTs: number;
  /** Net depth, mm. */
  depthMm: number;
  /** When the record was made, epoch ms; absent where not known (live records, older points). */
  recordedTs?: number;
}

export interface AppliedWaterOptions {
  /** After the water ended, how long until the probe is trusted to show it, ms. Default 2 h. */
  probeSettleMs: number;
  /** Records kept per field behind the newest one, ms. Default 96 h (the features' 72 h and margin). */
  keepMs: number;
}

export const DEFAULT_APPLIED_WATER_OPTIONS: AppliedWaterOptions = { probeSettleMs: 2 * 3_600_000, keepMs: 96 * 3_600_000 };

/** What was credited to an evaluation (reported in provenance). */
export interface WaterCredit {
  /** Net depth credited, mm. */
  mm: number;
  /** The records credited. */
  ids: string[];
}

/** Recorded irrigations per field (`farm/field`), de-duplicated by id, oldest end first. */
export interface AppliedWaterLedger {
  add(key: string, items: Iterable<AppliedWater>): void;
  get(key: string): readonly AppliedWater[];
}

export function createAppliedWaterLedger(options: Partial<AppliedWaterOptions> = {}): AppliedWaterLedger {
  const keepMs = options.keepMs ?? DEFAULT_APPLIED_WATER_OPTIONS.keepMs;
  const byField = new Map<string, AppliedWater[]>();
  return {
    add(key, items) {
      const list = byField.get(key) ?? [];
      for (const item of items) if (!list.some((x) => x.id === item.id)) list.push(item);
      list.sort((a, b) => a.endTs - b.endTs);
      const newest = list.at(-1)?.endTs ?? 0;
      byField.set(key, list.filter((x) => x.endTs >= newest - keepMs));
    },
    get: (key) => byField.get(key) ?? [],
  };
}

/**
 * Since when the water of `r` is not in the probe's readings up to `lastSoilTs`: its start, or
 * `probeSettleMs` before that newest reading when later (what went in before, the probe has shown).
 */
export function unseenFrom(r: AppliedWater, lastSoilTs: number, options: Pick<AppliedWaterOptions, 'probeSettleMs'> = DEFAULT_APPLIED_WATER_OPTIONS): number {
  return Math.max(r.startTs, lastSoilTs - options.probeSettleMs);
}

/**
 * The water of `records` the probe cannot show yet at `now`, given its newest soil moisture
 * reading at `lastSoilTs`. Records that start after `now` do not exist yet (replay).
 */
export function unseenWater(records: readonly AppliedWater[], lastSoilTs: number, now: number, options: Pick<AppliedWaterOptions, 'probeSettleMs'> = DEFAULT_APPLIED_WATER_OPTIONS): WaterCredit {
  let mm = 0;
  const ids: string[] = [];
  for (const r of records) {
    if (r.startTs > now || lastSoilTs >= r.endTs + options.probeSettleMs) continue;
    // A record without a span is water at one instant, not yet shown (above).
    const fraction = r.endTs <= r.startTs ? 1 : Math.max(0, Math.min(r.endTs, now) - unseenFrom(r, lastSoilTs, options)) / (r.endTs - r.startTs);
    if (fraction <= 0) continue;
    mm += r.depthMm * fraction;
    ids.push(r.id);
  }
  return { mm: Math.round(mm * 100) / 100, ids };
}

/**
 * A probe's reading moves by about this much without water (±0.005 m³/m³ over half a metre is 2.5 mm), mm: the
 * wetting step field learning also takes for unannounced water.
 */
export const PROBE_NOISE_MM = 3;

/**
 * The credit less what the probe already shows: `shownMm` is the rise of the probe's water (over
 * the managed root depth, mm) since the earliest credited record began. A probe in the wetted
 * layer shows an irrigation while it runs, and counting the record on top of it would take the
 * depletion below what is there (an advice withdrawn as "refilled", then sent again once the
 * credit ends two hours later); one that shows nothing yet gets the whole record. A rise within
 * the probe's noise (`PROBE_NOISE_MM`) shows nothing.
 */
export function lessShown(credit: WaterCredit, shownMm: number): WaterCredit {
  if (!(shownMm > PROBE_NOISE_MM) || credit.mm <= 0) return credit;
  return { mm: Math.round(Math.max(0, credit.mm - shownMm) * 100) / 100, ids: credit.ids };
}

/**
 * A prediction with `mm` of water added to the root zone now: depletion now and ahead lower by
 * it (never below field capacity), advice and threshold crossing recomputed the model's way.
 */
export function creditPrediction(p: IrrigationPrediction, mm: number, localHour?: number): IrrigationPrediction {
  // Water beyond field capacity drains below the roots (FAO-56 deep percolation): it refills, no more.
  const refill = Math.min(mm, p.depletionNowMm);
  if (!(refill > 0)) return p;
  return predictionFrom(
    { now: p.depletionNowMm - refill, d24: p.depletion24hMm - refill, d48: p.depletion48hMm - refill, taw: p.tawMm, raw: p.rawMm },
    localHour,
  );
}
