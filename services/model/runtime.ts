/**
 * The irrigation model at run time: onnxruntime-node, checked against its card and against this
 * code's feature module before it serves anything, batched over many fields per run.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import type { ModelCard } from './card.js';
import { FEATURE_COUNT, FEATURE_NAMES } from './features.js';
import { Errors } from '../shared/error-catalog.js';

export interface IrrigationModelOptions {
  /** Path of model.onnx. */
  modelPath: string;
  /** Path of the card, model.json. */
  cardPath: string;
  /** Threads for one inference; 1 keeps latency flat on a small gateway. Default 1. */
  intraOpNumThreads?: number;
}

export const DEFAULT_IRRIGATION_MODEL_OPTIONS = {
  modelPath: 'models/irrigation/model.onnx',
  cardPath: 'models/irrigation/model.json',
  intraOpNumThreads: 1,
} as const satisfies IrrigationModelOptions;

/** What the model says about one field. */
export interface IrrigationPrediction {
  /** Root-zone depletion now (smoothed sensor estimate, clipped to 0–TAW), mm. */
  depletionNowMm: number;
  /** Predicted depletion 24 h and 48 h ahead without irrigation, clipped to 0–TAW, mm. */
  depletion24hMm: number;
  depletion48hMm: number;
  tawMm: number;
  rawMm: number;
  /** FAO-56 rule at the 24 h horizon: depletion will have reached RAW. */
  irrigate: boolean;
  /** Net depth that refills to field capacity at the 24 h horizon when irrigating, else 0, mm. */
  irrigationDepthMm: number;
  /** Hours until depletion reaches RAW (following the day's demand): 0 if reached, null if not within 240 h. */
  hoursToRaw: number | null;
}

export interface IrrigationModel {
  readonly card: ModelCard;
  /** Raw model outputs for rows of features (in card order): [d24, d48] per row, mm. */
  run(rows: readonly ArrayLike<number>[]): Promise<Float32Array>;
  /** Predictions for many fields in one inference. */
  predict(rows: readonly ArrayLike<number>[]): Promise<IrrigationPrediction[]>;
  close(): Promise<void>;
}

const HORIZON_CAP_HOURS = 240;

/**
 * Relative evaporative demand by local clock hour: crops draw water by day, with a midday peak,
 * and hardly at night. Shapes the path between the 24 h and 48 h forecasts.
 */
function demandAt(localHour: number): number {
  const h = ((localHour % 24) + 24) % 24;
  return h > 6 && h < 19 ? 0.03 + Math.sin((Math.PI * (h - 6)) / 13) : 0.03;
}

/** Cumulative demand from local midnight, per quarter hour, over three days (computed once). */
const CUMULATIVE_DEMAND = (() => {
  const table = new Float64Array(4 * 72 + 1);
  for (let i = 1; i < table.length; i++) table[i] = table[i - 1]! + demandAt((i - 0.5) / 4);
  return table;
})();

/** Cumulative demand at `hour` hours after local midnight (0–72), interpolated. */
function cumulativeDemand(hour: number): number {
  const x = Math.min(4 * 72, Math.max(0, hour * 4));
  const i = Math.min(4 * 72 - 1, Math.floor(x));
  return CUMULATIVE_DEMAND[i]! + (x - i) * (CUMULATIVE_DEMAND[i + 1]! - CUMULATIVE_DEMAND[i]!);
}

/** The hour (after local midnight) at which the cumulative demand reaches `target`. */
function hourOfDemand(target: number): number {
  let lo = 0;
  let hi = CUMULATIVE_DEMAND.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (CUMULATIVE_DEMAND[mid]! < target) lo = mid;
    else hi = mid;
  }
  const a = CUMULATIVE_DEMAND[lo]!;
  const b = CUMULATIVE_DEMAND[hi]!;
  return (lo + (b > a ? Math.min(1, Math.max(0, (target - a) / (b - a))) : 0)) / 4;
}

/**
 * The prediction for depletions now, 24 h and 48 h ahead (mm): each clipped to 0–TAW, advice when
 * the 24 h depletion reaches RAW, and the hour RAW is crossed. One rule for the model's outputs
 * and for whatever adjusts them afterwards (recorded water, what a field has learnt).
 * @param localHour local clock hour of the prediction, 0–24 (optional)
 */
export function predictionFrom(d: { now: number; d24: number; d48: number; taw: number; raw: number }, localHour?: number): IrrigationPrediction {
  const clip = (x: number) => Math.min(d.taw, Math.max(0, x));
  const now = clip(d.now);
  const d24 = clip(d.d24);
  const d48 = clip(d.d48);
  const irrigate = d24 >= d.raw;
  return {
    depletionNowMm: now,
    depletion24hMm: d24,
    depletion48hMm: d48,
    tawMm: d.taw,
    rawMm: d.raw,
    irrigate,
    irrigationDepthMm: irrigate ? d24 : 0,
    hoursToRaw: hoursToThreshold(now, d24, d48, d.raw, localHour),
  };
}

/**
 * Hours until depletion reaches RAW, from the forecasts now, 24 h and 48 h ahead. Between them
 * the depletion follows the day's evaporative demand when the local hour is known (so a field
 * that will cross RAW tomorrow crosses it tomorrow morning, not at night), linearly otherwise;
 * beyond 48 h it continues at the 24–48 h rate.
 * @param localHour local clock hour of the prediction, 0–24 (optional)
 * @returns hours: 0 if RAW is already reached, null if not within 240 h
 */
