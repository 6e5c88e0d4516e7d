import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('fieldhook simulate (command line)', () => {
  it('pushes a small fleet to an HTTP ingestor and writes the field profiles', async () => {
    const seen: { auth?: string; devices: string[] }[] = [];
    const server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const readings = JSON.parse(body) as { device: string }[];
        seen.push({ auth: req.headers.authorization, devices: readings.map((r) => r.device) });
        res.writeHead(202).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const profiles = join(mkdtempSync(join(tmpdir(), 'fh-sim-')), 'fields.json');
    try {
      await run(process.execPath, [
        '--import', 'tsx', 'services/cli/main.ts', 'simulate',
        '--devices', '2', '--speedup', '36000', '--interval', '0.3', '--duration', '2',
        '--url', `http://127.0.0.1:${port}`, '--secret', 'sim-secret', '--profiles', profiles,
      ], { timeout: 20_000 });
    } finally {
      server.close();
    }
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen.every((s) => s.auth === 'Bearer sim-secret')).toBe(true);
    expect(new Set(seen.flatMap((s) => s.devices))).toEqual(new Set(['sim-0001', 'sim-0002']));
    const fields = JSON.parse(readFileSync(profiles, 'utf8')) as { device: string; profile: { thetaFc: number } }[];
    expect(fields.map((f) => f.device)).toEqual(['sim-0001', 'sim-0002']);
    expect(fields[0]!.profile.thetaFc).toBeGreaterThan(0);
  });

  it('refuses to run for devices that are not registered, without a shared secret', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, FIELDHOOK_DATA_DIR: mkdtempSync(join(tmpdir(), 'fh-sim-')) };
    delete env.FIELDHOOK_DEVICE_SECRET;
    await expect(
      run(process.execPath, ['--import', 'tsx', 'services/cli/main.ts', 'simulate', '--duration', '1'], { env, timeout: 20_000 }),
    ).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('FH_ERR_DEVICE_NOT_FOUND') });
  });

  it('registers the simulated devices and their fields with --register and signs each push with that device’s own secret', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'fh-sim-'));
    const auths = new Map<string, string>();
    const server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        for (const r of JSON.parse(body) as { device: string }[]) auths.set(r.device, String(req.headers.authorization));
        res.writeHead(202).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const env: NodeJS.ProcessEnv = { ...process.env, FIELDHOOK_DATA_DIR: dataDir };
    delete env.FIELDHOOK_DEVICE_SECRET;
    try {
      await run(process.execPath, [
        '--import', 'tsx', 'services/cli/main.ts', 'simulate', '--register',
        '--devices', '2', '--speedup', '36000', '--interval', '0.3', '--duration', '2', '--url', `http://127.0.0.1:${port}`,
      ], { env, timeout: 20_000 });
    } finally {
      server.close();
    }
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'services/cli/main.ts', 'devices', 'list', '--farm', 'sim'], { env });
    const registered = JSON.parse(stdout) as { id: string; location?: { latitude: number } }[];
    expect(registered.map((d) => d.id)).toEqual(['sim-0001', 'sim-0002']);
    expect(registered[0]!.location?.latitude).toEqual(expect.any(Number));
    expect(auths.get('sim-0001')).toMatch(/^Bearer whsec_/);
    expect(auths.get('sim-0001')).not.toBe(auths.get('sim-0002'));
    // And their fields' profiles, so that the predictor advises on them.
    const fields = JSON.parse((await run(process.execPath, ['--import', 'tsx', 'services/cli/main.ts', 'fields', 'list', '--farm', 'sim'], { env })).stdout) as { field: string; crop: string; sowingDate: string }[];
    expect(fields.map((f) => f.field)).toEqual(['field-0001', 'field-0002']);
    expect(fields[0]).toMatchObject({ crop: expect.any(String), sowingDate: expect.stringMatching(/^\d{4}-\d\d-\d\d$/) });
  });
});
