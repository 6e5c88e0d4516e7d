/**
 * `fieldhook demo` as a person runs it: one command on embedded defaults (its own local InfluxDB
 * and broker), signed advice on stdout (`--json`: one event per line), Ctrl-C stops it cleanly,
 * and `--reset` only ever deletes a demo folder.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually } from '../../helpers/eventually.js';

function runDemo(args: string[]) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FIELDHOOK_')));
  const child = spawn(process.execPath, ['--import', 'tsx', 'services/cli/main.ts', 'demo', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (c: Buffer) => (out.stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out.stderr += c.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, out, exit };
}

describe('fieldhook demo (the command)', () => {
  const root = mkdtempSync(join(tmpdir(), 'fh-demo-cmd-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('prints each delivered event as one verified JSON line with --json, and stops cleanly on SIGINT', async () => {
    const dataDir = join(root, 'demo');
    const demo = runDemo(['--json', '--reset', '--data-dir', dataDir]);
    try {
      const advice = await eventually(
        () => demo.out.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; data: { farm: string }; webhookId: string }).find((e) => e.type === 'irrigation.recommended'),
        { timeoutMs: 240_000, intervalMs: 200, what: 'an irrigation.recommended line on stdout' },
      ).catch((err: Error) => {
        throw new Error(`${err.message}\ndemo stderr:\n${demo.out.stderr}`);
      });
      expect(advice.data.farm).toBe('demo');
      expect(advice.webhookId).toMatch(/\S/);
      // Where to look goes to stderr, so stdout stays one JSON event per line.
      expect(demo.out.stderr).toMatch(/Status page\s+http:\/\/127\.0\.0\.1:\d+\/ui\//);
      expect(existsSync(join(dataDir, 'pipeline.json'))).toBe(true);
    } finally {
      demo.child.kill('SIGINT');
    }
    expect(await demo.exit).toBe(0);
    expect(demo.out.stderr).toContain('demo: stopped');
    expect(existsSync(join(dataDir, 'pipeline.json'))).toBe(false);
  }, 300_000);

  it('--reset refuses a folder that is not a demo folder and leaves it alone', async () => {
    const other = join(root, 'someone-elses');
    mkdirSync(other);
    writeFileSync(join(other, 'keep.txt'), 'data');
    const demo = runDemo(['--reset', '--data-dir', other]);
    expect(await demo.exit).toBe(1);
    expect(demo.out.stderr).toContain('not a demo data folder');
    expect(existsSync(join(other, 'keep.txt'))).toBe(true);
  }, 60_000);
});
