import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createSqliteSpool } from '../../../services/ingestor/spool/sqlite-spool.js';

const exec = promisify(execFile);

describe('fieldhook devices / farms / dead-letters (command line)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'fh-cli-'));
  const env: NodeJS.ProcessEnv = { ...process.env, FIELDHOOK_DATA_DIR: dataDir };
  const cli = async (...args: string[]) => JSON.parse((await exec(process.execPath, ['--import', 'tsx', 'services/cli/main.ts', ...args], { env })).stdout);

  it('adds, lists, shows, rotates, disables and exports devices', async () => {
    const added = await cli('devices', 'add', 'n-1', '--farm', 'f1', '--field', 'north', '--lat', '50.8', '--lon', '4.35', '--crop', 'tomato', '--wind-height', '10');
    expect(added).toMatchObject({ id: 'n-1', farm: 'f1', field: 'north', enabled: true, location: { latitude: 50.8, longitude: 4.35, elevation: 0 } });
    expect(added.secret).toMatch(/^whsec_/);
    await cli('devices', 'add', 'gw-1', '--farm', 'f1', '--field', 'north', '--kind', 'gateway');
    // A gateway needs no field: it carries the farm's devices.
    expect(await cli('devices', 'add', 'gw-2', '--farm', 'f2', '--kind', 'gateway')).toMatchObject({ id: 'gw-2', farm: 'f2', kind: 'gateway' });

    const listed = await cli('devices', 'list', '--farm', 'f1');
    expect(listed.map((d: { id: string }) => d.id)).toEqual(['gw-1', 'n-1']);
    expect(JSON.stringify(listed)).not.toContain(added.secret);

    const shown = await cli('devices', 'show', 'n-1');
    expect(shown).toMatchObject({ profile: { crop: 'tomato', windHeightM: 10 } });
    expect(shown.secret).toBeUndefined();

    const rotated = await cli('devices', 'rotate-secret', 'n-1');
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(added.secret);

    expect(await cli('devices', 'disable', 'n-1')).toEqual({ id: 'n-1', enabled: false });
    const passwords = join(dataDir, 'passwords');
    const acl = join(dataDir, 'acl');
    expect(await cli('devices', 'export-mosquitto', '--passwords', passwords, '--acl', acl, '--ingestor-user', 'ing', '--ingestor-password', 'pw')).toMatchObject({ devices: 2 });
    expect(readFileSync(passwords, 'utf8')).toMatch(/^ing:\$7\$101\$/);
    expect(readFileSync(passwords, 'utf8')).not.toContain('n-1:');

    expect(await cli('farms', 'allow-networks', 'f1', '192.168.10.0/24')).toEqual({ farm: 'f1', allowedNetworks: ['192.168.10.0/24'], devices: 2 });
    // A misspelt farm covers no device, and says so.
    expect(await cli('farms', 'allow-networks', 'f-1', '192.168.10.0/24')).toEqual({ farm: 'f-1', allowedNetworks: ['192.168.10.0/24'], devices: 0 });
    // A node under a network server by its DevEUI as The Things Stack shows it: kept as uplinks name it.
    expect(await cli('devices', 'add', '70B3D57ED0001234', '--farm', 'f1', '--field', 'east', '--gateway', 'gw-1')).toMatchObject({ id: '70b3d57ed0001234', gateway: 'gw-1' });
  }, 60_000);

  it('refuses bad input with a code and a non-zero exit', async () => {
    await expect(exec(process.execPath, ['--import', 'tsx', 'services/cli/main.ts', 'devices', 'add', 'bad/id', '--farm', 'f', '--field', 'x'], { env })).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('FH_ERR_CLI_INVALID'),
    });
    await expect(exec(process.execPath, ['--import', 'tsx', 'services/cli/main.ts', 'devices', 'add', 'n-9', '--farm', 'a/b', '--field', 'x'], { env })).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('FH_ERR_DEVICE_INVALID'),
    });
    await expect(exec(process.execPath, ['--import', 'tsx', 'services/cli/main.ts', 'devices', 'show', 'ghost'], { env })).rejects.toMatchObject({
      stderr: expect.stringContaining('FH_ERR_DEVICE_NOT_FOUND'),
    });
    // What a field could not be built from is refused where it is typed; a blank number is not 0.
    for (const [args, code] of [
      [['--crop', 'banana'], 'FH_ERR_DEVICE_INVALID'],
      [['--soil', 'mud'], 'FH_ERR_DEVICE_INVALID'],
      [['--wind-height', '-3'], 'FH_ERR_DEVICE_INVALID'],
      [['--lat', ' ', '--lon', '4'], 'FH_ERR_CLI_INVALID'],
      [['--lat', '50', '--lon', '4', '--elevation', ''], 'FH_ERR_CLI_INVALID'],
      [['--elevation', '100'], 'FH_ERR_CLI_INVALID'],
      [['--gateway', 'no-such-gateway'], 'FH_ERR_DEVICE_INVALID'],
      [['--gateway', 'n-1'], 'FH_ERR_DEVICE_INVALID'],
    ] as const) {
      await expect(exec(process.execPath, ['--import', 'tsx', 'services/cli/main.ts', 'devices', 'add', 'n-8', '--farm', 'f', '--field', 'x', ...args], { env }), args.join(' ')).rejects.toMatchObject({
        code: 1,
        stderr: expect.stringContaining(code),
      });
    }
    expect(await cli('devices', 'list', '--farm', 'f')).toEqual([]);
    // Mistakes the option parser finds are one JSON line too, with the same code.
    for (const args of [['devices', 'add', 'n-8', '--field', 'x'], ['devices', 'add', 'n-8', '--farm', 'f'], ['devices', 'list', '--colour', 'red'], ['nosuchcommand']]) {
      const failed = await exec(process.execPath, ['--import', 'tsx', 'services/cli/main.ts', ...args], { env }).then(
        () => undefined,
        (err: { code: number; stderr: string }) => err,
      );
      expect(failed?.code, args.join(' ')).toBe(1);
      expect(JSON.parse(failed!.stderr.trim())).toMatchObject({ error: { code: 'FH_ERR_CLI_INVALID' } });
    }
  }, 60_000);

  it('a weather station registered after its field gives the field its anemometer height, unless the field has its own', async () => {
    await cli('devices', 'add', 'probe-w', '--farm', 'fw', '--field', 'w1', '--lat', '37.5', '--lon', '-5.9');
    await cli('fields', 'add', 'fw', 'w1', '--crop', 'tomato', '--soil', 'loam', '--sowing-date', '2026-10-21');
    await cli('fields', 'add', 'fw', 'w2', '--crop', 'tomato', '--soil', 'loam', '--sowing-date', '2026-10-21', '--lat', '37.5', '--lon', '-5.9', '--wind-height', '3');
    const station = await exec(process.execPath, ['--import', 'tsx', 'services/cli/main.ts', 'devices', 'add', 'ws-w', '--farm', 'fw', '--field', 'w1', '--wind-height', '10'], { env });
    expect(station.stderr).toContain('field fw/w1: anemometer height 10 m, from ws-w');
    expect((await cli('fields', 'show', 'fw', 'w1')).profile.windHeightM).toBe(10);
    await cli('devices', 'add', 'ws-w2', '--farm', 'fw', '--field', 'w2', '--wind-height', '10');
    expect((await cli('fields', 'show', 'fw', 'w2')).profile.windHeightM).toBe(3);
  }, 60_000);

  it('lists and requeues dead letters', async () => {
    const spool = createSqliteSpool({ path: join(dataDir, 'spool.db'), consumers: ['influx', 'bus'] });
    const reading = { device: 'n-1', farm: 'f1', field: 'north', ts: 1_790_000_000_000, values: { rssi: -70 } };
    await spool.addDeadLetters([{ correlationId: 'c-1', reading, status: 400, reason: 'field type conflict' }]);
    spool.close();
    const listed = await cli('dead-letters', 'list');
    expect(listed).toEqual([expect.objectContaining({ id: 1, status: 400, reason: 'field type conflict', reading })]);
    expect(await cli('dead-letters', 'requeue')).toEqual({ requeued: 1 });
    expect(await cli('dead-letters', 'list')).toEqual([]);
    // A count or an id that is not a whole number: a clear error and a non-zero exit, never SQLite's.
    for (const args of [['list', '--limit', 'abc'], ['list', '--limit', '0'], ['requeue', 'abc']]) {
      const failed = await exec(process.execPath, ['--import', 'tsx', 'services/cli/main.ts', 'dead-letters', ...args], { env }).then(() => undefined, (err: { code: number; stderr: string }) => err);
      expect(failed?.code, args.join(' ')).not.toBe(0);
      expect(failed?.stderr, args.join(' ')).toContain('FH_ERR_CLI_INVALID');
    }
  }, 30_000);
});
