/**
 * Recording irrigations: the rules every way in shares (HTTP, MQTT, chat, CLI). A record is on
 * disk before `record` resolves; the forwarder then takes it to InfluxDB and the predictor.
 */
import { createHash } from 'node:crypto';
import type { Device, DeviceRepository } from '../registry/device.js';
import type { Clock } from '../shared/clock.js';
import { Errors } from '../shared/error-catalog.js';
import { hasControlCharacter } from '../shared/ids.js';
import { parseApiTime } from '../shared/timestamps.js';
import { DEFAULT_IRRIGATION_RULES, parseIrrigationInput, type IrrigationRecord, type IrrigationRules, type IrrigationSource } from './record.js';
import type { IrrigationRepository } from './store.js';

/** Who reports, through which way in. `device` is set for device and gateway credentials. */
export interface Reporter {
  source: IrrigationSource;
  /** `device:<id>`, `admin`, `cli:<user>`, `slack:<user>`, `telegram:<user>`; also the scope of idempotency keys. */
  who: string;
  device?: Device;
  /**
   * Where idempotency keys are unique instead of `who`: a chat's advice message, so that two people
   * answering one advice with its button record the water once.
   */
  idempotencyScope?: string;
}

export interface IrrigationService {
  record(input: unknown, reporter: Reporter, idempotencyKey?: string): Promise<{ record: IrrigationRecord; replayed: boolean }>;
  list(filter: { farm?: string; field?: string; since?: number; limit?: number }): Promise<IrrigationRecord[]>;
}

/**
 * The idempotency key of a report that brings none (no `id` over MQTT, no `Idempotency-Key` over
 * HTTP): its place in its message and its values as sent (farm, field, depth, start, end), so a
 * QoS 1 redelivery, or a request sent again after a timeout, is recorded once. The reporter is the
 * key's scope. Only for a report that says when the water ended: without `end` two days' reports
 * of the same depth would look the same, and the second is real water.
 */
export function contentKey(index: number, report: Record<string, unknown>): string | undefined {
  if (report.end === undefined) return undefined;
  // The times as instants and the depth as a number: the same water sent as ISO text once and
  // epoch ms the next, or with `start` left to default to `end`, is the same report.
  const end = parseApiTime(report.end) ?? report.end;
  const start = report.start === undefined ? end : (parseApiTime(report.start) ?? report.start);
  const depth = typeof report.depth_mm === 'number' ? report.depth_mm : (report.depth_mm ?? null);
  const said = [index, report.farm ?? null, report.field ?? null, depth, start, end];
  return `content:${createHash('sha256').update(JSON.stringify(said)).digest('hex')}`;
}

/** Longest idempotency key taken, characters (Stripe's limit). */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/** An idempotency key of 1 to {@link MAX_IDEMPOTENCY_KEY_LENGTH} characters, or FH_ERR_IRRIGATION_INVALID naming it. */
export function checkKeyLength(key: string): void {
  if (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw Errors.irrigationInvalid(`Idempotency-Key must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`, { field: 'Idempotency-Key' });
  }
}

export function createIrrigationService(deps: {
  store: IrrigationRepository;
  devices: DeviceRepository;
  clock: Clock;
  /** Called after every new record is committed (wakes the forwarder). */
  onRecorded?: (record: IrrigationRecord) => void;
  rules?: IrrigationRules;
}): IrrigationService {
  const { store, devices, clock } = deps;

  /** A device records for its own field; a gateway for its own and those of the devices it carries. */
  async function assertMayRecord(device: Device, farm: string, field: string): Promise<void> {
    if (device.farm === farm && device.field === field) return;
    if (device.kind === 'gateway' && device.farm === farm) {
      const carried = await devices.list({ farm, field });
      if (carried.some((d) => d.gateway === device.id)) return;
    }
    throw Errors.irrigationForbidden(`${device.id} may record irrigations only for ${device.farm}/${device.field}`);
  }

  return {
    async record(input, reporter, idempotencyKey) {
      if (idempotencyKey !== undefined) checkKeyLength(idempotencyKey);
      // A report's `id` comes here from a device's MQTT payload, where any JSON string may arrive.
      if (idempotencyKey !== undefined && hasControlCharacter(idempotencyKey)) {
        throw Errors.irrigationInvalid('Idempotency-Key (a report\'s id) may not hold control characters', { field: 'Idempotency-Key' });
      }
      // An admin names `who` freely: it is stored, listed and shown like the key.
      if (hasControlCharacter(reporter.who)) throw Errors.irrigationInvalid('who may not hold control characters', { field: 'who' });
      const now = clock.now();
      const facts = parseIrrigationInput(input, now, deps.rules ?? DEFAULT_IRRIGATION_RULES);
      if (reporter.device) await assertMayRecord(reporter.device, facts.farm, facts.field);
      const result = await store.record(
        { ...facts, source: reporter.source, who: reporter.who, recordedAt: now },
        idempotencyKey === undefined ? undefined : { scope: reporter.idempotencyScope ?? reporter.who, key: idempotencyKey },
      );
      if (!result.replayed) deps.onRecorded?.(result.record);
      return result;
    },
    list: (filter) => store.list(filter),
  };
}
