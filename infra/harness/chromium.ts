import { existsSync } from 'node:fs';
import { ensureDebianTool, type Log } from './debian.js';

/** Debian's Chromium, which the browser tests drive through playwright-core. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

export function ensureChromium(log?: Log): string {
  return ensureDebianTool({ name: 'Chromium', packages: ['chromium'], find: () => (existsSync(CHROMIUM_PATH) ? CHROMIUM_PATH : undefined) }, log);
}
