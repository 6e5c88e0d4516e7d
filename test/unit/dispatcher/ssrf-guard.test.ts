import type { LookupAddress } from 'node:dns';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkUrl,
  createAddressGuard,
  createGuardedLookup,
  parseLiteralHost,
  policyFor,
  type Resolver,
} from '../../../services/dispatcher/ssrf-guard.js';

const guard = createAddressGuard(policyFor({}, [], false));

const HOSTILE_URLS: [string, string][] = [
  ['loopback dotted', 'http://127.0.0.1/'],
  ['loopback decimal', 'http://2130706433/'],
  ['loopback octal', 'http://0177.0.0.1/'],
  ['loopback hex dotted', 'http://0x7f.0.0.1/'],
  ['loopback hex integer', 'http://0x7f000001/'],
  ['loopback short form', 'http://127.1/'],
  ['loopback other /8 address', 'https://127.255.0.9:8443/x'],
  ['unspecified as 0', 'http://0/'],
  ['unspecified dotted', 'http://0.0.0.0:8080/'],
  ['IPv6 loopback', 'http://[::1]/'],
  ['IPv6 unspecified', 'http://[::]/'],
  ['IPv4-mapped loopback', 'http://[::ffff:127.0.0.1]/'],
  ['IPv4-mapped loopback hex', 'http://[::ffff:7f00:1]/'],
  ['IPv4-mapped metadata', 'http://[::ffff:169.254.169.254]/'],
  ['cloud metadata', 'http://169.254.169.254/latest/meta-data/'],
  ['cloud metadata hex', 'http://0xa9fea9fe/'],
  ['cloud metadata decimal', 'http://2852039166/'],
  ['RFC 1918 10/8', 'http://10.0.0.1/'],
  ['RFC 1918 10/8 octal', 'http://012.0.0.1/'],
  ['RFC 1918 172.16/12', 'http://172.16.5.4/'],
  ['RFC 1918 192.168/16', 'http://192.168.1.1/'],
  ['RFC 1918 trailing dot', 'http://192.168.1.1./'],
  ['CGNAT', 'http://100.64.0.1/'],
  ['unique-local IPv6', 'http://[fd00::1]/'],
  ['link-local IPv6', 'http://[fe80::1]/'],
  ['multicast IPv4', 'http://224.0.0.1/'],
  ['multicast IPv6', 'http://[ff02::1]/'],
  ['broadcast', 'http://255.255.255.255/'],
  ['NAT64 embedding 10.0.0.1', 'http://[64:ff9b::a00:1]/'],
  ['6to4 embedding 127.0.0.1', 'http://[2002:7f00:1::]/'],
  ['localhost name', 'http://localhost:3000/'],
  ['localhost subdomain', 'http://api.localhost/'],
];

