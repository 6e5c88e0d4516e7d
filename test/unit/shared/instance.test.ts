import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { INSTANCE_ID_FILE, INSTANCE_ID_PATTERN, instanceClientId, registerInstanceInfo, resolveInstanceId } from '../../../services/shared/instance.js';

describe('instance identity', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fh-instance-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('makes a default id once per data folder, keeps it there (0600) and gives it back on every start', () => {
    const first = resolveInstanceId(join(dir, 'a'));
    expect(first).toMatch(INSTANCE_ID_PATTERN);
    expect(first).toMatch(/-[0-9a-f]{6}$/);
    expect(readFileSync(join(dir, 'a', INSTANCE_ID_FILE), 'utf8').trim()).toBe(first);
    expect(statSync(join(dir, 'a', INSTANCE_ID_FILE)).mode & 0o777).toBe(0o600);
    expect(resolveInstanceId(join(dir, 'a'))).toBe(first);
    // Another data folder on the same host is another instance.
    expect(resolveInstanceId(join(dir, 'b'))).not.toBe(first);
  });

  it('leaves nothing but the id file behind, and keeps an id another process stored first', () => {
    const first = resolveInstanceId(dir);
    expect(readdirSync(dir)).toEqual([INSTANCE_ID_FILE]);
    writeFileSync(join(dir, INSTANCE_ID_FILE), 'theirs-1\n');
    expect(resolveInstanceId(dir)).toBe('theirs-1');
    expect(first).not.toBe('theirs-1');
  });

  it('uses FIELDHOOK_INSTANCE_ID when given, without writing the default', () => {
    expect(resolveInstanceId(dir, 'ingest-2')).toBe('ingest-2');
    expect(() => readFileSync(join(dir, INSTANCE_ID_FILE))).toThrow();
  });

  it('refuses an id that cannot go into a client id, a log line and a label (FH_ERR_CONFIG_INVALID)', () => {
    for (const bad of ['has space', 'a/b', '-leading', 'x'.repeat(49)]) {
      expect(() => resolveInstanceId(dir, bad), bad).toThrow(expect.objectContaining({ code: 'FH_ERR_CONFIG_INVALID' }));
    }
    writeFileSync(join(dir, INSTANCE_ID_FILE), 'not an id\n');
    expect(() => resolveInstanceId(dir)).toThrow(expect.objectContaining({ code: 'FH_ERR_CONFIG_INVALID' }));
  });

  it("names internal parts' client ids after the instance, keeping the reserved fieldhook- prefix", () => {
    expect(instanceClientId('fieldhook-predict', 'gw-3fa9c1')).toBe('fieldhook-predict-gw-3fa9c1');
    expect(instanceClientId('fieldhook-predict', undefined)).toBe('fieldhook-predict');
  });

  it('exposes fieldhook_instance_info with the id as its label', async () => {
    const registry = new Registry();
    registerInstanceInfo(registry, 'gw-3fa9c1');
    expect(await registry.metrics()).toContain('fieldhook_instance_info{instance_id="gw-3fa9c1"} 1');
  });
});
