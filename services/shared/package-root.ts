import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The folder of fieldhook's package.json: the repository, the container's /app, or an installed
 * package. Files shipped next to the code (the model, device profiles) are found from there, so
 * `fieldhook start` works from any directory. Undefined when no package.json is within reach.
 */
export function packageRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  return undefined;
}
