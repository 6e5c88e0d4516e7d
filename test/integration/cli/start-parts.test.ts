import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);

/** `fieldhook start` that must refuse: its exit code and the error it prints. */
async function refusedStart(args: string[], env: Record<string, string>): Promise<{ code: number; error: { code: string; message: string } }> {
  try {
    await exec(process.execPath, ['--import', 'tsx', 'services/cli/main.ts', 'start', ...args], { env: { ...process.env, ...env } });
  } catch (err) {
    const { code, stdout, stderr } = err as { code: number; stdout: string; stderr: string };
    const line = `${stdout}\n${stderr}`.split('\n').find((l) => l.startsWith('{"error"'));
    return { code, error: (JSON.parse(line!) as { error: { code: string; message: string } }).error };
  }
  return expect.unreachable('fieldhook start did not refuse');
}

describe('fieldhook start --parts (command line)', () => {
  const root = mkdtempSync(join(tmpdir(), 'fh-start-parts-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('refuses an unknown part by name, exit code 1, before touching the data folder', async () => {
    const dataDir = join(root, 'unknown');
    const { code, error } = await refusedStart(['--parts', 'ingestor,predicter'], { FIELDHOOK_DATA_DIR: dataDir });
    expect(code).toBe(1);
    expect(error.code).toBe('FH_ERR_CONFIG_INVALID');
    expect(error.message).toContain('FIELDHOOK_PARTS: unknown part "predicter" (known: ingestor, predictor, dispatcher)');
    expect(existsSync(dataDir)).toBe(false);
  }, 30_000);

  it('refuses a part apart from the others without the external broker and InfluxDB they share, naming both', async () => {
    const dataDir = join(root, 'apart');
    // The variable and the option are one setting; the option wins.
    const { code, error } = await refusedStart(['--parts', 'predictor'], { FIELDHOOK_DATA_DIR: dataDir, FIELDHOOK_PARTS: 'ingestor,predictor,dispatcher' });
    expect(code).toBe(1);
    expect(error.code).toBe('FH_ERR_CONFIG_INVALID');
    expect(error.message).toMatch(/predictor runs apart .*set FIELDHOOK_MQTT_URL/);
    expect(error.message).toMatch(/set FIELDHOOK_INFLUX_URL/);
    expect(existsSync(dataDir)).toBe(false);
  }, 30_000);

  it('refuses TLS it cannot serve (one file of the two, a file it cannot read, no PEM) instead of serving in clear text', async () => {
    const notPem = join(root, 'not.pem');
    writeFileSync(notPem, 'not a certificate');
    for (const [tls, named] of [
      [{ FIELDHOOK_TLS_CERT_FILE: notPem }, 'FIELDHOOK_TLS_KEY_FILE'],
      [{ FIELDHOOK_TLS_KEY_FILE: notPem }, 'FIELDHOOK_TLS_CERT_FILE'],
      [{ FIELDHOOK_TLS_CERT_FILE: join(root, 'missing.crt'), FIELDHOOK_TLS_KEY_FILE: notPem }, 'FIELDHOOK_TLS_CERT_FILE: cannot read'],
      [{ FIELDHOOK_TLS_CERT_FILE: notPem, FIELDHOOK_TLS_KEY_FILE: notPem }, 'FIELDHOOK_TLS_CERT_FILE, FIELDHOOK_TLS_KEY_FILE'],
    ] as const) {
      const { code, error } = await refusedStart([], { FIELDHOOK_DATA_DIR: join(root, 'tls'), FIELDHOOK_HTTP_PORT: '0', FIELDHOOK_MQTT_LISTEN_PORT: '0', ...tls });
      expect(code, JSON.stringify(tls)).toBe(1);
      expect(error.code).toBe('FH_ERR_CONFIG_INVALID');
      expect(error.message).toContain(named);
    }
  }, 60_000);

  it('refuses a quantity the ingest path cannot take and exits, nothing left running', async () => {
    const dataDir = join(root, 'quantity');
    // It once printed the refusal and kept running: the spool's worker had started before the check.
    const { code, error } = await refusedStart([], { FIELDHOOK_DATA_DIR: dataDir, FIELDHOOK_INGEST_EXTRA_QUANTITIES: '{"probe":{"unit":"x","min":5,"max":1}}' });
    expect(code).toBe(1);
    expect(error.code).toBe('FH_ERR_CONFIG_INVALID');
    expect(error.message).toContain('FIELDHOOK_INGEST_EXTRA_QUANTITIES.probe');
    expect(existsSync(dataDir)).toBe(false);
  }, 30_000);
});
