/**
 * The irrigation model at run time: onnxruntime-node, checked against its card and against this
 * code's feature module before it serves anything, batched over many fields per run.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import type { ModelCard } from './card.js';
import { ModelCardMismatch, ModelChecksumMismatch, ModelInvalidInput } from './errors.js';
import { FEATURE_COUNT, FEATURE_NAMES } from './features.js';

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
  /** Hours until depletion reaches RAW: 0 if reached, null if not within 240 h. */
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
 * Hours until depletion reaches RAW, by linear interpolation through (0, now), (24, d24),
 * (48, d48) and beyond at the 24–48 h rate.
 */
export function hoursToThreshold(now: number, d24: number, d48: number, raw: number): number | null {
  if (now >= raw) return 0;
  if (d24 >= raw) return (24 * (raw - now)) / Math.max(1e-9, d24 - now);
  if (d48 >= raw) return 24 + (24 * (raw - d24)) / Math.max(1e-9, d48 - d24);
  const rate = (d48 - d24) / 24;
  if (rate <= 0) return null;
  const hours = 48 + (raw - d48) / rate;
  return hours <= HORIZON_CAP_HOURS ? hours : null;
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
    throw ModelChecksumMismatch(`${options.modelPath} has sha256 ${sha256}, the card expects ${card.file.sha256}`);
  }
  const cardFeatures = card.features.map((f) => f.name);
  if (!sameList(cardFeatures, FEATURE_NAMES)) {
    throw ModelCardMismatch('The card lists other features than services/model/features.ts computes: retrain the model', {
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
    throw ModelCardMismatch(
      `Session inputs ${session.inputNames.join(',')} / outputs ${session.outputNames.join(',')} differ from the card`,
    );
  }
  if (input.isTensor && (input.type !== 'float32' || input.shape.at(-1) !== FEATURE_COUNT)) {
    throw ModelCardMismatch(`Model input is ${input.type}[…, ${String(input.shape.at(-1))}], expected float32[…, ${FEATURE_COUNT}]`);
  }
  if (output.isTensor && output.shape.at(-1) !== card.outputs.length) {
    throw ModelCardMismatch(`Model output has ${String(output.shape.at(-1))} columns, the card lists ${card.outputs.length}`);
  }
  const index = (name: string) => FEATURE_NAMES.indexOf(name as (typeof FEATURE_NAMES)[number]);
  const iTaw = index('taw_mm');
  const iRaw = index('raw_mm');
  const iNow = index('depletion_smoothed_mm');

  async function run(rows: readonly ArrayLike<number>[]): Promise<Float32Array> {
    const data = new Float32Array(rows.length * FEATURE_COUNT);
    rows.forEach((row, r) => {
      if (row.length !== FEATURE_COUNT) {
        throw ModelInvalidInput(`row ${r} has ${row.length} features, the model takes ${FEATURE_COUNT}`, { row: r });
      }
      for (let c = 0; c < FEATURE_COUNT; c++) {
        const v = row[c]!;
        if (!Number.isFinite(v)) {
          throw ModelInvalidInput(`row ${r}: ${FEATURE_NAMES[c]} is not finite`, { row: r, feature: FEATURE_NAMES[c] });
        }
        data[r * FEATURE_COUNT + c] = v;
      }
    });
    if (rows.length === 0) return new Float32Array(0);
    const tensor = new ort.Tensor('float32', data, [rows.length, FEATURE_COUNT]);
    const result = await session.run({ [card.onnx.input]: tensor });
    const out = result[card.onnx.output];
    if (!out) throw ModelCardMismatch(`Model returned no ${card.onnx.output}`);
    return out.data as Float32Array;
  }

  return {
    card,
    run,
    async predict(rows) {
      const out = await run(rows);
      return rows.map((row, r) => {
        const taw = row[iTaw]!;
        const raw = row[iRaw]!;
        const clip = (x: number) => Math.min(taw, Math.max(0, x));
        const now = clip(row[iNow]!);
        const d24 = clip(out[2 * r]!);
        const d48 = clip(out[2 * r + 1]!);
        const irrigate = d24 >= raw;
        return {
          depletionNowMm: now,
          depletion24hMm: d24,
          depletion48hMm: d48,
          tawMm: taw,
          rawMm: raw,
          irrigate,
          irrigationDepthMm: irrigate ? d24 : 0,
          hoursToRaw: hoursToThreshold(now, d24, d48, raw),
        };
      });
    },
    close: () => session.release(),
  };
}
