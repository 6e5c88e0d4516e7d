import { Errors } from '../../shared/error-catalog.js';
import { MAX_QUANTITY_NAME_LENGTH } from '../../shared/quantities.js';
import { echo, own } from '../reading.js';
import type { ProfileSet } from '../profiles/load.js';
import { applyProfile, type FieldRefusal, type Profile } from '../profiles/profile.js';

/**
 * LoRaWAN network servers' uplink webhooks, mapped onto native readings. The decoded payload
 * (ChirpStack `object`, TTN `decoded_payload`, written by the device's codec) names canonical
 * quantities; nested objects are flattened with `_` (`{"soil": {"moisture": 0.2}}` is
 * `soil_moisture`), so a codec's grouping needs no mapping table. A `null` is no reading: codecs
 * write it for a sensor that is absent or unplugged, so it is left out and the other values are
 * stored (through a profile, a field's `noReading` values say the same). The device is its DevEUI in
 * lower case; the id is the network server's own uplink id, stable across its webhook retries.
 *
 * Everything here is untrusted: fields are read as own properties only, the flattener is a loop
 * with a depth and a name-length limit (a 20,000-deep payload is refused, not a stack overflow),
 * and a refusal repeats at most a bounded prefix of a name.
 */
export interface NativeItem {
  device: string;
  id: string;
  ts: string;
  values: Record<string, unknown>;
}

/**
 * An uplink read through a device profile (docs/devices.md): the item, the profile's name and
 * the fields it could not map. Without a profile, `profile` is undefined and `refused` empty.
 */
export interface UplinkItem {
  item: NativeItem;
  profile: string | undefined;
  refused: FieldRefusal[];
  /**
   * Readings the node buffered and sent with this uplink (a profile's `history`), at their own
   * times and without an id: a buffered reading sent twice is one reading (de-duplicated on its
   * device and time). An entry that is no timed object is in `refused`, its path naming it.
   */
  history: BufferedItem[];
}

export interface BufferedItem {
  item: { device: string; ts: string; values: Record<string, unknown> };
  /** The entry's fields the profile could not map, their paths naming the entry. */
  refused: FieldRefusal[];
}

/**
 * How an uplink's decoded payload is read: the profiles loaded, and optionally the profile a
 * device names in the registry (which wins over what the uplink names).
 */
export interface UplinkOptions {
  limits?: Readonly<FlattenLimits>;
  profiles?: ProfileSet;
  /** The profile the device names in the registry: used when loaded, before the uplink's own selection. */
  deviceProfile?: string;
}

/**
 * The DevEUI (lower case) an uplink is for, read before the rest so that the device's registered
 * profile can be looked up; undefined when the envelope does not have one (the reader then refuses it).
 */
export function uplinkDevEui(network: 'chirpstack' | 'ttn', body: unknown): string | undefined {
  if (!isObject(body)) return undefined;
  const ids = own(body, network === 'chirpstack' ? 'deviceInfo' : 'end_device_ids');
  const eui = isObject(ids) ? own(ids, network === 'chirpstack' ? 'devEui' : 'dev_eui') : undefined;
  return typeof eui === 'string' && eui.length > 0 && eui.length <= 64 ? eui.toLowerCase() : undefined;
}

/** The device's own profile when it names a loaded one, else what the uplink selects. */
function chooseProfile(options: UplinkOptions, selected: () => Profile | undefined): Profile | undefined {
  const own = options.deviceProfile !== undefined ? options.profiles?.byName(options.deviceProfile) : undefined;
  return own ?? selected();
}

/** How far {@link flatten} follows a codec's grouping before it refuses the payload. */
export interface FlattenLimits {
  /** Most levels of objects below the decoded payload itself; deeper nesting is refused. */
  maxDepth: number;
  /** Longest flattened name (prefixes and `_` included); a longer one cannot be a quantity. */
  maxNameLength: number;
}

/**
 * Defaults of {@link FlattenLimits}. Codecs group one or two levels (`{"soil": {"moisture": …}}`);
 * eight leaves room for any real codec. A name longer than the longest quantity name
 * ({@link MAX_QUANTITY_NAME_LENGTH}) is refused as it is built, before it grows further.
 */
export const DEFAULT_FLATTEN_LIMITS: Readonly<FlattenLimits> = Object.freeze({
  /** Levels of nested objects below the decoded payload: 8. */
  maxDepth: 8,
  /** Characters of a flattened name: {@link MAX_QUANTITY_NAME_LENGTH}. */
  maxNameLength: MAX_QUANTITY_NAME_LENGTH,
});

type Json = Record<string, unknown>;

const bad = (field: string, what: string) => Errors.ingestBadEnvelope(`${field}: ${what}`, { field });

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

