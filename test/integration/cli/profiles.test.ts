import { execFile, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { VENDOR_EXAMPLES } from '../../fixtures/vendor-payloads.js';

const exec = promisify(execFile);
const CLI = ['--import', 'tsx', 'services/cli/main.ts'];

function withStdin(args: string[], input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

describe('fieldhook profiles (command line)', () => {
  it('lists the shipped profiles and shows one as its file defines it', async () => {
    const list = JSON.parse((await exec(process.execPath, [...CLI, 'profiles', 'list'])).stdout) as { name: string }[];
    expect(list.map((p) => p.name)).toContain('dragino-lse01');
    const shown = JSON.parse((await exec(process.execPath, [...CLI, 'profiles', 'show', 'sensecap-s2105'])).stdout);
    expect(shown.match.ttn).toEqual([{ brand: 'sensecap', model: 'sensecaps2105-soll-moisture-temp-ec' }]);
  }, 30_000);

  it('test: prints the values a vendor payload yields and each refused field', async () => {
    const decoded = { ...VENDOR_EXAMPLES['dragino-lse01']![0]!.decoded, temp_SOIL: 'n/a', extra: 1 };
    const out = await withStdin(['profiles', 'test', 'dragino-lse01'], JSON.stringify(decoded));
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout)).toEqual({
      profile: 'dragino-lse01',
      values: { soil_moisture: 0.1957, soil_ec: 28.2, battery_voltage: 3.625 },
      refused: [
        { path: 'temp_SOIL', code: 'FH_ERR_PROFILE_NO_VALUE', message: 'temp_SOIL (soil_temperature) holds text, not a number' },
        { path: 'extra', code: 'FH_ERR_PROFILE_UNMAPPED_FIELD', message: 'extra is not in profile dragino-lse01' },
      ],
      skipped: [],
      history: [],
    });
    const buffered = { history: [{ timestamp: 1_796_000_000, moisture: 29.5, electricity_error: 'collection failed' }] };
    const em500 = await withStdin(['profiles', 'test', 'milesight-em500-smtc'], JSON.stringify(buffered));
    expect(JSON.parse(em500.stdout)).toMatchObject({ values: {}, refused: [], history: [{ ts: '2026-11-30T00:53:20.000Z', values: { soil_moisture: 0.295 }, refused: [] }] });
  }, 30_000);

  it('devices add --profile stores a loaded profile and refuses an unknown one', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, FIELDHOOK_DATA_DIR: mkdtempSync(join(tmpdir(), 'fh-cli-profiles-')) };
    const add = (...args: string[]) => exec(process.execPath, [...CLI, 'devices', 'add', ...args, '--farm', 'f1', '--field', 'north'], { env });
    expect(JSON.parse((await add('0101010101010101', '--profile', 'dragino-lse01')).stdout)).toMatchObject({ deviceProfile: 'dragino-lse01' });
    const refused = await add('0202020202020202', '--profile', 'nope').catch((e: { stderr: string }) => e);
    expect(JSON.parse((refused as { stderr: string }).stderr).error.code).toBe('FH_ERR_PROFILE_NOT_FOUND');
    const shown = JSON.parse((await exec(process.execPath, [...CLI, 'devices', 'show', '0101010101010101'], { env })).stdout);
    expect(shown.deviceProfile).toBe('dragino-lse01');
  }, 30_000);

  it('an unknown profile is FH_ERR_PROFILE_NOT_FOUND', async () => {
    const out = await withStdin(['profiles', 'test', 'nope'], '{}');
    expect(out.code).toBe(1);
    expect(JSON.parse(out.stderr).error.code).toBe('FH_ERR_PROFILE_NOT_FOUND');
  }, 30_000);
});
