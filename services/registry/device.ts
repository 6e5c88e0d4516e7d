import { CROPS } from '../agronomy/crops.js';
import { SOILS } from '../agronomy/soils.js';
import { Errors } from '../shared/error-catalog.js';
import { checkNetworks } from './networks.js';
import { ID_PATTERN, ID_RULE } from '../shared/ids.js';

/** What fieldhook knows about one sensor node or gateway. */
export interface Device {
  id: string;
  farm: string;
  field: string;
  /** `gateway` credentials may write for the devices registered to them. */
  kind: 'device' | 'gateway';
  /** The gateway this device's readings may also arrive through. */
  gateway?: string;
  enabled: boolean;
  location?: { latitude: number; longitude: number; elevation: number };
  profile?: DeviceProfile;
  /**
   * The device profile (docs/devices.md) its LoRaWAN uplinks are read with, by name; wins over the
   * profile the uplink itself selects.
   */
  deviceProfile?: string;
  /** Source networks (CIDR) allowed to send for this device; empty = the farm's list, or anywhere. */
  allowedNetworks: string[];
  createdAt: string;
}

/** Optional agronomic profile; heights matter for FAO-56 (wind is converted to 2 m). */
export interface DeviceProfile {
  crop?: string;
  soil?: string;
  /** Height of the anemometer above ground, m. */
  windHeightM?: number;
  /** Depth of the soil moisture probe, m. */
  soilProbeDepthM?: number;
}

export interface DeviceWithSecret extends Device {
  /** Shared secret: a Bearer token, an HMAC key (Standard Webhooks `whsec_` form) and the MQTT password. */
  secret: string;
}

export type NewDevice = Omit<Device, 'createdAt' | 'enabled' | 'allowedNetworks'> & {
  enabled?: boolean;
  allowedNetworks?: string[];
  secret?: string;
};

/**
 * Device registry storage. Async so that a PostgreSQL implementation is a drop-in; no SQL lives
 * outside implementations of this interface.
 */
export interface DeviceRepository {
  add(device: NewDevice): Promise<DeviceWithSecret>;
  get(id: string): Promise<DeviceWithSecret | undefined>;
  /** The device whose secret hashes to this value (Bearer authentication). */
  findBySecret(secret: string): Promise<DeviceWithSecret | undefined>;
  list(filter?: { farm?: string; field?: string }): Promise<Device[]>;
  rotateSecret(id: string): Promise<string>;
  setEnabled(id: string, enabled: boolean): Promise<void>;
  /** Source networks allowed for every device of a farm (empty = anywhere). */
  getFarmNetworks(farm: string): Promise<string[]>;
  setFarmNetworks(farm: string, cidrs: string[]): Promise<void>;
  /**
   * A number that changes whenever the registry changes, by this process or another one; cheap
   * and synchronous, so a reader may keep devices in memory and look at it once per turn.
   * Optional: a repository without it is read every time.
   */
  changeVersion?(): number;
  /** Releases what the repository holds (a file, a LISTEN connection); nothing is used after it. */
  close(): void | Promise<void>;
}

/**
 * A repository on the control plane (services/shared/database/control-plane.ts): usable once
 * `open()` resolved, which applies PostgreSQL migrations and starts the change feed (SQLite opens
 * when it is created, so there it does nothing).
 */
export interface OpenableDeviceRepository extends DeviceRepository {
  open(): Promise<void>;
}

/** Where a device may stand: the ranges a field's profile takes, so a field built from its devices' location is valid. */
const LOCATION_RANGES = { latitude: [-90, 90], longitude: [-180, 180], elevation: [-500, 9000] } as const;

/**
 * Throws FH_ERR_DEVICE_INVALID unless the id, farm, field (and gateway) of a new device are plain
 * ids and its location is one on Earth.
 */
export function checkNewDevice(input: NewDevice): void {
  for (const [name, value] of [['id', input.id], ['farm', input.farm], ['field', input.field], ['gateway', input.gateway]] as const) {
    if (value !== undefined && !ID_PATTERN.test(value)) throw Errors.deviceInvalid(`${name} must match ${ID_RULE}`, { field: name });
  }
  checkNetworks(input.allowedNetworks ?? [], 'allowedNetworks');
  for (const [name, [min, max]] of Object.entries(LOCATION_RANGES)) {
    if (input.location === undefined) break;
    const value = input.location[name as keyof typeof LOCATION_RANGES];
    if (typeof value !== 'number' || !(value >= min && value <= max)) throw Errors.deviceInvalid(`${name} must be a number within ${min}–${max}`, { field: name });
  }
  checkProfile(input.profile);
  // A secret of one's own (one a LoRaWAN network server or a fleet already uses) is a Bearer token,
  // an HMAC key and an MQTT password: not a guessable word, and sent as typed in a header.
  if (input.secret !== undefined && !/^[\x21-\x7e]{16,512}$/.test(input.secret)) {
    throw Errors.deviceInvalid('secret must be 16 to 512 printable characters without spaces (leave it out to have one made)', { field: 'secret' });
  }
}

/** A farm's networks are stored under its id: the same id rule as devices', and networks that parse. */
export function checkFarmNetworks(farm: string, cidrs: string[]): void {
  if (!ID_PATTERN.test(farm)) throw Errors.deviceInvalid(`farm must match ${ID_RULE}`, { field: 'farm' });
  checkNetworks(cidrs, 'networks');
}

/** The heights a field's profile takes (FAO-56's wind conversion needs a real mast), and a probe within reach of roots. */
const PROFILE_RANGES = { windHeightM: [0.5, 30], soilProbeDepthM: [0.01, 5] } as const;

/**
 * A device's agronomic profile is what `fields add` fills a new field with: a crop, soil or
 * height the field would refuse is refused here, where it is typed.
 */
function checkProfile(profile: DeviceProfile | undefined): void {
  if (profile === undefined) return;
  if (profile.crop !== undefined && !Object.hasOwn(CROPS, profile.crop)) {
    throw Errors.deviceInvalid(`unknown crop "${profile.crop}"; known: ${Object.keys(CROPS).join(', ')}`, { field: 'crop' });
  }
  if (profile.soil !== undefined && !Object.hasOwn(SOILS, profile.soil)) {
    throw Errors.deviceInvalid(`unknown soil "${profile.soil}"; known: ${Object.keys(SOILS).join(', ')}`, { field: 'soil' });
  }
  for (const [name, [min, max]] of Object.entries(PROFILE_RANGES)) {
    const value = profile[name as keyof typeof PROFILE_RANGES];
    if (value !== undefined && !(typeof value === 'number' && value >= min && value <= max)) throw Errors.deviceInvalid(`${name} must be a number within ${min}–${max}`, { field: name });
  }
}