function object(value: unknown, field: string): Json {
  if (!isObject(value)) throw bad(field, 'must be an object');
  return value;
}

function text(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) throw bad(field, 'must be a non-empty string');
  return value;
}

/**
 * `{"a": {"b": 1}, "c": 2, "d": null}` → `{"a_b": 1, "c": 2}`; what is not an object stays as it
 * is, except `null`, which is no reading and is left out (a codec's absent sensor). A loop
 * over an explicit stack, in document order: no recursion, so no input can exhaust the call
 * stack. Refuses nesting deeper than `limits.maxDepth` (`FH_ERR_INGEST_PAYLOAD_TOO_DEEP`), a name
 * longer than `limits.maxNameLength` (`FH_ERR_INGEST_NAME_TOO_LONG`) and a name given twice
 * (`{"a_b": 1, "a": {"b": 2}}`, `FH_ERR_INGEST_BAD_ENVELOPE`); `field` names the offending path
 * under `root`, cut to a bounded prefix. The result holds own properties only: `"__proto__"` is
 * a name like any other (and then an unknown quantity).
 */
export function flatten(decoded: Json, limits: Readonly<FlattenLimits> = DEFAULT_FLATTEN_LIMITS, root = 'decoded'): Record<string, unknown> {
  const out = new Map<string, unknown>();
  const stack: { entries: Iterator<[string, unknown]>; prefix: string; path: string }[] = [
    { entries: Object.entries(decoded)[Symbol.iterator](), prefix: '', path: root },
  ];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const next = top.entries.next();
    if (next.done) {
      stack.pop();
      continue;
    }
    const [key, value] = next.value;
    const name = top.prefix ? `${top.prefix}_${key}` : key;
    // Bounded before it is built into a longer path: a refusal only ever repeats a prefix.
    const path = `${top.path}.${echo(key)}`;
    if (name.length > limits.maxNameLength) {
      throw Errors.ingestNameTooLong(`${echo(path)}: a flattened name is longer than ${limits.maxNameLength} characters`, {
        field: echo(path),
        maxLength: limits.maxNameLength,
      });
    }
    if (isObject(value)) {
      if (stack.length >= limits.maxDepth + 1) {
        throw Errors.ingestPayloadTooDeep(`${echo(path)}: objects nest deeper than ${limits.maxDepth} levels`, {
          field: echo(path),
          maxDepth: limits.maxDepth,
        });
      }
      stack.push({ entries: Object.entries(value)[Symbol.iterator](), prefix: name, path: echo(path) });
    } else if (value !== null) {
      if (out.has(name)) throw bad(echo(path), `${echo(name)} is given twice`);
      out.set(name, value);
    }
  }
  // fromEntries defines properties: an own `__proto__` key, never a prototype change.
  return Object.fromEntries(out);
}

/** The strongest signal among the gateways that heard the uplink, when the codec gave none. */
function bestRssi(rxInfo: unknown): number | undefined {
  if (!Array.isArray(rxInfo)) return undefined;
  // A loop, not Math.max(...values): a spread of 100,000 gateways would overflow the stack.
  let best: number | undefined;
  for (const r of rxInfo) {
    const rssi = isObject(r) ? own(r, 'rssi') : undefined;
    if (typeof rssi === 'number' && Number.isFinite(rssi) && (best === undefined || rssi > best)) best = rssi;
  }
  return best;
}

function withRssi(values: Record<string, unknown>, rssi: number | undefined): Record<string, unknown> {
  return rssi === undefined || Object.hasOwn(values, 'rssi') ? values : { ...values, rssi };
}

/** ChirpStack v4 HTTP integration, `up` event (JSON marshaler). */
export function fromChirpStack(body: unknown, limits: Readonly<FlattenLimits> = DEFAULT_FLATTEN_LIMITS): NativeItem {
  return readChirpStack(body, { limits }).item;
}

/** A string field, or undefined when it is absent or not a non-empty string (a selector, never required). */
function optionalText(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 && value.length <= 200 ? value : undefined;
}

/**
 * The decoded payload as values: through the profile when there is one, else flattened onto
 * canonical names as before profiles existed.
 */
function readDecoded(
  decoded: Json,
  device: string,
  profile: Profile | undefined,
  limits: Readonly<FlattenLimits>,
  root: string,
): { values: Record<string, unknown>; refused: FieldRefusal[]; history: BufferedItem[] } {
  if (!profile) return { values: flatten(decoded, limits, root), refused: [], history: [] };
  const result = applyProfile(profile, decoded);
  const rooted = (list: FieldRefusal[]) => list.map((r) => ({ ...r, path: `${root}.${r.path}` }));
  return {
    values: result.values,
    refused: rooted(result.refused),
    history: result.history.map((h) => ({ item: { device, ts: new Date(h.ts).toISOString(), values: h.values }, refused: rooted(h.refused) })),
  };
}

