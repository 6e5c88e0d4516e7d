import { Errors } from '../../shared/error-catalog.js';

/**
 * LoRaWAN network servers' uplink webhooks, mapped onto native readings. The decoded payload
 * (ChirpStack `object`, TTN `decoded_payload`, written by the device's codec) names canonical
 * quantities; nested objects are flattened with `_` (`{"soil": {"moisture": 0.2}}` is
 * `soil_moisture`), so a codec's grouping needs no mapping table. The device is its DevEUI in
 * lower case; the id is the network server's own uplink id, stable across its webhook retries.
 */
export interface NativeItem {
  device: string;
  id: string;
  ts: string;
  values: Record<string, unknown>;
}

type Json = Record<string, unknown>;

const bad = (field: string, what: string) =>
  Errors.ingestBadEnvelope(`${field}: ${what}`, { field });

function object(value: unknown, field: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad(field, 'must be an object');
  return value as Json;
}

function text(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) throw bad(field, 'must be a non-empty string');
  return value;
}

/** `{"a": {"b": 1}, "c": 2}` → `{"a_b": 1, "c": 2}`; what is not an object stays as it is. */
export function flatten(decoded: Json, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(decoded)) {
    const name = prefix ? `${prefix}_${key}` : key;
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) Object.assign(out, flatten(value as Json, name));
    else out[name] = value;
  }
  return out;
}

/** The strongest signal among the gateways that heard the uplink, when the codec gave none. */
function bestRssi(rxInfo: unknown): number | undefined {
  if (!Array.isArray(rxInfo)) return undefined;
  const values = rxInfo.map((r) => (r as Json | null)?.rssi).filter((v): v is number => typeof v === 'number');
  return values.length ? Math.max(...values) : undefined;
}

function withRssi(values: Record<string, unknown>, rssi: number | undefined): Record<string, unknown> {
  return rssi === undefined || 'rssi' in values ? values : { ...values, rssi };
}

/** ChirpStack v4 HTTP integration, `up` event (JSON marshaler). */
export function fromChirpStack(body: unknown): NativeItem {
  const up = object(body, 'body');
  const info = object(up.deviceInfo, 'deviceInfo');
  const device = text(info.devEui, 'deviceInfo.devEui').toLowerCase();
  const decoded = object(up.object, 'object');
  return {
    device,
    id: text(up.deduplicationId, 'deduplicationId'),
    ts: text(up.time, 'time'),
    values: withRssi(flatten(decoded), bestRssi(up.rxInfo)),
  };
}

/** The Things Stack v3 webhook, uplink message. */
export function fromTheThingsStack(body: unknown): NativeItem {
  const up = object(body, 'body');
  const ids = object(up.end_device_ids, 'end_device_ids');
  const device = text(ids.dev_eui, 'end_device_ids.dev_eui').toLowerCase();
  const message = object(up.uplink_message, 'uplink_message');
  const decoded = object(message.decoded_payload, 'uplink_message.decoded_payload');
  const correlation = Array.isArray(up.correlation_ids) ? up.correlation_ids.find((c) => typeof c === 'string' && c.startsWith('as:up:')) : undefined;
  const receivedAt = text(message.received_at ?? up.received_at, 'uplink_message.received_at');
  return {
    device,
    id: typeof correlation === 'string' ? correlation : `${String(message.f_cnt)}@${receivedAt}`,
    ts: receivedAt,
    values: withRssi(flatten(decoded), bestRssi(message.rx_metadata)),
  };
}
