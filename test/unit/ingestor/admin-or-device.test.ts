/**
 * The one bearer check of the routes open to devices and the admin (irrigations, forecasts): the
 * admin token, or a device secret from an allowed network; refusals with catalog codes.
 */
import { describe, expect, it } from 'vitest';
import { adminOrDeviceBearer, type Authenticator } from '../../../services/ingestor/auth.js';
import type { DeviceWithSecret } from '../../../services/registry/device.js';
import { Errors } from '../../../services/shared/error-catalog.js';

const ADMIN = 'admin-token-0123456789abcdef';
const device = { id: 'n-1', farm: 'f1', field: 'north', kind: 'device', enabled: true, allowedNetworks: ['10.0.0.0/8'], createdAt: '', secret: 'device-secret' } as DeviceWithSecret;
// The authenticator's own checks are tested with it; here only what the bearer check asks of it.
const auth = {
  bearer: async (secret: string) => {
    if (secret !== device.secret) throw Errors.authInvalid();
    return device;
  },
  checkNetwork: async (d: DeviceWithSecret, ip: string | undefined) => {
    if (!ip?.startsWith('10.')) throw Errors.authNetworkForbidden(`Source ${ip} is not allowed for ${d.id}`);
  },
} as unknown as Authenticator;

const codeOf = async (p: Promise<unknown>) => p.then(() => 'ok', (err: { code: string }) => err.code);
const req = (authorization: string | undefined, ip = '10.1.2.3') => ({ headers: authorization === undefined ? {} : { authorization }, ip });

describe('admin or device bearer', () => {
  const check = adminOrDeviceBearer({ auth, adminToken: ADMIN, expected: 'device secret or admin token' });

  it('tells the admin token from a device secret', async () => {
    expect(await check(req(`Bearer ${ADMIN}`))).toEqual({ kind: 'admin' });
    expect(await check(req('bearer   device-secret'))).toEqual({ kind: 'device', device });
    expect(await check(req(`Bearer ${ADMIN}`, '192.0.2.1'), { adminOnly: true })).toEqual({ kind: 'admin' });
  });

  it('refuses with catalog codes: none, malformed, unknown, wrong network, a device where only the admin may', async () => {
    expect(await codeOf(check(req(undefined)))).toBe('FH_ERR_AUTH_MISSING');
    expect(await codeOf(check(req('Basic abc')))).toBe('FH_ERR_AUTH_MALFORMED');
    expect(await codeOf(check(req('Bearer nope')))).toBe('FH_ERR_AUTH_INVALID');
    expect(await codeOf(check(req('Bearer device-secret', '192.0.2.1')))).toBe('FH_ERR_AUTH_NETWORK_FORBIDDEN');
    expect(await codeOf(check(req('Bearer device-secret'), { adminOnly: true }))).toBe('FH_ERR_AUTH_UNAUTHORIZED');
    await expect(check(req(undefined))).rejects.toThrow('Bearer <device secret or admin token>');
  });

  it('takes no admin token when none is configured', async () => {
    const devicesOnly = adminOrDeviceBearer({ auth, adminToken: undefined, expected: 'gateway secret' });
    expect(await codeOf(devicesOnly(req('Bearer '), {}))).toBe('FH_ERR_AUTH_MALFORMED');
    expect(await codeOf(devicesOnly(req(`Bearer ${ADMIN}`)))).toBe('FH_ERR_AUTH_INVALID');
  });
});
