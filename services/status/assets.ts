/**
 * The page's static files, shipped as they are in `services/status/public/` (no build step): read
 * once from the package on first use and served from memory. Only the names listed here are
 * served, so no request path ever reaches the file system.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../shared/package-root.js';

const TYPES: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'render.js': 'text/javascript; charset=utf-8',
  'chart.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
  'icon.svg': 'image/svg+xml',
};

export interface Asset {
  type: string;
  body: Buffer;
}

/** The folder the files are read from: `<package>/services/status/public`. */
export function assetsDir(): string {
  const root = packageRoot();
  if (!root) throw new Error('fieldhook package folder not found: the status page files cannot be read');
  return join(root, 'services', 'status', 'public');
}

/** `get(name)`: the named file, or undefined for a name not on the list. */
export function createAssets(dir: string = assetsDir()): { get(name: string): Asset | undefined } {
  let files: Map<string, Asset> | undefined;
  return {
    get(name) {
      files ??= new Map(Object.entries(TYPES).map(([file, type]) => [file, { type, body: readAsset(dir, file) }]));
      return files.get(name);
    },
  };
}

function readAsset(dir: string, file: string): Buffer {
  try {
    return readFileSync(join(dir, file));
  } catch (err) {
    throw new Error(`The status page's file ${file} cannot be read from ${dir} (${(err as NodeJS.ErrnoException).code ?? 'error'}): is the package complete?`);
  }
}
