import type { DeviceRepository, DeviceWithSecret } from '../registry/device.js';
import type { Logger } from '../shared/logger.js';
import { Errors } from '../shared/error-catalog.js';
import type { IngestMetrics } from './metrics.js';
import { DEVICE_ID_PATTERN, own, parseReading, type NormalizedReading, type ReadingRules, type Refusal } from './reading.js';
import type { Spool } from './spool/spool.js';

export type Protocol = 'http' | 'mqtt';

/** A request's readings that pass, and the refusals of the others. */
interface Validated {
  readings: NormalizedReading[];
  refused: IngestOutcome['refused'];
}

/** The refusals of a request with none: shared, never added to. */
const NO_REFUSALS: IngestOutcome['refused'] = Object.freeze([]) as unknown as IngestOutcome['refused'];

export interface IngestRequest {
  /** The authenticated credential (a device or a gateway). */
  credential: DeviceWithSecret;
  /** Untrusted readings as parsed from the body or payload. */
  items: unknown[];
  correlationId: string;
  protocol: Protocol;
  /** For signed requests: the `webhook-id`, accepted once per device. */
  onceKey?: string;
}

export interface IngestOutcome {
  accepted: number;
  duplicates: number;
  refused: (Refusal & { index: number })[];
}

export interface BackpressureLimits {
  /** Above this many pending spool bytes, new data gets 429 (HTTP) or a withheld PUBACK (MQTT). */
  highWaterBytes: number;
  /** At this many pending bytes the disk budget is spent: 503. */
  budgetBytes: number;
  /** Suggested client wait, seconds (Retry-After). */
  retryAfterS: number;
}

/**
 * What one HTTP request or one MQTT message may carry, whatever its format: the same on every
 * path (`INGEST_BODY_LIMIT_BYTES`, `INGEST_MAX_BATCH`).
 */
export const DEFAULT_MESSAGE_LIMITS = Object.freeze({
  /** Largest body or payload, bytes: 1 MiB. */
  maxBodyBytes: 1_048_576,
  /** Most readings, 5,000: a day of a minutely node, or a gateway's backlog, in one go. */
  maxBatchItems: 5_000,
});

/** Defaults of the ingest service's tunables (`rules` and `limits` of {@link IngestDeps}). */
export const DEFAULT_INGEST_OPTIONS: {
  readonly rules: Readonly<Pick<ReadingRules, 'maxFutureMs' | 'maxAgeMs'>>;
  readonly limits: Readonly<BackpressureLimits>;
} = Object.freeze({
  rules: Object.freeze({
    /** Readings stamped further ahead of the server clock are refused, ms: 5 min. */
    maxFutureMs: 5 * 60_000,
    /** Oldest late or back-filled reading accepted, ms: 30 days. */
    maxAgeMs: 30 * 24 * 3_600_000,
  }),
  limits: Object.freeze({
    /** Pending spool bytes above which new data gets 429 / a withheld PUBACK: 256 MiB. */
    highWaterBytes: 256 * 1024 ** 2,
    /** Pending spool bytes at which the disk budget is spent (503): 2 GiB. */
    budgetBytes: 2 * 1024 ** 3,
    /** Retry-After sent with 429/503, s. */
    retryAfterS: 30,
  }),
});

export type Pressure = 'ok' | 'high' | 'full';

export interface IngestService {
  ingest(request: IngestRequest): Promise<IngestOutcome>;
  /**
   * Several requests (MQTT messages taken together) in one spool append: one record, one commit.
   * Resolves once every good reading of every request is durable, with each request's outcome in
   * order. Without `onceKey`: a once-only request goes through {@link ingest}.
   */
  ingestMany(requests: Omit<IngestRequest, 'onceKey' | 'correlationId'>[], correlationId: string): Promise<IngestOutcome[]>;
  pressure(): Pressure;
  /** Throws the 429/503 error that matches the current pressure, if any. */
  assertCapacity(): void;
  /** Resolves once the spool is back under its high-water mark (polls; MQTT uses it). */
  waitForCapacity(pollMs?: number): Promise<void>;
}

export interface IngestDeps {
  spool: Spool;
  devices: DeviceRepository;
  rules: ReadingRules;
  limits: BackpressureLimits;
  metrics: IngestMetrics;
  logger: Logger;
  /** False while InfluxDB writes fail: then the spool absorbs the outage up to its budget. */
  downstreamHealthy?: () => boolean;
  now?: () => number;
}

