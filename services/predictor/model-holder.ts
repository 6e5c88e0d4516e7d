/**
 * Holds the one ONNX session the predictor uses and swaps it when the model file changes. A new
 * file is loaded and checked (sha256 against its card, features against the code) before it
 * replaces the old one; if it is invalid, the old model keeps serving.
 */
import { unwatchFile, watchFile, type Stats } from 'node:fs';
import { createIrrigationModel, type IrrigationModel, type IrrigationModelOptions } from '../model/index.js';
import type { Logger } from '../shared/logger.js';
import { Errors } from '../shared/error-catalog.js';

/** Provenance of the model that produced a recommendation. */
export interface ModelIdentity {
  name: string;
  version: string;
  sha256: string;
}

export interface ModelHolderOptions extends IrrigationModelOptions {
  /** How often the files are polled for changes, ms (polling also works on network mounts). Default `DEFAULT_MODEL_POLL_MS`. */
  pollMs: number;
}

export const DEFAULT_MODEL_POLL_MS = 5_000;

export interface ModelHolder {
  /** Load the model (throws FH_ERR_PREDICT_MODEL_INVALID) and start watching its files. */
  start(): Promise<void>;
  current(): { model: IrrigationModel; identity: ModelIdentity };
  /** Load the files again now; resolves true when a new model was swapped in. */
  reload(): Promise<boolean>;
  stop(): Promise<void>;
}

export function identityOf(model: IrrigationModel): ModelIdentity {
  return { name: model.card.name, version: model.card.version, sha256: model.card.file.sha256 };
}

export function createModelHolder(options: ModelHolderOptions, logger: Logger, load = createIrrigationModel): ModelHolder {
  let model: IrrigationModel | undefined;
  let reloading: Promise<boolean> | undefined;
  const onChange = (curr: Stats, prev: Stats) => {
    if (curr.mtimeMs === prev.mtimeMs && curr.size === prev.size) return;
    void holder.reload();
  };

  async function loadChecked(): Promise<IrrigationModel> {
    try {
      return await load(options);
    } catch (err) {
      throw Errors.predictModelInvalid(`Cannot load ${options.modelPath}: ${(err as Error).message}`, {
        cause: (err as { code?: string }).code ?? 'unknown',
      });
    }
  }

  const holder: ModelHolder = {
    async start() {
      model = await loadChecked();
      logger.info(identityOf(model), 'irrigation model loaded');
      watchFile(options.modelPath, { interval: options.pollMs }, onChange);
      watchFile(options.cardPath, { interval: options.pollMs }, onChange);
    },
    current() {
      if (!model) throw Errors.predictModelInvalid('The model is not loaded yet');
      return { model, identity: identityOf(model) };
    },
    reload() {
      // The model and card are written one after the other: serialise reloads so the second
      // change (the card arriving) gets its own attempt.
      const run = async (): Promise<boolean> => {
        let next: IrrigationModel;
        try {
          next = await loadChecked();
        } catch (err) {
          logger.error({ err }, 'new irrigation model is invalid; the previous one keeps serving');
          return false;
        }
        const old = model;
        if (old && identityOf(old).sha256 === identityOf(next).sha256 && old.card.version === next.card.version) {
          await next.close();
          return false;
        }
        model = next;
        logger.info({ from: old ? identityOf(old) : null, to: identityOf(next) }, 'irrigation model reloaded');
        // In-flight runs hold their own reference; give them a moment before releasing.
        if (old) setTimeout(() => void old.close().catch(() => {}), 5_000).unref();
        return true;
      };
      reloading = (reloading ?? Promise.resolve(false)).then(run, run);
      return reloading;
    },
    async stop() {
      unwatchFile(options.modelPath, onChange);
      unwatchFile(options.cardPath, onChange);
      await reloading?.catch(() => {});
      await model?.close();
      model = undefined;
    },
  };
  return holder;
}