describe('SSRF guard: literal destinations in every notation', () => {
  it.each(HOSTILE_URLS)('refuses %s (%s)', (_name, url) => {
    expect(() => checkUrl(url, guard)).toThrowError(expect.objectContaining({ code: 'FH_ERR_WEBHOOK_SSRF_BLOCKED' }));
  });

  it('admits localhost only where loopback is allow-listed, like the literal address', () => {
    const loopbackAllowed = createAddressGuard(policyFor({ '*': ['127.0.0.0/8', '::1/128'] }, [], false));
    expect(checkUrl('http://localhost:3000/hook', loopbackAllowed).hostname).toBe('localhost');
    expect(checkUrl('http://127.0.0.1:3000/hook', loopbackAllowed).hostname).toBe('127.0.0.1');
    expect(() => checkUrl('http://localhost:3000/hook', guard)).toThrowError(expect.objectContaining({ code: 'FH_ERR_WEBHOOK_SSRF_BLOCKED' }));
    // IPv4 loopback alone is not enough: localhost may resolve to ::1, and every address must pass.
    const v4Only = createAddressGuard(policyFor({ '*': ['127.0.0.0/8'] }, [], false));
    expect(() => checkUrl('http://localhost:3000/hook', v4Only)).toThrowError(expect.objectContaining({ code: 'FH_ERR_WEBHOOK_SSRF_BLOCKED' }));
  });

  it('lets public addresses and names through the URL check', () => {
    expect(checkUrl('https://93.184.216.34/hook', guard).hostname).toBe('93.184.216.34');
    expect(checkUrl('https://hooks.example.com/x', guard).hostname).toBe('hooks.example.com');
    expect(checkUrl('https://[2606:4700::1111]/x', guard).hostname).toBe('[2606:4700::1111]');
  });

  it('refuses non-HTTP schemes, credentials, and http under https_only', () => {
    for (const url of ['file:///etc/passwd', 'gopher://example.com/', 'ftp://example.com/']) {
      expect(() => checkUrl(url, guard)).toThrowError(expect.objectContaining({ code: 'FH_ERR_SUBSCRIPTION_INVALID_URL' }));
    }
    expect(() => checkUrl('https://u:p@example.com/', guard)).toThrowError(expect.objectContaining({ code: 'FH_ERR_SUBSCRIPTION_INVALID_URL' }));
    const strict = createAddressGuard(policyFor({}, [], true));
    expect(() => checkUrl('http://example.com/', strict)).toThrowError(expect.objectContaining({ code: 'FH_ERR_SUBSCRIPTION_INVALID_URL' }));
    expect(checkUrl('https://example.com/', strict).protocol).toBe('https:');
  });

  it('refuses any loopback address whatever notation renders it (property)', () => {
    const notations = fc.tuple(fc.integer({ min: 0, max: 0xffffff }), fc.constantFrom('dec', 'hex', 'oct', 'dotted-hex', 'short'));
    fc.assert(
      fc.property(notations, ([low, style]) => {
        const n = (127 * 2 ** 24 + low) >>> 0;
        const host =
          style === 'dec'
            ? String(n)
            : style === 'hex'
              ? `0x${n.toString(16)}`
              : style === 'oct'
                ? `0${n.toString(8)}`
                : style === 'dotted-hex'
                  ? `0x7f.0x${(low >> 16).toString(16)}.0x${((low >> 8) & 255).toString(16)}.0x${(low & 255).toString(16)}`
                  : `127.${low}`;
        const parsed = parseLiteralHost(host);
        expect(parsed?.toString()).toBe(`127.${low >> 16}.${(low >> 8) & 255}.${low & 255}`);
        expect(() => checkUrl(`http://${host}/`, guard)).toThrow();
      }),
    );
  });
});

