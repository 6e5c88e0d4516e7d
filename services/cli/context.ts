import { join } from 'node:path';
import { PIPELINE_CONFIG } from '../host/config.js';
import type { PipelineConfig } from '../host/fieldhook.js';
import { createSqliteDeviceRepository } from '../registry/sqlite-devices.js';
import type { DeviceRepository } from '../registry/device.js';
import { loadConfig } from '../shared/config.js';

/** Validated settings for a CLI command (the same schema `fieldhook start` uses). */
export function cliConfig(): PipelineConfig {
  return loadConfig(PIPELINE_CONFIG);
}

/** Open the device registry of this DATA_DIR, run `fn`, and close it. */
export async function withDevices<T>(fn: (devices: DeviceRepository, config: PipelineConfig) => Promise<T>): Promise<T> {
  const config = cliConfig();
  const devices = createSqliteDeviceRepository(join(config.DATA_DIR, 'registry.db'));
  try {
    return await fn(devices, config);
  } finally {
    devices.close();
  }
}

/** Commands print JSON so that scripts can use them. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
