/**
 * The systemd template unit and its example environment files: systemd's own checker where the
 * machine has it (every key known, the command there), and what the unit must say to keep
 * instances apart and confined, read from the file; each example instance's settings are accepted
 * by `fieldhook start`.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PIPELINE_CONFIG } from '../../../services/host/config.js';
import { PARTS, selectParts } from '../../../services/host/parts.js';
import { loadConfig } from '../../../services/shared/config.js';

const DIR = fileURLToPath(new URL('../../../infra/systemd/', import.meta.url));
const UNIT = join(DIR, 'fieldhook@.service');

/** A unit file's sections, each key with every value it is given (in order). */
function parseUnit(text: string): Record<string, Record<string, string[]>> {
  const sections: Record<string, Record<string, string[]>> = {};
  let current: Record<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[(\w+)\]$/.exec(line);
    if (section) {
      current = sections[section[1]!] = {};
      continue;
    }
    const kv = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (!kv || !current) throw new Error(`not a unit file line: ${raw}`);
    (current[kv[1]!] ??= []).push(kv[2]!);
  }
  return sections;
}

/** An EnvironmentFile: KEY=VALUE lines, comments and blank lines. */
function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const kv = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (!kv) throw new Error(`not an environment file line: ${raw}`);
    env[kv[1]!] = kv[2]!;
  }
  return env;
}

const hasSystemdAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

describe('systemd template unit', () => {
  const unit = parseUnit(readFileSync(UNIT, 'utf8'));
  const service = unit.Service!;

  it.skipIf(!hasSystemdAnalyze)('passes systemd-analyze verify without a warning, as an instance of the template', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fh-systemd-'));
    try {
      copyFileSync(UNIT, join(dir, 'fieldhook@.service'));
      const run = spawnSync('systemd-analyze', ['verify', '--man=no', join(dir, 'fieldhook@ingestor-2.service')], { encoding: 'utf8' });
      // Unknown keys and bad values are only warnings: any output at all fails.
      expect(run.stderr + run.stdout).toBe('');
      expect(run.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives each instance its own data folder and its own settings file beside the shared one', () => {
    expect(service.StateDirectory).toEqual(['fieldhook/%i']);
    expect(service.Environment).toContain('FIELDHOOK_DATA_DIR=%S/fieldhook/%i');
    expect(service.ReadWritePaths).toEqual(['%S/fieldhook/%i']);
    expect(service.EnvironmentFile).toEqual(['/etc/fieldhook/fieldhook.env', '-/etc/fieldhook/%i.env']);
    // One id for every instance would make them take each other's broker sessions.
    expect((service.Environment ?? []).some((e) => e.startsWith('FIELDHOOK_INSTANCE_ID='))).toBe(false);
    expect(service.ExecStart?.[0]).toMatch(/ bin\/fieldhook\.js start$/);
    expect(unit.Install?.WantedBy).toEqual(['multi-user.target']);
  });

  it('runs unprivileged on a read-only system', () => {
    expect(service.User).toEqual(['fieldhook']);
    for (const [key, value] of Object.entries({
      NoNewPrivileges: 'yes', ProtectSystem: 'strict', ProtectHome: 'yes', PrivateTmp: 'yes', PrivateDevices: 'yes',
      RestrictSUIDSGID: 'yes', CapabilityBoundingSet: '', UMask: '0077',
    })) {
      expect(service[key], key).toEqual([value]);
    }
    // V8 needs writable-then-executable pages.
    expect(service.MemoryDenyWriteExecute).toBeUndefined();
  });

  it('ships example settings each instance of which fieldhook start accepts, one per part', () => {
    const shared = parseEnvFile(readFileSync(join(DIR, 'env', 'fieldhook.env'), 'utf8'));
    const instances = readdirSync(join(DIR, 'env')).filter((f) => f !== 'fieldhook.env');
    const parts = instances.map((file) => {
      const own = parseEnvFile(readFileSync(join(DIR, 'env', file), 'utf8'));
      const config = loadConfig(PIPELINE_CONFIG, { ...shared, ...own, FIELDHOOK_DATA_DIR: `/var/lib/fieldhook/${file.replace(/\.env$/, '')}` });
      expect(() => selectParts(config), file).not.toThrow();
      return { file, parts: config.PARTS, port: config.HTTP_PORT };
    });
    expect(parts.flatMap((p) => p.parts).sort()).toEqual([...PARTS].sort());
    // One box: each instance its own HTTP port.
    expect(new Set(parts.map((p) => p.port)).size).toBe(parts.length);
  });

  it('declares the user the unit runs as, for systemd-sysusers', () => {
    const lines = readFileSync(join(DIR, 'fieldhook.sysusers.conf'), 'utf8').split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
    expect(lines).toEqual([`u ${service.User![0]} - "fieldhook" /var/lib/fieldhook`]);
  });
});
