import { createHash, timingSafeEqual } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import { parseNetwork } from '../shared/networks.js';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import type { DeviceRepository, DeviceWithSecret } from '../registry/device.js';
import { secretsEqual } from '../registry/secrets.js';
import { Errors } from '../shared/error-catalog.js';

/** Headers of a Standard-Webhooks-signed request; the device is named by `fieldhook-device`. */
export interface SignatureHeaders {
  'webhook-id'?: string;
  'webhook-timestamp'?: string;
  'webhook-signature'?: string;
}

export interface Authenticator {
  /** `Authorization: Bearer <secret>`: the secret identifies the device. */
  bearer(secret: string): Promise<DeviceWithSecret>;
  /**
   * The first half of a signed request's check, before its body is read: all three headers are
   * there, the timestamp is within ±300 s, and the named device exists and is enabled.
   */
  signedDevice(deviceId: string, headers: SignatureHeaders): Promise<DeviceWithSecret>;
  /** The second half, once the body is read: HMAC over `id.timestamp.rawBody` with the device's secret. */
  verifySignature(device: DeviceWithSecret, headers: SignatureHeaders, rawBody: Buffer): void;
  /** Both halves: HMAC over `id.timestamp.rawBody` with the device's secret, ±300 s. */
  signature(deviceId: string, headers: SignatureHeaders, rawBody: Buffer): Promise<DeviceWithSecret>;
  /** MQTT: username = device id, password = secret. */
  password(deviceId: string, password: string): Promise<DeviceWithSecret>;
  /** Throws unless `ip` is in the device's (else its farm's) allowed networks, when any are set. */
  checkNetwork(device: DeviceWithSecret, ip: string | undefined): Promise<void>;
}

/** How far a `webhook-timestamp` may be from the server clock (the Standard Webhooks tolerance). */
export const SIGNATURE_TOLERANCE_S = 300;

/** A device id as a client gave it, safe to repeat in a message (never the whole of a long header). */
const quoted = (id: string) => JSON.stringify(id.length > 64 ? `${id.slice(0, 64)}…` : id);

/** Throws unless all three signature headers are present and the timestamp is within the tolerance. */
export function checkSignatureHeaders(headers: SignatureHeaders, nowMs: number = Date.now()): void {
  const { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signature } = headers;
  if (!id || !timestamp || !signature) {
    throw Errors.authMissing('A signed request needs all of webhook-id, webhook-timestamp and webhook-signature');
  }
  if (!/^\d{1,12}$/.test(timestamp)) throw Errors.authSignatureInvalid('webhook-timestamp must be Unix seconds');
  if (Math.abs(Math.floor(nowMs / 1000) - Number(timestamp)) > SIGNATURE_TOLERANCE_S) throw Errors.authSignatureStale();
}

function usable(device: DeviceWithSecret | undefined, unknown: () => Error): DeviceWithSecret {
  if (!device) throw unknown();
  if (!device.enabled) throw Errors.deviceDisabled();
  return device;
}

export function inNetworks(ip: string, cidrs: string[]): boolean {
  let address: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    address = ipaddr.process(ip);
  } catch {
    return false;
  }
  return cidrs.some((cidr) => {
    // Stored before networks were checked, an entry that is not one matches nothing (never a 500).
    const network = parseNetwork(cidr);
    if (network === undefined) return false;
    const [range, bits] = network;
    const candidate =
      range.kind() === address.kind()
        ? address
        : address.kind() === 'ipv4'
          ? (address as ipaddr.IPv4).toIPv4MappedAddress()
          : undefined;
    return candidate !== undefined && candidate.match([range, bits] as [ipaddr.IPv4 | ipaddr.IPv6, number]);
  });
}

export function createAuthenticator(devices: DeviceRepository): Authenticator {
  const auth: Authenticator = {
    async bearer(secret) {
      return usable(await devices.findBySecret(secret), () => Errors.authInvalid());
    },

    async signedDevice(deviceId, headers) {
      checkSignatureHeaders(headers);
      return usable(await devices.get(deviceId), () => Errors.deviceUnknown(`Unknown device ${quoted(deviceId)}`));
    },

    verifySignature(device, headers, rawBody) {
      try {
        new Webhook(device.secret).verify(rawBody, headers as Record<string, string>, { jsonParse: false });
      } catch (err) {
        if (err instanceof WebhookVerificationError && /timestamp too (old|new)/.test(err.message)) {
          throw Errors.authSignatureStale();
        }
        if (err instanceof WebhookVerificationError && /Missing/.test(err.message)) throw Errors.authMissing();
        throw Errors.authSignatureInvalid();
      }
    },

    async signature(deviceId, headers, rawBody) {
      const device = await auth.signedDevice(deviceId, headers);
      auth.verifySignature(device, headers, rawBody);
      return device;
    },

    async password(deviceId, password) {
      const device = usable(await devices.get(deviceId), () => Errors.deviceUnknown(`Unknown device ${deviceId}`));
      if (!secretsEqual(device.secret, password)) throw Errors.authInvalid('Wrong password');
      return device;
    },

    async checkNetwork(device, ip) {
      const cidrs = device.allowedNetworks.length > 0 ? device.allowedNetworks : await devices.getFarmNetworks(device.farm);
      if (cidrs.length === 0) return;
      if (!ip || !inNetworks(ip, cidrs)) throw Errors.authNetworkForbidden(`Source ${ip ?? 'unknown'} is not allowed for ${device.id}`);
    },
  };
  return auth;
}

/** Who sent a request to a route that takes a device's (or gateway's) secret or the admin token. */
export type AdminOrDevice = { kind: 'admin' } | { kind: 'device'; device: DeviceWithSecret };

const BEARER = /^Bearer[ ]+(\S+)$/i;
const sha256 = (s: string) => createHash('sha256').update(s).digest();

/**
 * The check of `Authorization: Bearer <device secret or admin token>`, built once per route
 * plugin: the admin token (compared as digests, in constant time) or a device's secret, which must
 * also come from the device's allowed networks. `expected` names the credential in refusals
 * (`device secret or admin token`); `adminOnly` refuses a device's with `FH_ERR_AUTH_UNAUTHORIZED`
 * without looking it up.
 */
export function adminOrDeviceBearer(opts: { auth: Authenticator; adminToken: string | undefined; expected: string }) {
  const admin = opts.adminToken ? sha256(opts.adminToken) : null;
  return async (request: { headers: { authorization?: string | undefined }; ip: string }, check: { adminOnly?: boolean } = {}): Promise<AdminOrDevice> => {
    const header = request.headers.authorization;
    if (header === undefined) throw Errors.authMissing(`Send Authorization: Bearer <${opts.expected}>`);
    const secret = BEARER.exec(header)?.[1];
    if (secret === undefined) throw Errors.authMalformed(`Authorization must be \`Bearer <${opts.expected}>\``);
    if (admin && timingSafeEqual(sha256(secret), admin)) return { kind: 'admin' };
    if (check.adminOnly) throw Errors.authUnauthorized();
    const device = await opts.auth.bearer(secret);
    await opts.auth.checkNetwork(device, request.ip);
    return { kind: 'device', device };
  };
}