/**
 * The protocol-independent heart of ingest: validate each reading, check the credential may write
 * for its device, then append the good ones to the spool. HTTP and MQTT both go through here.
 */
export function createIngestService(deps: IngestDeps): IngestService {
  const now = deps.now ?? Date.now;
  const { metrics, spool, limits } = deps;

  /** A device a gateway names, or why the gateway may not write for it. */
  async function resolveNamed(gateway: DeviceWithSecret, named: string): Promise<DeviceWithSecret | Refusal> {
    const device = await deps.devices.get(named);
    if (!device) return { code: Errors.deviceUnknown.code, message: `Unknown device ${named}`, field: 'device' };
    if (device.gateway !== gateway.id) return { code: Errors.authDeviceForbidden.code, message: `${named} is not registered to gateway ${gateway.id}`, field: 'device' };
    if (!device.enabled) return { code: Errors.deviceDisabled.code, message: `Device ${named} is disabled`, field: 'device' };
    return device;
  }

  /**
   * The devices a gateway's request names (other than itself), each looked up once and all at
   * once, before the readings are walked. Names that are not device ids are left out: their
   * readings are refused by parseReading before any device is consulted.
   */
  async function namedDevices(credential: DeviceWithSecret, items: unknown[]): Promise<Map<string, DeviceWithSecret | Refusal>> {
    const names = new Set<string>();
    for (const item of items) {
      if (typeof item !== 'object' || item === null || Array.isArray(item)) continue;
      const named = own(item, 'device');
      if (typeof named === 'string' && named !== credential.id && DEVICE_ID_PATTERN.test(named)) names.add(named);
    }
    const resolved = await Promise.all([...names].map(async (name) => [name, await resolveNamed(credential, name)] as const));
    return new Map(resolved);
  }

  /** The device a reading belongs to, or why this credential may not write it. */
  function deviceOf(credential: DeviceWithSecret, named: string | undefined, lookedUp: Map<string, DeviceWithSecret | Refusal> | undefined): DeviceWithSecret | Refusal {
    if (named === undefined || named === credential.id) {
      if (credential.kind === 'gateway' && named === undefined) {
        return { code: Errors.readingDeviceMissing.code, message: 'A gateway must name the device of each reading', field: 'device' };
      }
      return credential;
    }
    if (credential.kind !== 'gateway') return { code: Errors.authDeviceForbidden.code, message: `${credential.id} may only write its own readings`, field: 'device' };
    return lookedUp?.get(named) ?? { code: Errors.deviceUnknown.code, message: `Unknown device ${named}`, field: 'device' };
  }

  /**
   * The request's readings that pass, normalised, and the refusals of the others (counted). One
   * pass over the readings, synchronous: a device writing its own readings (the usual case, and
   * every MQTT message) needs no lookup and no promise; a gateway's named devices are looked up
   * together first.
   */
  function validate(request: Pick<IngestRequest, 'items' | 'credential'>, at: number): Validated | Promise<Validated> {
    if (request.credential.kind !== 'gateway') return validateWith(request, at, undefined);
    return namedDevices(request.credential, request.items).then((named) => validateWith(request, at, named));
  }

  function validateWith(request: Pick<IngestRequest, 'items' | 'credential'>, at: number, lookedUp: Map<string, DeviceWithSecret | Refusal> | undefined): Validated {
    let refused: IngestOutcome['refused'] | undefined;
    const readings: NormalizedReading[] = [];
    const { items, credential } = request;
    for (let index = 0; index < items.length; index++) {
      const parsed = parseReading(items[index], deps.rules, at);
      if (!parsed.ok) {
        (refused ??= []).push({ index, code: parsed.code, message: parsed.message, ...(parsed.field ? { field: parsed.field } : {}) });
        continue;
      }
      const named = parsed.reading.device;
      const device = named === credential.id || (named === undefined && credential.kind !== 'gateway') ? credential : deviceOf(credential, named, lookedUp);
      if (!('farm' in device)) {
        (refused ??= []).push({ index, ...device });
        continue;
      }
      const { id, ts, values } = parsed.reading;
      readings.push(id !== undefined ? { device: device.id, farm: device.farm, field: device.field, id, ts, values } : { device: device.id, farm: device.farm, field: device.field, ts, values });
    }
    if (refused === undefined) return { readings, refused: NO_REFUSALS };
    for (const r of refused) metrics.refused.inc({ code: r.code });
    return { readings, refused };
  }

  function count(protocol: Protocol, accepted: number, duplicates: number): void {
    if (accepted > 0) metrics.accepted.inc({ protocol }, accepted);
    if (duplicates > 0) metrics.duplicates.inc(duplicates);
  }

  /**
   * One append, one record, one commit for every message of a batch; a reading repeated within the
   * batch is a duplicate like any other (the first one is stored). Only counts and refusals wait for
   * the commit: the readings and the parsed messages are not held through it (they would survive
   * every young-generation collection meanwhile).
   */
  function appendValidated(protocols: Protocol[], validated: Validated[], correlationId: string): Promise<IngestOutcome[]> {
    const all: NormalizedReading[] = [];
    const counts: number[] = [];
    const refusals: IngestOutcome['refused'][] = [];
    for (const v of validated) {
      for (const r of v.readings) all.push(r);
      counts.push(v.readings.length);
      refusals.push(v.refused);
    }
    const outcomes = (stored: readonly boolean[]): IngestOutcome[] => {
      let offset = 0;
      return counts.map((n, i) => {
        let accepted = 0;
        for (let k = 0; k < n; k++) if (stored[offset + k]) accepted++;
        offset += n;
        count(protocols[i]!, accepted, n - accepted);
        return { accepted, duplicates: n - accepted, refused: refusals[i]! };
      });
    };
    if (all.length === 0) return Promise.resolve(outcomes([]));
    return spool.append({ readings: all, correlationId }).then((result) => outcomes(result.stored));
  }

  const service: IngestService = {
    async ingest(request) {
      const validated = validate(request, now());
      const { readings, refused } = validated instanceof Promise ? await validated : validated;
      const { protocol, onceKey } = request;
      const n = readings.length;
      if (n === 0 && !onceKey) {
        count(protocol, 0, 0);
        return { accepted: 0, duplicates: 0, refused };
      }
      // Only what the outcome needs waits for the commit: the request and its readings are not
      // held through it (they would survive every young-generation collection meanwhile).
      return spool
        .append({ readings, correlationId: request.correlationId, ...(onceKey ? { onceKey: { device: request.credential.id, key: `w:${onceKey}` } } : {}) })
        .then((result) => {
          if (result.replayed) {
            metrics.refused.inc({ code: Errors.authReplayed.code });
            throw Errors.authReplayed();
          }
          let accepted = 0;
          for (const stored of result.stored) if (stored) accepted++;
          count(protocol, accepted, n - accepted);
          return { accepted, duplicates: n - accepted, refused };
        });
    },

    ingestMany(requests, correlationId) {
      const at = now();
      const protocols = requests.map((r) => r.protocol);
      const checked = requests.map((r) => validate(r, at));
      // Usually synchronous (no gateway among the messages): no promise per batch for that.
      if (checked.every((v): v is Validated => !(v instanceof Promise))) return appendValidated(protocols, checked, correlationId);
      return Promise.all(checked).then((validated) => appendValidated(protocols, validated, correlationId));
    },

    // Above the high-water mark with InfluxDB keeping up, senders are simply too fast: push back.
    // During an outage the spool is doing its job, so it fills on up to the disk budget.
    pressure() {
      const pending = spool.pendingBytes();
      if (pending >= limits.budgetBytes) return 'full';
      if (pending >= limits.highWaterBytes && (deps.downstreamHealthy?.() ?? true)) return 'high';
      return 'ok';
    },

    assertCapacity() {
      const pressure = service.pressure();
      if (pressure === 'ok') return;
      const error = pressure === 'full' ? Errors.ingestSpoolFull : Errors.ingestBackpressure;
      metrics.refused.inc({ code: error.code });
      throw error(undefined, { retryAfterS: limits.retryAfterS });
    },

    async waitForCapacity(pollMs = 500) {
      while (service.pressure() !== 'ok') await new Promise((r) => setTimeout(r, pollMs));
    },
  };
  return service;
}
