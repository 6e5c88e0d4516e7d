import { pbkdf2Sync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { exportMosquitto, mosquittoPasswordHash } from '../../../services/registry/mosquitto-export.js';
import type { DeviceWithSecret } from '../../../services/registry/device.js';

describe('Mosquitto export', () => {
  it('hashes like mosquitto_passwd ($7$, PBKDF2-SHA512, 101 rounds)', () => {
    // Produced by `mosquitto_passwd -b` (Mosquitto 2.0.11) for password "secret1".
    const salt = Buffer.from('EuJyItXEFJ67uXes', 'base64');
    expect(mosquittoPasswordHash('secret1', salt)).toBe(
      '$7$101$EuJyItXEFJ67uXes$M/96tMUUhHP9u+Ey2+ISjjXAmNzA7DfbEdIgyVdHMVj4ub04nF3saUXLgEQ42Fm460DU9zDC5YAGdmRGgXXMTA==',
    );
    const [, , , s, h] = mosquittoPasswordHash('x').split('$');
    expect(pbkdf2Sync('x', Buffer.from(s!, 'base64'), 101, 64, 'sha512').toString('base64')).toBe(h);
  });

  it('lists enabled devices only and pins each to its own topics', () => {
    const device = (id: string, enabled: boolean): DeviceWithSecret => ({
      id, farm: 'f', field: 'x', kind: 'device', enabled, allowedNetworks: [], createdAt: '', secret: `s-${id}`,
    });
    const out = exportMosquitto([device('a', true), device('b', false)], { username: 'ing', password: 'p' });
    expect(out.passwordFile.split('\n').filter(Boolean).map((l) => l.split(':')[0])).toEqual(['ing', 'a']);
    expect(out.aclFile).toContain('pattern write fieldhook/v1/devices/%u/readings');
    expect(out.aclFile).toContain('user ing\ntopic readwrite fieldhook/#');
    expect(out).toMatchObject({ exported: ['a'], skipped: [] });
  });

  it('leaves out, and names, a device whose id Mosquitto would cut at its colon', () => {
    const device = (id: string): DeviceWithSecret => ({ id, farm: 'f', field: 'x', kind: 'device', enabled: true, allowedNetworks: [], createdAt: '', secret: `s-${id}` });
    const out = exportMosquitto([device('n-1'), device('urn:dev:7')], { username: 'ing', password: 'p' });
    expect(out.passwordFile.split('\n').filter(Boolean).map((l) => l.slice(0, l.indexOf(':$7$')))).toEqual(['ing', 'n-1']);
    expect(out.exported).toEqual(['n-1']);
    expect(out.skipped).toEqual([{ id: 'urn:dev:7', reason: expect.stringContaining('colon') }]);
  });
});
