import { ENV_PREFIX } from '../../services/shared/config.js';

/** Settings by their names in the configuration (`HTTP_PORT`) as the environment gives them (`FIELDHOOK_HTTP_PORT`). */
export function asEnvironment(settings: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(settings).map(([key, value]) => [ENV_PREFIX + key, value]));
}
