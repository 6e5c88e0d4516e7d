import { join } from 'node:path';
import { PIPELINE_CONFIG } from '../host/config.js';
import type { PipelineConfig } from '../host/fieldhook.js';
import { createDeviceRepository } from '../registry/open-devices.js';
import type { DeviceRepository } from '../registry/device.js';
import { loadConfig } from '../shared/config.js';
import { closeControlPlane, createControlPlane } from '../shared/database/control-plane.js';
import { Errors } from '../shared/error-catalog.js';
import type { InfluxTarget } from '../shared/influx.js';
import { createLogger, silentLogger } from '../shared/logger.js';
import type { FieldProfileRepository } from '../predictor/field-profiles.js';
import { createFieldProfileRepository } from '../predictor/open-field-profiles.js';
import { openPredictorDb } from '../predictor/sqlite-predictor-store.js';
import { systemClock } from '../shared/clock.js';
import type { SqliteDatabase } from '../shared/sqlite.js';
import { readPipelineRecord, runningPipeline, type PipelineRecord } from './local-pipeline.js';

/** Validated settings for a CLI command (the same schema `fieldhook start` uses). */
export function cliConfig(): PipelineConfig {
  return loadConfig(PIPELINE_CONFIG);
}

/** Open the device registry `fieldhook start` uses (DATA_DIR's, or FIELDHOOK_DATABASE_URL's), run `fn`, and close it. */
export async function withDevices<T>(fn: (devices: DeviceRepository, config: PipelineConfig) => Promise<T>): Promise<T> {
  const config = cliConfig();
  const plane = createControlPlane(config, silentLogger());
  const devices = createDeviceRepository(plane);
  try {
    await devices.open();
    return await fn(devices, config);
  } finally {
    await devices.close();
    await closeControlPlane(plane);
  }
}

/** Open the field profiles `fieldhook start` uses (DATA_DIR's predictor.db, or FIELDHOOK_DATABASE_URL's), run `fn`, and close them. */
export async function withFields<T>(fn: (repo: FieldProfileRepository, config: PipelineConfig) => Promise<T>, config: PipelineConfig = cliConfig()): Promise<T> {
  const plane = createControlPlane(config, createLogger({ level: 'warn' }));
  let db: SqliteDatabase | undefined;
  const repo = createFieldProfileRepository(plane, { clock: systemClock, db: () => (db ??= openPredictorDb(join(config.DATA_DIR, 'predictor.db'))) });
  try {
    await repo.open();
    return await fn(repo, config);
  } finally {
    await repo.close();
    db?.close();
    await closeControlPlane(plane);
  }
}

/** Commands print JSON so that scripts can use them. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** The pipeline `fieldhook start` runs on this data folder, if it runs. */
export function localPipeline(config: PipelineConfig = cliConfig()): PipelineRecord | undefined {
  return runningPipeline(config.DATA_DIR);
}

/**
 * The InfluxDB the pipeline writes to: FIELDHOOK_INFLUX_URL when set, otherwise the one the
 * running pipeline of this data folder serves (its local InfluxDB included).
 */
export function influxTargetOf(config: PipelineConfig): InfluxTarget {
  const url = config.INFLUX_URL ?? localPipeline(config)?.influxUrl;
  if (!url) {
    const last = readPipelineRecord(config.DATA_DIR);
    throw Errors.cliInvalid(
      last
        ? `fieldhook is not running for ${config.DATA_DIR} (it last ran with InfluxDB at ${last.influxUrl}): start it, or set FIELDHOOK_INFLUX_URL`
        : `No InfluxDB: run fieldhook start (its local InfluxDB is found through ${config.DATA_DIR}), or set FIELDHOOK_INFLUX_URL`,
    );
  }
  return { url, token: config.INFLUX_TOKEN, org: config.INFLUX_ORG, bucket: config.INFLUX_BUCKET, timeoutMs: config.INFLUX_TIMEOUT_MS };
}

/**
 * A number option, when given (FH_ERR_CLI_INVALID naming it otherwise). Blank is not 0: an unset
 * shell variable (`--lat "$LAT"`) would otherwise put a device on the equator.
 */
export function optionalNumber(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = value.trim() === '' ? Number.NaN : Number(value);
  if (!Number.isFinite(n)) throw Errors.cliInvalid(`--${name} must be a number (got "${value}")`);
  return n;
}

/** A whole-number option within `min`–`max` (FH_ERR_CLI_INVALID naming it otherwise). */
export function wholeNumber(name: string, value: string, min: number, max: number): number {
  const n = /^-?\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!(Number.isSafeInteger(n) && n >= min && n <= max)) throw Errors.cliInvalid(`${name} must be a whole number from ${min} to ${max}`);
  return n;
}
