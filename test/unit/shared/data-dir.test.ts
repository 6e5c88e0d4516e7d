import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { modeOf, usualUmask } from '../../helpers/file-modes.js';
import { checkModes, createPrivateFile, ensurePrivateDir, looseModes, prepareDataDir } from '../../../services/shared/data-dir.js';
import { captureLogger } from '../../helpers/capture-logger.js';


describe('data-dir', () => {
  let root: string;
  let restoreUmask: () => void;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'fh-data-dir-'));
    // The usual umask (022), so that a mode the code does not set shows as 0755/0644.
    restoreUmask = usualUmask();
  });
  afterEach(() => {
    restoreUmask();
    rmSync(root, { recursive: true, force: true });
  });

  it('ensurePrivateDir creates the folder and its missing parents 0700', () => {
    const dir = join(root, 'a', 'b', '.fieldhook');
    ensurePrivateDir(dir);
    expect(modeOf(join(root, 'a'))).toBe(0o700);
    expect(modeOf(join(root, 'a', 'b'))).toBe(0o700);
    expect(modeOf(dir)).toBe(0o700);
  });

  it('ensurePrivateDir leaves an existing folder as it is', () => {
    const dir = join(root, 'shared');
    mkdirSync(dir);
    chmodSync(dir, 0o750);
    ensurePrivateDir(dir);
    expect(modeOf(dir)).toBe(0o750);
  });

  it('createPrivateFile creates an empty file 0600, and leaves an existing one and its content alone', () => {
    const file = join(root, 'registry.db');
    createPrivateFile(file);
    expect(modeOf(file)).toBe(0o600);
    expect(statSync(file).size).toBe(0);

    const existing = join(root, 'spool.db');
    writeFileSync(existing, 'content');
    chmodSync(existing, 0o640);
    createPrivateFile(existing);
    expect(modeOf(existing)).toBe(0o640);
    expect(readFileSync(existing, 'utf8')).toBe('content');
  });

  it('looseModes reports the folder and the entries in it that the group or others may read', () => {
    const dir = join(root, 'data');
    mkdirSync(dir);
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, 'registry.db'), '');
    chmodSync(join(dir, 'registry.db'), 0o644);
    writeFileSync(join(dir, 'spool.db'), '');
    chmodSync(join(dir, 'spool.db'), 0o600);
    mkdirSync(join(dir, 'influxdb'));
    chmodSync(join(dir, 'influxdb'), 0o750);
    mkdirSync(join(dir, 'influxdb', 'data'));
    chmodSync(join(dir, 'influxdb', 'data'), 0o755);
    symlinkSync('/etc/hostname', join(dir, 'link'));
    const outside = join(root, 'dispatch.sqlite');
    writeFileSync(outside, '');
    chmodSync(outside, 0o604);

    expect(looseModes(dir, [outside, join(root, 'missing.db'), join(dir, 'registry.db')])).toEqual([
      { path: dir, mode: '0755', expected: '0700' },
      { path: join(dir, 'influxdb'), mode: '0750', expected: '0700' },
      { path: join(dir, 'registry.db'), mode: '0644', expected: '0600' },
      { path: outside, mode: '0604', expected: '0600' },
    ]);
  });

  it('checkModes warns, naming each loose path and its mode', () => {
    const dir = join(root, 'data');
    mkdirSync(dir, { mode: 0o700 });
    chmodSync(dir, 0o700);
    writeFileSync(join(dir, 'dispatch.sqlite-wal'), '');
    chmodSync(join(dir, 'dispatch.sqlite-wal'), 0o644);
    const { lines, logger } = captureLogger();

    expect(checkModes(dir, logger)).toHaveLength(1);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, path: join(dir, 'dispatch.sqlite-wal'), mode: '0644', expected: '0600' });
    expect(lines[0]!.msg).toContain(`${join(dir, 'dispatch.sqlite-wal')} has mode 0644`);
  });

  it('prepareDataDir creates a missing DATA_DIR 0700 and says nothing; a loose one it warns about and leaves alone', () => {
    const fresh = join(root, 'fresh');
    const quiet = captureLogger();
    expect(prepareDataDir(fresh, quiet.logger)).toEqual([]);
    expect(modeOf(fresh)).toBe(0o700);
    expect(quiet.lines).toEqual([]);

    const old = join(root, 'old');
    mkdirSync(old);
    chmodSync(old, 0o755);
    const loud = captureLogger();
    expect(prepareDataDir(old, loud.logger)).toEqual([{ path: old, mode: '0755', expected: '0700' }]);
    expect(loud.lines.map((l) => l.path)).toEqual([old]);
    expect(modeOf(old)).toBe(0o755);
  });
});
