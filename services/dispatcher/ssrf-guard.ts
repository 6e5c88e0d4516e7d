import { lookup as dnsLookup } from 'node:dns';
import type { LookupAddress, LookupAllOptions, LookupOneOptions } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { parseNetwork, type Network } from '../shared/networks.js';
import { Agent, buildConnector } from 'undici';
import { Errors } from '../shared/error-catalog.js';
import type { FieldhookError } from '../shared/errors.js';

/**
 * The only ranges a webhook may reach without an allow-list entry. Everything ipaddr.js does not
 * classify as plain `unicast` is refused: loopback, RFC 1918, link-local (cloud metadata at
 * 169.254.169.254), CGNAT, unique-local, IPv4-mapped/translated IPv6, 6to4, Teredo, multicast,
 * unspecified, broadcast, reserved and documentation ranges. A deny-by-default rule means a range
 * we forgot is refused rather than reachable.
 */
export const PUBLIC_RANGE = 'unicast';

type Cidr = Network;

export interface SsrfPolicy {
  /** Ranges open to every subscription (`"*"` in the allow-list). */
  global: readonly string[];
  /** One list per farm of the subscription's `farms` filter; an address must be in all of them. */
  perFarm: readonly (readonly string[])[];
  /** Refuse `http:` URLs. */
  httpsOnly: boolean;
}

export const DEFAULT_SSRF_POLICY: SsrfPolicy = Object.freeze({ global: [], perFarm: [], httpsOnly: false });

/**
 * Build the policy of a subscription from the per-farm allow-list config. Farm names come from the
 * subscription request: they are looked up as own entries only, so a farm called `constructor`,
 * `__proto__` or `toString` has no allow-list (an empty one), never an Object.prototype member.
 */
export function policyFor(
  allowCidrs: Readonly<Record<string, readonly string[]>>,
  farms: readonly string[],
  httpsOnly: boolean,
): SsrfPolicy {
  const listOf = (key: string): readonly string[] => {
    const list = Object.hasOwn(allowCidrs, key) ? allowCidrs[key] : undefined;
    return Array.isArray(list) ? list : [];
  };
  return {
    global: listOf('*'),
    // A subscription that receives every farm's events must not reach any one farm's LAN.
    perFarm: farms.length === 0 ? [] : farms.map(listOf),
    httpsOnly,
  };
}

export function ssrfError(message: string, details: Record<string, unknown> = {}): FieldhookError {
  return Errors.webhookSsrfBlocked(message, details);
}

/**
 * Parse a host that is a literal address in any notation a resolver or URL parser might accept:
 * dotted, decimal (`2130706433`), octal (`0177.0.0.1`), hex (`0x7f.1`), short (`127.1`),
 * bracketed or zoned IPv6, trailing dot. Null when the host is a name.
 */
export function parseLiteralHost(host: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  let h = host.trim();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.endsWith('.')) h = h.slice(0, -1);
  if (ipaddr.IPv6.isValid(h)) return ipaddr.IPv6.parse(h);
  // ipaddr's IPv4 parser takes the inet_aton forms (1 to 4 parts, each decimal/octal/hex).
  if (ipaddr.IPv4.isValid(h)) return ipaddr.IPv4.parse(h);
  return null;
}

/** The allow-list's ranges (checked when the configuration is loaded; a bad one here is a bug). */
function parseCidrs(list: readonly string[]): Cidr[] {
  return list.map((c) => {
    const network = parseNetwork(c);
    if (network === undefined) throw new Error(`${c} is neither a CIDR range nor an address`);
    return network;
  });
}

function inAny(addr: ipaddr.IPv4 | ipaddr.IPv6, cidrs: Cidr[]): string | null {
  for (const [range, bits] of cidrs) {
    if (addr.kind() === range.kind() && addr.match([range, bits] as never)) return `${range.toString()}/${bits}`;
  }
  return null;
}

export type AddressVerdict =
  | { allowed: true; via: 'public' }
  | { allowed: true; via: 'allow-list'; cidr: string }
  | { allowed: false; range: string };

/** A compiled policy: parse CIDRs once, then check addresses cheaply. */
export interface AddressGuard {
  readonly policy: SsrfPolicy;
  check(address: string | ipaddr.IPv4 | ipaddr.IPv6): AddressVerdict;
}

export function createAddressGuard(policy: SsrfPolicy): AddressGuard {
  const global = parseCidrs(policy.global);
  const perFarm = policy.perFarm.map(parseCidrs);
  return {
    policy,
    check(address) {
      const parsed = typeof address === 'string' ? parseLiteralHost(address) : address;
      if (!parsed) return { allowed: false, range: 'invalid' };
      // Drop a zone id: it does not change which host is reached, only through which interface.
      const range = parsed.range();
      if (range === PUBLIC_RANGE) return { allowed: true, via: 'public' };
      const viaGlobal = inAny(parsed, global);
      if (viaGlobal) return { allowed: true, via: 'allow-list', cidr: viaGlobal };
      if (perFarm.length > 0) {
        const hits = perFarm.map((list) => inAny(parsed, list));
        if (hits.every((h) => h !== null)) return { allowed: true, via: 'allow-list', cidr: hits[0]! };
      }
      return { allowed: false, range };
    },
  };
}

/**
 * Check a subscription URL before it is stored or used: scheme, credentials, literal addresses.
 * Host names are checked later, on every connection, against what they resolve to.
 */