function fakeResolver(table: Record<string, string[] | Error | (() => string[])>): Resolver {
  return async (hostname) => {
    const entry = table[hostname];
    if (entry === undefined) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    if (entry instanceof Error) throw entry;
    const list = typeof entry === 'function' ? entry() : entry;
    return list.map((address): LookupAddress => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
}

function lookupOnce(lookup: ReturnType<typeof createGuardedLookup>, host: string, all = false) {
  return new Promise<{ err: (Error & { code?: string }) | null; address: unknown }>((resolve) =>
    lookup(host, { all } as never, (err, address) => resolve({ err, address })),
  );
}

describe('SSRF guard: names are checked on what they resolve to', () => {
  let calls = 0;
  const resolver = fakeResolver({
    'internal.example': ['10.1.2.3'],
    'metadata.example': ['169.254.169.254'],
    'mixed.example': ['93.184.216.34', '192.168.0.10'],
    'ula.example': ['fd12::1'],
    'mapped.example': ['::ffff:10.0.0.1'],
    'loop6.example': ['::1'],
    'cgnat.example': ['100.100.1.1'],
    'public.example': ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'],
    'broken.example': Object.assign(new Error('SERVFAIL'), { code: 'ESERVFAIL' }),
    'empty.example': [],
    // First answer public, second private: the classic rebinding attack.
    'rebind.example': () => (calls++ === 0 ? ['93.184.216.34'] : ['127.0.0.1']),
  });
  const lookup = createGuardedLookup(guard, { resolver });

  it.each([
    'internal.example',
    'metadata.example',
    'mixed.example',
    'ula.example',
    'mapped.example',
    'loop6.example',
    'cgnat.example',
  ])('refuses %s', async (host) => {
    for (const all of [false, true]) {
      const { err } = await lookupOnce(lookup, host, all);
      expect(err?.code).toBe('FH_ERR_WEBHOOK_SSRF_BLOCKED');
    }
  });

  it('fails closed when the lookup fails or returns nothing', async () => {
    expect((await lookupOnce(lookup, 'broken.example')).err?.code).toBe('ESERVFAIL');
    expect((await lookupOnce(lookup, 'nxdomain.example')).err?.code).toBe('ENOTFOUND');
    expect((await lookupOnce(lookup, 'empty.example')).err).not.toBeNull();
  });

  it('refuses a name that rebinds to loopback between two lookups', async () => {
    calls = 0;
    const first = await lookupOnce(lookup, 'rebind.example');
    expect(first.err).toBeNull();
    expect(first.address).toBe('93.184.216.34');
    const second = await lookupOnce(lookup, 'rebind.example');
    expect(second.err?.code).toBe('FH_ERR_WEBHOOK_SSRF_BLOCKED');
  });

  it('passes public answers through in the shape net.connect asked for', async () => {
    expect((await lookupOnce(lookup, 'public.example')).address).toBe('93.184.216.34');
    const all = await lookupOnce(lookup, 'public.example', true);
    expect(all.address).toHaveLength(2);
  });
});

describe('SSRF guard: per-farm allow-list', () => {
  const allow = { 'farm-a': ['192.168.10.0/24'], 'farm-b': ['10.8.0.0/16'], '*': ['100.64.5.5'] };

  it('admits a farm LAN only for subscriptions scoped to that farm', () => {
    const farmA = createAddressGuard(policyFor(allow, ['farm-a'], false));
    const everyFarm = createAddressGuard(policyFor(allow, [], false));
    const farmsAB = createAddressGuard(policyFor(allow, ['farm-a', 'farm-b'], false));
    expect(farmA.check('192.168.10.20')).toMatchObject({ allowed: true, via: 'allow-list' });
    expect(farmA.check('192.168.11.20')).toMatchObject({ allowed: false, range: 'private' });
    expect(farmA.check('10.8.1.1')).toMatchObject({ allowed: false });
    // A subscription receiving every farm's events may not reach one farm's LAN.
    expect(everyFarm.check('192.168.10.20')).toMatchObject({ allowed: false });
    // Both farms must list the address.
    expect(farmsAB.check('192.168.10.20')).toMatchObject({ allowed: false });
    // The global entry is open to all.
    expect(everyFarm.check('100.64.5.5')).toMatchObject({ allowed: true, via: 'allow-list' });
    expect(everyFarm.check('100.64.5.6')).toMatchObject({ allowed: false, range: 'carrierGradeNat' });
  });

  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'])(
    'gives a farm named %s an empty allow-list, never an Object.prototype member (was a 500)',
    (farm) => {
      const policy = policyFor(allow, [farm], false);
      expect(policy.perFarm).toEqual([[]]);
      const scoped = createAddressGuard(policy);
      expect(scoped.check('192.168.10.20')).toMatchObject({ allowed: false, range: 'private' });
      expect(scoped.check('100.64.5.5')).toMatchObject({ allowed: true, via: 'allow-list' });
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    },
  );

  it('reads the allow-list configuration as own entries only', () => {
    // Parsed JSON: "__proto__" is an own key there, so it is a farm's list like any other.
    const parsed = JSON.parse('{"__proto__":["10.9.0.0/16"],"farm-a":["192.168.10.0/24"]}') as Record<string, string[]>;
    expect(policyFor(parsed, ['__proto__'], false).perFarm).toEqual([['10.9.0.0/16']]);
    // No "*" entry: no global list, even when Object.prototype would answer one.
    expect(policyFor(Object.create({ '*': ['0.0.0.0/0'] }) as Record<string, string[]>, [], false).global).toEqual([]);
  });

  it('reports allow-listed admissions for the audit log', async () => {
    const seen: unknown[] = [];
    const farmA = createAddressGuard(policyFor(allow, ['farm-a'], false));
    const lookup = createGuardedLookup(farmA, {
      resolver: fakeResolver({ 'pump.farm-a.lan': ['192.168.10.7'] }),
      onAllowListed: (info) => seen.push(info),
    });
    expect((await lookupOnce(lookup, 'pump.farm-a.lan')).err).toBeNull();
    expect(seen).toEqual([{ hostname: 'pump.farm-a.lan', address: '192.168.10.7', cidr: '192.168.10.0/24' }]);
  });
});
