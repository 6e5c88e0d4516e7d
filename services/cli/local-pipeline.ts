/**
 * How the local CLI finds the pipeline of its data folder: `fieldhook start` (and the demo) write
 * the URLs they serve to `DATA_DIR/pipeline.json`, and keep the admin token they generated in
 * `DATA_DIR/admin-token`, both 0600 (the token opens the subscriptions API; the record names
 * local ports). Commands use them only when nothing is configured: an explicit option or setting
 * always wins.
 */
import { chmodSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { processExists } from '../shared/child-process.js';
import { createWhole, ensurePrivateDir } from '../shared/data-dir.js';

export const PIPELINE_FILE = 'pipeline.json';
export const ADMIN_TOKEN_FILE = 'admin-token';

/** What a running pipeline serves. */
export interface PipelineRecord {
  /** Base URL of the HTTP API (ingest, subscriptions, status page). */
  httpUrl: string;
  /** The InfluxDB it writes to (the local one, or the configured one). */
  influxUrl: string;
  /** Its MQTT broker (embedded or configured), credentials removed. */
  mqttUrl: string;
  /** Process id, to tell a running pipeline from a record left by one that died. */
  pid: number;
  startedAt: string;
}

/** Write `text` to `path` with mode 0600 in one step (a reader never sees half a file). */
function writePrivate(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

export function writePipelineRecord(dataDir: string, record: PipelineRecord): void {
  writePrivate(join(dataDir, PIPELINE_FILE), `${JSON.stringify(record, null, 2)}\n`);
}

/** Remove the record of this process (not one a later start wrote). */
export function removePipelineRecord(dataDir: string, pid = process.pid): void {
  const record = readPipelineRecord(dataDir);
  if (record?.pid === pid) rmSync(join(dataDir, PIPELINE_FILE), { force: true });
}

export function readPipelineRecord(dataDir: string): PipelineRecord | undefined {
  try {
    return JSON.parse(readFileSync(join(dataDir, PIPELINE_FILE), 'utf8')) as PipelineRecord;
  } catch {
    return undefined;
  }
}

/** Whether the process that wrote the record still runs. */
export function isRunning(record: PipelineRecord): boolean {
  return processExists(record.pid);
}

/** The record of a pipeline that is running now, if any. */
export function runningPipeline(dataDir: string): PipelineRecord | undefined {
  const record = readPipelineRecord(dataDir);
  return record && isRunning(record) ? record : undefined;
}

/** The admin token generated for this data folder earlier, if any. */
export function storedAdminToken(dataDir: string): string | undefined {
  const path = join(dataDir, ADMIN_TOKEN_FILE);
  if (!existsSync(path)) return undefined;
  const token = readFileSync(path, 'utf8').trim();
  return token.length > 0 ? token : undefined;
}

/**
 * This data folder's admin token, generated (and saved 0600) the first time. First writer wins:
 * two first starts on a new folder (the demo and `fieldhook start`, or two commands) both end up
 * with the token on disk, never one that another process has just replaced.
 */
export function ensureAdminToken(dataDir: string): { token: string; created: boolean; path: string } {
  const path = join(dataDir, ADMIN_TOKEN_FILE);
  const stored = storedAdminToken(dataDir);
  if (stored) return { token: stored, created: false, path };
  ensurePrivateDir(dataDir);
  const token = `fh_admin_${randomBytes(24).toString('base64url')}`;
  if (createWhole(path, `${token}\n`)) return { token, created: true, path };
  const theirs = storedAdminToken(dataDir);
  if (theirs) return { token: theirs, created: false, path };
  // A blank file (left by hand): nobody's token, replaced.
  writePrivate(path, `${token}\n`);
  return { token, created: true, path };
}