export function checkUrl(rawUrl: string, guard: AddressGuard): URL {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw Errors.subscriptionInvalidUrl('Not an absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw Errors.subscriptionInvalidUrl('Only http and https URLs are allowed');
  }
  if (guard.policy.httpsOnly && url.protocol !== 'https:') {
    throw Errors.subscriptionInvalidUrl('Only https URLs are allowed (https_only)');
  }
  if (url.username || url.password) {
    throw Errors.subscriptionInvalidUrl('Credentials in the URL are not allowed; use a secret');
  }
  // No connection is ever made to port 0: every delivery would fail until the endpoint is disabled.
  if (url.port === '0') throw Errors.subscriptionInvalidUrl('Port 0 cannot be connected to', { field: 'url' });
  const literal = parseLiteralHost(url.hostname);
  if (literal) {
    const verdict = guard.check(literal);
    if (!verdict.allowed) throw ssrfError(`Destination ${literal.toString()} is in a refused range (${verdict.range})`, { range: verdict.range });
  } else if (url.hostname === '') {
    throw ssrfError('Destination has no host');
  } else if (/^localhost$|\.localhost$/i.test(url.hostname)) {
    // `localhost` is loopback by definition (RFC 6761) and may resolve to either family: judged
    // as both now, so the refusal is clear at once, and an allow-list covering loopback (as every
    // resolved address must pass at connect time) admits it like the literal addresses.
    for (const loopback of ['127.0.0.1', '::1']) {
      const verdict = guard.check(parseLiteralHost(loopback)!);
      if (!verdict.allowed) throw ssrfError(`Destination localhost (${loopback}) is in a refused range (${verdict.range})`, { range: verdict.range });
    }
  }
  return url;
}

/** Resolve a name to every address; injectable so tests can simulate hostile DNS. */
export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

export const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses)));
  });

export interface GuardHooks {
  /** Called when an allow-list entry admits a connection (for the audit log). */
  onAllowListed?: (info: { hostname: string; address: string; cidr: string }) => void;
  resolver?: Resolver;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `net.connect` lookup that resolves, refuses the connection if any resolved address is
 * refused, and hands only checked addresses to the socket: the address connected to is the one
 * checked, so a DNS answer that changes between two lookups (rebinding) gains nothing. A failed
 * lookup fails closed.
 */
export function createGuardedLookup(guard: AddressGuard, hooks: GuardHooks = {}) {
  const resolver = hooks.resolver ?? systemResolver;
  return function guardedLookup(hostname: string, options: LookupOneOptions | LookupAllOptions | LookupCallback, callback?: LookupCallback): void {
    const cb = (typeof options === 'function' ? options : callback) as LookupCallback;
    const opts = (typeof options === 'function' ? {} : options) as { all?: boolean; family?: number };
    resolver(hostname).then(
      (addresses) => {
        if (addresses.length === 0) return cb(Object.assign(ssrfError(`No address for ${hostname}`), { code: 'ENOTFOUND' }), '');
        const wanted = opts.family === 4 || opts.family === 6 ? addresses.filter((a) => a.family === opts.family) : addresses;
        for (const a of addresses) {
          const verdict = guard.check(a.address);
          if (!verdict.allowed) {
            return cb(ssrfError(`${hostname} resolves to ${a.address}, a refused range (${verdict.range})`, { range: verdict.range }), '');
          }
          if (verdict.via === 'allow-list') hooks.onAllowListed?.({ hostname, address: a.address, cidr: verdict.cidr });
        }
        const list = wanted.length > 0 ? wanted : addresses;
        if (opts.all) cb(null, list);
        else cb(null, list[0]!.address, list[0]!.family);
      },
      (err: NodeJS.ErrnoException) => cb(err, ''),
    );
  };
}

export interface GuardedAgentOptions extends GuardHooks {
  /** TCP+TLS connect timeout, ms. Default 10000. */
  connectTimeoutMs?: number;
  /** Keep-alive connections per origin. Default 64. */
  connections?: number;
}

/**
 * An undici Agent whose every connection goes through the guard twice: the lookup above for
 * names, and a check of the socket's remote address once connected, which also covers literal
 * IPs (Node skips the lookup hook for those) and anything a future resolver path might bypass.
 */
export function createGuardedAgent(guard: AddressGuard, options: GuardedAgentOptions = {}): Agent {
  const lookup = createGuardedLookup(guard, options);
  const base = buildConnector({ timeout: options.connectTimeoutMs ?? 10_000, lookup } as buildConnector.BuildOptions);
  const connect: buildConnector.connector = (opts, callback) => {
    base(opts, (err, socket) => {
      if (err || !socket) return callback(err ?? new Error('connect failed'), null);
      const remote = socket.remoteAddress ?? '';
      const verdict = isIP(remote) ? guard.check(remote) : ({ allowed: false, range: 'unknown' } as const);
      if (!verdict.allowed) {
        socket.destroy();
        return callback(ssrfError(`Connected address ${remote} is in a refused range (${verdict.range})`, { range: verdict.range }), null);
      }
      if (verdict.via === 'allow-list') options.onAllowListed?.({ hostname: opts.hostname, address: remote, cidr: verdict.cidr });
      callback(null, socket);
    });
  };
  return new Agent({ connect, connections: options.connections ?? 64, keepAliveTimeout: 10_000 });
}
