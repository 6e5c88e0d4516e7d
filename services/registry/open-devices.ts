import type { ControlPlane } from '../shared/database/control-plane.js';
import type { OpenableDeviceRepository } from './device.js';
import { createPostgresDeviceRepository } from './postgres-devices.js';
import { createSqliteDeviceRepository } from './sqlite-devices.js';

/** The registry's file in the data folder on the SQLite backend. */
export const REGISTRY_FILE = 'registry.db';

/** The device registry on the control plane's backend; call `open()` before using it. */
export function createDeviceRepository(plane: ControlPlane): OpenableDeviceRepository {
  return plane.kind === 'postgres' ? createPostgresDeviceRepository(plane) : createSqliteDeviceRepository(plane.path(REGISTRY_FILE));
}
