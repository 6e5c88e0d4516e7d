import ipaddr from 'ipaddr.js';
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
  /** HMAC over `id.timestamp.rawBody` with the device's secret, ±300 s. */
  signature(deviceId: string, headers: SignatureHeaders, rawBody: Buffer): Promise<DeviceWithSecret>;
  /** MQTT: username = device id, password = secret. */
  password(deviceId: string, password: string): Promise<DeviceWithSecret>;
  /** Throws unless `ip` is in the device's (else its farm's) allowed networks, when any are set. */
  checkNetwork(device: DeviceWithSecret, ip: string | undefined): Promise<void>;
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
    const [range, bits] = ipaddr.parseCIDR(cidr);
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
  return {
    async bearer(secret) {
      return usable(await devices.findBySecret(secret), () => Errors.authInvalid());
    },

    async signature(deviceId, headers, rawBody) {
      const device = usable(await devices.get(deviceId), () => Errors.deviceUnknown(`Unknown device ${deviceId}`));
      try {
        new Webhook(device.secret).verify(rawBody, headers as Record<string, string>, { jsonParse: false });
      } catch (err) {
        if (err instanceof WebhookVerificationError && /timestamp too (old|new)/.test(err.message)) {
          throw Errors.authSignatureStale();
        }
        if (err instanceof WebhookVerificationError && /Missing/.test(err.message)) throw Errors.authMissing();
        throw Errors.authSignatureInvalid();
      }
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
}
