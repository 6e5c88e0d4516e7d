import { randomBytes } from 'node:crypto';
import { closeSync, constants, fchmodSync, linkSync, lstatSync, mkdirSync, openSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from './logger.js';

/**
 * `DATA_DIR` holds device secrets and webhook signing secrets in clear (see "Secrets at rest" in
 * docs/ARCHITECTURE.md), so only the user fieldhook runs as may read it: folders 0700, files 0600.
 */
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** Permission bits that let the group or other users in. */
const SHARED_BITS = 0o077;

/**
 * Create `path` and any missing parents 0700. A folder that already exists is left as it is
 * (an operator may have chosen its mode); {@link checkModes} reports it when it is looser.
 */
export function ensurePrivateDir(path: string): void {
  // The mode applies to every folder mkdir creates; the umask can only take bits away from 0700.
  mkdirSync(path, { recursive: true, mode: PRIVATE_DIR_MODE });
}

/**
 * Create `path` empty with mode 0600 unless it exists (an existing file, and its content, are
 * left alone). Used for SQLite databases before SQLite opens them: SQLite's unix VFS creates the
 * `-wal`, `-shm` and `-journal` files with the mode of the database file, so they are 0600 too,
 * whenever they appear, without touching the process umask (which is process-wide and cannot be
 * set from the spool's worker thread).
 */
export function createPrivateFile(path: string): void {
  let fd: number;
  try {
    fd = openSync(path, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, PRIVATE_FILE_MODE);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw err;
  }
  try {
    // Exactly 0600 whatever the umask took away.
    fchmodSync(fd, PRIVATE_FILE_MODE);
  } finally {
    closeSync(fd);
  }
}

/** Errors of a file system without hard links (some network and FUSE mounts). */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV']);

/**
 * Create `path` (0600) holding `content` unless it exists; false when the path was taken. Written
 * aside, then hard-linked into place, so another process sees the file whole or not at all; on a
 * file system without hard links, created with O_EXCL and written (a reader may then see it
 * empty for an instant, which the instance lock's readers take as "held").
 */
export function createWhole(path: string, content: string): boolean {
  const aside = `${path}.${randomBytes(6).toString('hex')}`;
  writeFileSync(aside, content, { flag: 'wx', mode: PRIVATE_FILE_MODE });
  try {
    linkSync(aside, path);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (code === 'EEXIST') return false;
    if (!NO_HARD_LINKS.has(code)) throw err;
  } finally {
    unlinkSync(aside);
  }
  try {
    writeFileSync(path, content, { flag: 'wx', mode: PRIVATE_FILE_MODE });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

export interface LooseMode {
  path: string;
  /** Permission bits, e.g. `0755`. */
  mode: string;
  /** What fieldhook creates it with. */
  expected: string;
}

const octal = (mode: number) => `0${(mode & 0o777).toString(8).padStart(3, '0')}`;

/**
 * Folders and files the group or other users may read: `dir` itself, what lies directly in it
 * (its databases and their `-wal`/`-shm` files, the local InfluxDB's folder) and `extraFiles`
 * (a database configured outside `dir`). Symbolic links and missing paths are skipped; folders
 * are not descended into (the local InfluxDB's own files sit behind its 0700 folder).
 */
export function looseModes(dir: string, extraFiles: readonly string[] = []): LooseMode[] {
  const paths = [dir];
  try {
    paths.push(...readdirSync(dir).sort().map((name) => join(dir, name)));
  } catch {
    // No folder yet: nothing to report.
  }
  paths.push(...extraFiles);
  const seen = new Set<string>();
  const loose: LooseMode[] = [];
  for (const path of paths) {
    if (seen.has(resolve(path))) continue;
    seen.add(resolve(path));
    let stat;
    try {
      stat = lstatSync(path);
    } catch {
      continue;
    }
    if (!stat.isDirectory() && !stat.isFile()) continue;
    if ((stat.mode & SHARED_BITS) === 0) continue;
    loose.push({ path, mode: octal(stat.mode), expected: octal(stat.isDirectory() ? PRIVATE_DIR_MODE : PRIVATE_FILE_MODE) });
  }
  return loose;
}

/** Log a warning, naming the path and its mode, for each of {@link looseModes}; returns them. */
export function checkModes(dir: string, logger: Logger, extraFiles: readonly string[] = []): LooseMode[] {
  const loose = looseModes(dir, extraFiles);
  for (const entry of loose) {
    logger.warn(
      entry,
      `${entry.path} has mode ${entry.mode}: other users may read the secrets it holds; fieldhook creates it ${entry.expected} (chmod ${entry.expected.slice(1)} ${entry.path})`,
    );
  }
  return loose;
}

/**
 * What `fieldhook start` (and the standalone dispatcher) do first: create `dir` 0700 if missing,
 * then warn about anything in it that is looser than fieldhook would create it.
 */
export function prepareDataDir(dir: string, logger: Logger, extraFiles: readonly string[] = []): LooseMode[] {
  ensurePrivateDir(dir);
  return checkModes(dir, logger, extraFiles);
}
