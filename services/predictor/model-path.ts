/**
 * Where the model files are. The defaults are relative (`models/irrigation/…`): found from the
 * working directory when run in the repository or the container's /app, and otherwise next to
 * the installed package, so `fieldhook start` works from any directory.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { packageRoot } from '../shared/package-root.js';

export function resolveModelPath(path: string): string {
  if (isAbsolute(path) || existsSync(path)) return resolve(path);
  const root = packageRoot();
  const candidate = root ? join(root, path) : path;
  return existsSync(candidate) ? candidate : resolve(path);
}
