import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Gauge, type Registry } from 'prom-client';
import { createWhole, ensurePrivateDir } from './data-dir.js';
import { Errors } from './error-catalog.js';

/**
 * What an instance id may be: it goes into MQTT client ids, PostgreSQL's `application_name`, log
 * lines and a metric label, so letters, digits, `.`, `_` and `-`, 1–48 of them.
 */
export const INSTANCE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,47}$/;
export const INSTANCE_ID_RULE = '1–48 letters, digits, ".", "_" or "-", starting with a letter or digit';

/** The file in the data folder that keeps the default instance id. */
export const INSTANCE_ID_FILE = 'instance-id';

/**
 * This instance's id: `configured` (FIELDHOOK_INSTANCE_ID) when given, otherwise the one stored in
 * `dataDir`, made on first use from the host name and six random hex digits (`gw-north-3fa9c1`).
 * Stored rather than computed, so it survives a renamed host or a moved folder, and two data
 * folders on one host (two instances) never share one.
 */
export function resolveInstanceId(dataDir: string, configured?: string): string {
  if (configured) {
    if (!INSTANCE_ID_PATTERN.test(configured)) throw Errors.configInvalid(`FIELDHOOK_INSTANCE_ID must be ${INSTANCE_ID_RULE}`);
    return configured;
  }
  const path = join(dataDir, INSTANCE_ID_FILE);
  const stored = readStored(path);
  if (stored) return stored;
  ensurePrivateDir(dataDir);
  const made = `${hostLabel()}-${randomBytes(3).toString('hex')}`;
  // The file appears whole or not at all; when two processes start on a new folder together, the
  // first to create it wins and both use its id.
  return createWhole(path, `${made}\n`) ? made : (readStored(path) ?? made);
}

function readStored(path: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  if (!INSTANCE_ID_PATTERN.test(text)) throw Errors.configInvalid(`${path} does not hold an instance id (${INSTANCE_ID_RULE}): fix or delete it`);
  return text;
}

/** The host name's first label, reduced to what an instance id may hold. */
function hostLabel(): string {
  const label = (hostname().split('.')[0] ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 32);
  return label || 'fieldhook';
}

/**
 * The MQTT client id of an internal part of this instance: `<base>-<instance>`, stable across the
 * instance's restarts (so its persistent session is found again) and distinct between instances
 * (so two never take each other's session). `base` begins with `fieldhook-`, which the ingestor
 * reserves for internal parts. A part built without an instance id (alone, in a test) keeps `base`.
 */
export function instanceClientId(base: string, instanceId: string | undefined): string {
  return instanceId ? `${base}-${instanceId}` : base;
}

/**
 * `fieldhook_instance_info{instance_id="…"} 1`: which instance a scrape came from, to join other series on.
 * Not `instance`: Prometheus sets that label to the scrape target's address and, without
 * `honor_labels`, renames a scraped `instance` to `exported_instance`.
 */
export function registerInstanceInfo(registry: Registry, instanceId: string): void {
  new Gauge({
    name: 'fieldhook_instance_info',
    help: 'This fieldhook instance (always 1; the id is the label)',
    labelNames: ['instance_id'],
    registers: [registry],
  }).set({ instance_id: instanceId }, 1);
}
