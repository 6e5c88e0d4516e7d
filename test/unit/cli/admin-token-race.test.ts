/**
 * Two first starts on a new data folder: the other process writes its admin token between this
 * one's look and its write. The first writer wins and both use the token on disk. The other
 * process is played by the file system's first answer, the only way to hit that instant every run.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { ADMIN_TOKEN_FILE, ensureAdminToken } from '../../../services/cli/local-pipeline.js';

const race = vi.hoisted(() => ({ path: '', token: '' }));

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const existsSync: typeof fs.existsSync = (path) => {
    if (race.path !== '' && path === race.path) {
      // The other process wins the race right after this look.
      const winner = race.path;
      race.path = '';
      fs.writeFileSync(winner, `${race.token}\n`, { mode: 0o600 });
      return false;
    }
    return fs.existsSync(path);
  };
  return { ...fs, default: { ...fs, existsSync }, existsSync };
});

describe('the admin token of a new data folder, two first starts at once', () => {
  const root = mkdtempSync(join(tmpdir(), 'fh-admin-token-race-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('keeps the token another process wrote first, and answers with it', () => {
    const dir = join(root, '.fieldhook');
    mkdirSync(dir, { mode: 0o700 });
    const path = join(dir, ADMIN_TOKEN_FILE);
    Object.assign(race, { path, token: 'fh_admin_written_by_the_other_start' });
    const got = ensureAdminToken(dir);
    expect(readFileSync(path, 'utf8').trim()).toBe('fh_admin_written_by_the_other_start');
    expect(got).toEqual({ token: 'fh_admin_written_by_the_other_start', created: false, path });
  });

  it('replaces a blank file, which is nobody\'s token', () => {
    const dir = mkdtempSync(join(root, 'blank-'));
    const path = join(dir, ADMIN_TOKEN_FILE);
    writeFileSync(path, '\n');
    const got = ensureAdminToken(dir);
    expect(got.created).toBe(true);
    expect(readFileSync(path, 'utf8').trim()).toBe(got.token);
  });
});