export function hoursToThreshold(now: number, d24: number, d48: number, raw: number, localHour?: number): number | null {
  if (now >= raw) return 0;
  const crossing = (from: number, to: number, offset: number): number | null => {
    if (to < raw) return null;
    const fraction = (raw - from) / Math.max(1e-9, to - from);
    if (localHour === undefined) return offset + 24 * fraction;
    const start = (((localHour + offset) % 24) + 24) % 24;
    const c0 = cumulativeDemand(start);
    const target = c0 + fraction * (cumulativeDemand(start + 24) - c0);
    return offset + hourOfDemand(target) - start;
  };
  const first = crossing(now, d24, 0);
  if (first !== null) return first;
  const second = crossing(d24, d48, 24);
  if (second !== null) return second;
  const rate = (d48 - d24) / 24;
  if (rate <= 0) return null;
  const hours = 48 + (raw - d48) / rate;
  return hours <= HORIZON_CAP_HOURS ? hours : null;
}

/** Local clock hour of a feature row (from its hour_sin/hour_cos columns). */
export function localHourOf(row: ArrayLike<number>): number {
  const angle = Math.atan2(row[FEATURE_NAMES.indexOf('hour_sin')]!, row[FEATURE_NAMES.indexOf('hour_cos')]!);
  return (((angle * 24) / (2 * Math.PI)) % 24 + 24) % 24;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Load and check the model; fails with a coded error when the card, file or features disagree. */
export async function createIrrigationModel(options: IrrigationModelOptions): Promise<IrrigationModel> {
  const [bytes, cardText] = await Promise.all([readFile(options.modelPath), readFile(options.cardPath, 'utf8')]);
  const card = JSON.parse(cardText) as ModelCard;
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (sha256 !== card.file.sha256) {
    throw Errors.modelChecksum(`${options.modelPath} has sha256 ${sha256}, the card expects ${card.file.sha256}`);
  }
  const cardFeatures = card.features.map((f) => f.name);
  if (!sameList(cardFeatures, FEATURE_NAMES)) {
    throw Errors.modelCardMismatch('The card lists other features than services/model/features.ts computes: retrain the model', {
      card: cardFeatures,
      code: FEATURE_NAMES,
    });
  }
  const session = await ort.InferenceSession.create(bytes, {
    intraOpNumThreads: options.intraOpNumThreads ?? DEFAULT_IRRIGATION_MODEL_OPTIONS.intraOpNumThreads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  const input = session.inputMetadata.find((m) => m.name === card.onnx.input);
  const output = session.outputMetadata.find((m) => m.name === card.onnx.output);
  if (!sameList(session.inputNames, [card.onnx.input]) || !input || !output) {
    throw Errors.modelCardMismatch(
      `Session inputs ${session.inputNames.join(',')} / outputs ${session.outputNames.join(',')} differ from the card`,
    );
  }
  if (input.isTensor && (input.type !== 'float32' || input.shape.at(-1) !== FEATURE_COUNT)) {
    throw Errors.modelCardMismatch(`Model input is ${input.type}[…, ${String(input.shape.at(-1))}], expected float32[…, ${FEATURE_COUNT}]`);
  }
  if (output.isTensor && output.shape.at(-1) !== card.outputs.length) {
    throw Errors.modelCardMismatch(`Model output has ${String(output.shape.at(-1))} columns, the card lists ${card.outputs.length}`);
  }
  const index = (name: string) => FEATURE_NAMES.indexOf(name as (typeof FEATURE_NAMES)[number]);
  const iTaw = index('taw_mm');
  const iRaw = index('raw_mm');
  const iNow = index('depletion_smoothed_mm');

  async function run(rows: readonly ArrayLike<number>[]): Promise<Float32Array> {
    const data = new Float32Array(rows.length * FEATURE_COUNT);
    rows.forEach((row, r) => {
      if (row.length !== FEATURE_COUNT) {
        throw Errors.modelInvalidInput(`row ${r} has ${row.length} features, the model takes ${FEATURE_COUNT}`, { row: r });
      }
      for (let c = 0; c < FEATURE_COUNT; c++) {
        const v = row[c]!;
        if (!Number.isFinite(v)) {
          throw Errors.modelInvalidInput(`row ${r}: ${FEATURE_NAMES[c]} is not finite`, { row: r, feature: FEATURE_NAMES[c] });
        }
        data[r * FEATURE_COUNT + c] = v;
      }
    });
    if (rows.length === 0) return new Float32Array(0);
    const tensor = new ort.Tensor('float32', data, [rows.length, FEATURE_COUNT]);
    const result = await session.run({ [card.onnx.input]: tensor });
    const out = result[card.onnx.output];
    if (!out) throw Errors.modelCardMismatch(`Model returned no ${card.onnx.output}`);
    return out.data as Float32Array;
  }

  return {
    card,
    run,
    async predict(rows) {
      const out = await run(rows);
      return rows.map((row, r) => {
        return predictionFrom({ now: row[iNow]!, d24: out[2 * r]!, d48: out[2 * r + 1]!, taw: row[iTaw]!, raw: row[iRaw]! }, localHourOf(row));
      });
    },
    close: () => session.release(),
  };
}