/**
 * ChirpStack `up` event with its profile: chosen by the device-profile name, v4
 * `deviceInfo.deviceProfileName` or v3 `deviceProfileName`.
 */
export function readChirpStack(body: unknown, options: UplinkOptions = {}): UplinkItem {
  const limits = options.limits ?? DEFAULT_FLATTEN_LIMITS;
  const up = object(body, 'body');
  const info = object(own(up, 'deviceInfo'), 'deviceInfo');
  const device = text(own(info, 'devEui'), 'deviceInfo.devEui').toLowerCase();
  const decoded = object(own(up, 'object'), 'object');
  const profileName = optionalText(own(info, 'deviceProfileName')) ?? optionalText(own(up, 'deviceProfileName'));
  const profile = chooseProfile(options, () => (profileName !== undefined ? options.profiles?.forChirpStack(profileName) : undefined));
  const { values, refused, history } = readDecoded(decoded, device, profile, limits, 'object');
  return {
    item: {
      device,
      id: text(own(up, 'deduplicationId'), 'deduplicationId'),
      ts: text(own(up, 'time'), 'time'),
      values: withRssi(values, bestRssi(own(up, 'rxInfo'))),
    },
    profile: profile?.name,
    refused,
    history,
  };
}

/** The Things Stack v3 webhook, uplink message. */
export function fromTheThingsStack(body: unknown, limits: Readonly<FlattenLimits> = DEFAULT_FLATTEN_LIMITS): NativeItem {
  return readTheThingsStack(body, { limits }).item;
}

/** The Things Stack's end-device version identifiers: `uplink_message.version_ids`, or the message's own (3.34+). */
function ttnVersionIds(up: Json, message: Json): { brand: string; model: string } | undefined {
  for (const candidate of [own(message, 'version_ids'), own(up, 'version_ids')]) {
    if (!isObject(candidate)) continue;
    const brand = optionalText(own(candidate, 'brand_id'));
    const model = optionalText(own(candidate, 'model_id'));
    if (brand !== undefined && model !== undefined) return { brand, model };
  }
  return undefined;
}

/**
 * Whether a The Things Stack message is a simulated uplink (the console's "Simulate uplink", or
 * the API's `SimulateUplink`), which The Things Stack marks with a top-level `"simulated": true`.
 * Its values come from whoever tests a codec, not from the field: never stored as readings.
 */
export function isSimulatedUplink(body: unknown): boolean {
  return isObject(body) && own(body, 'simulated') === true;
}

/**
 * The Things Stack uplink with its profile: chosen by the Device Repository's brand and model
 * (`uplink_message.version_ids.brand_id` / `model_id`).
 */
export function readTheThingsStack(body: unknown, options: UplinkOptions = {}): UplinkItem {
  const limits = options.limits ?? DEFAULT_FLATTEN_LIMITS;
  const up = object(body, 'body');
  const ids = object(own(up, 'end_device_ids'), 'end_device_ids');
  const device = text(own(ids, 'dev_eui'), 'end_device_ids.dev_eui').toLowerCase();
  const message = object(own(up, 'uplink_message'), 'uplink_message');
  const decoded = object(own(message, 'decoded_payload'), 'uplink_message.decoded_payload');
  const correlationIds = own(up, 'correlation_ids');
  const correlation = Array.isArray(correlationIds)
    ? correlationIds.find((c): c is string => typeof c === 'string' && c.startsWith('as:up:'))
    : undefined;
  const receivedAt = text(own(message, 'received_at') ?? own(up, 'received_at'), 'uplink_message.received_at');
  let id = correlation;
  if (id === undefined) {
    // The frame counter with the time, when the network server sent no uplink correlation id.
    const fCnt = own(message, 'f_cnt');
    if (fCnt !== undefined && !(typeof fCnt === 'number' && Number.isSafeInteger(fCnt) && fCnt >= 0)) {
      throw bad('uplink_message.f_cnt', 'must be a non-negative integer');
    }
    id = `${String(fCnt)}@${receivedAt}`;
  }
  const version = ttnVersionIds(up, message);
  const profile = chooseProfile(options, () => (version ? options.profiles?.forTheThingsStack(version.brand, version.model) : undefined));
  const { values, refused, history } = readDecoded(decoded, device, profile, limits, 'uplink_message.decoded_payload');
  return {
    item: { device, id, ts: receivedAt, values: withRssi(values, bestRssi(own(message, 'rx_metadata'))) },
    profile: profile?.name,
    refused,
    history,
  };
}
