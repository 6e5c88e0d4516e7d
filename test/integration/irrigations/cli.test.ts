/**
 * `fieldhook irrigations add|list` against a running API, and `fieldhook chat users add|list|remove`
 * on a data folder, as a person runs them. InfluxDB 1.8 only: InfluxDB is only where records go,
 * and nothing here reads it back (test/integration/irrigations/api.test.ts does, on both versions).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHostApp } from '../../../services/host/http-app.js';
import { buildIrrigations, type Irrigations } from '../../../services/irrigations/build-irrigations.js';
import type { DeviceRepository } from '../../../services/registry/device.js';
import { createSqliteDeviceRepository } from '../../../services/registry/sqlite-devices.js';
import { silentLogger } from '../../../services/shared/logger.js';
import { testInflux } from '../../helpers/test-influx.js';

const exec = promisify(execFile);
const ADMIN = 'irrigations-cli-admin-token-0123';

describe('fieldhook irrigations and chat users (command line)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fh-irrigations-cli-'));
  const env: NodeJS.ProcessEnv = { ...process.env, FIELDHOOK_DATA_DIR: dir, FIELDHOOK_ADMIN_TOKEN: ADMIN };
  const run = async (...args: string[]) => (await exec(process.execPath, ['--import', 'tsx', 'services/cli/main.ts', ...args], { env })).stdout;
  let devices: DeviceRepository;
  let irrigations: Irrigations;
  let app: FastifyInstance;
  let url = '';

  beforeAll(async () => {
    devices = createSqliteDeviceRepository(join(dir, 'registry.db'));
    const influx = testInflux().target(`irrigations_cli_${process.pid}`);
    // Not started: the API alone is what the command talks to.
    irrigations = buildIrrigations({ config: { DATA_DIR: join(dir, 'api'), ADMIN_TOKEN: ADMIN }, logger: silentLogger(), devices, influx, bus: () => ({ url: 'mqtt://127.0.0.1:9', protocolVersion: 4, sharedSubscriptions: false }) });
    app = buildHostApp([irrigations], { logger: silentLogger() });
    url = await app.listen({ host: '127.0.0.1', port: 0 });
  });

  afterAll(async () => {
    await app?.close();
    await irrigations?.stop();
    devices?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // Each command is a fresh Node process loading TypeScript: allow for a busy machine.
  const CLI_TEST = { timeout: 180_000 };

  it('adds and lists irrigation records through the API, as JSON or lines for people', CLI_TEST, async () => {
    const rawAdded = await run('irrigations', 'add', '--farm', 'f1', '--field', 'north', '--depth', '18', '--end', '2026-07-06T05:30:00Z', '--who', 'cli:maria', '--json', '--admin-url', url);
    const added = JSON.parse(rawAdded);
    expect(added).toMatchObject({ farm: 'f1', field: 'north', depth_mm: 18, end: '2026-07-06T05:30:00.000Z', source: 'cli', who: 'cli:maria' });
    const line = await run('irrigations', 'add', '--farm', 'f1', '--field', 'south', '--depth', '7.5', '--start', '2026-07-06T06:00:00Z', '--end', '2026-07-06T07:00:00Z', '--admin-url', url);
    expect(line).toMatch(/^2026-07-06T06:00:00.000Z – 2026-07-06T07:00:00.000Z {2}f1\/south {2}7.5 mm {2}cli cli:\S+ {2}irr_[0-9a-f]{24}\n$/);
    const listed = JSON.parse(await run('irrigations', 'list', '--farm', 'f1', '--field', 'north', '--json', '--admin-url', url));
    expect(listed).toEqual([added]);
    // The field as predict and replay take it, farm/field.
    expect(JSON.parse(await run('irrigations', 'list', '--field', 'f1/north', '--json', '--admin-url', url))).toEqual([added]);
    // Cut at --limit: the newest, and a notice on stderr.
    const cut = await exec(process.execPath, ['--import', 'tsx', 'services/cli/main.ts', 'irrigations', 'list', '--farm', 'f1', '--limit', '1', '--json', '--admin-url', url], { env });
    expect(JSON.parse(cut.stdout).map((r: { field: string }) => r.field)).toEqual(['south']);
    expect(cut.stderr).toMatch(/newest 1 records shown, older ones left out/);
    const refused = await run('irrigations', 'add', '--farm', 'f1', '--field', 'north', '--depth', '0', '--admin-url', url).catch((err: { stderr: string }) => err.stderr);
    expect(JSON.parse(refused)).toMatchObject({ error: { code: 'FH_ERR_IRRIGATION_INVALID' } });
  });

  it('sends an Idempotency-Key with every add: the same key records once, and a failed run names its key', CLI_TEST, async () => {
    const args = ['irrigations', 'add', '--farm', 'f3', '--field', 'west', '--depth', '12', '--end', '2026-07-06T04:00:00Z', '--json', '--admin-url', url];
    const first = JSON.parse(await run(...args, '--idempotency-key', 'retry-me-1'));
    const again = JSON.parse(await run(...args, '--idempotency-key', 'retry-me-1'));
    expect(again.id).toBe(first.id);
    expect(JSON.parse(await run('irrigations', 'list', '--farm', 'f3', '--json', '--admin-url', url))).toHaveLength(1);

    // An API that fails after the request may have been stored: the run says which key to retry with.
    const keys: (string | undefined)[] = [];
    const failing = createServer((req, res) => {
      keys.push(req.headers['idempotency-key'] as string | undefined);
      req.resume();
      res.writeHead(503, { 'content-type': 'application/problem+json' }).end(JSON.stringify({ code: 'FH_ERR_SERVICE_UNAVAILABLE', title: 'Unavailable' }));
    });
    await new Promise<void>((resolve) => failing.listen(0, '127.0.0.1', resolve));
    try {
      const failingUrl = `http://127.0.0.1:${(failing.address() as AddressInfo).port}`;
      const stderr = await run('irrigations', 'add', '--farm', 'f3', '--field', 'west', '--depth', '5', '--admin-url', failingUrl).then(
        () => expect.unreachable('the run succeeded'),
        (err: { stderr: string }) => err.stderr,
      );
      expect(keys).toHaveLength(1);
      expect(keys[0]).toMatch(/^cli-[0-9a-f-]{36}$/);
      expect(JSON.parse(stderr).error.message).toContain(`--idempotency-key ${keys[0]}`);
    } finally {
      failing.close();
    }
  });

  it('maps chat users to farms', CLI_TEST, async () => {
    expect(JSON.parse(await run('chat', 'users', 'add', '--platform', 'slack', '--user', 'U123', '--farm', 'f1'))).toMatchObject({ platform: 'slack', user: 'U123', farm: 'f1' });
    expect(JSON.parse(await run('chat', 'users', 'list', '--platform', 'slack')).map((u: { user: string }) => u.user)).toEqual(['U123']);
    expect(JSON.parse(await run('chat', 'users', 'remove', '--platform', 'slack', '--user', 'U123', '--farm', 'f1'))).toMatchObject({ removed: true });
    const refused = await run('chat', 'users', 'add', '--platform', 'irc', '--user', 'x', '--farm', 'f1').catch((err: { stderr: string }) => err.stderr);
    expect(JSON.parse(refused)).toMatchObject({ error: { code: 'FH_ERR_CHAT_USER_INVALID' } });
  });
});
