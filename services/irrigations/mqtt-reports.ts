/**
 * Valve controllers report applied water on `fieldhook/v1/devices/{device}/irrigations` (QoS 1):
 * one report or an array, `{depth_mm, start?, end?, farm?, field?, id?}`. Farm and field default to
 * the device's own; `id` is the controller's report id, the idempotency key of the record, so a
 * redelivered message records nothing twice. A report without `id` but with `end` is keyed by what
 * it says (see {@link contentKey}); one with neither cannot be told from a new report of the same
 * depth, and is recorded again when redelivered. The PUBACK follows the store's commit; refusals go
 * to the device's errors topic like those of readings.
 */
import type { Device } from '../registry/device.js';
import { isFieldhookError } from '../shared/errors.js';
import { Errors } from '../shared/error-catalog.js';
import { hasControlCharacter } from '../shared/ids.js';
import { contentKey, MAX_IDEMPOTENCY_KEY_LENGTH, type IrrigationService } from './service.js';

export interface ReportRefusal {
  index?: number;
  code: string;
  message: string;
  field?: string;
}

/** Most reports in one message. */
export const MAX_REPORTS_PER_MESSAGE = 100;

/** Record every report of one message for `device`; resolves with the refusals once the good ones are on disk. */
export async function recordDeviceReports(service: IrrigationService, device: Device, payload: Buffer): Promise<ReportRefusal[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload.toString('utf8'));
  } catch {
    return [{ code: Errors.irrigationInvalid.code, message: 'The payload is not JSON' }];
  }
  const list = Array.isArray(parsed) ? parsed : [parsed];
  // As for readings: an empty array is a mistake the device should hear about, not an acknowledged nothing.
  if (list.length === 0) return [{ code: Errors.irrigationInvalid.code, message: 'Send one report or a non-empty array' }];
  if (list.length > MAX_REPORTS_PER_MESSAGE) {
    return [{ code: Errors.irrigationInvalid.code, message: `At most ${MAX_REPORTS_PER_MESSAGE} reports in one message` }];
  }
  const refused: ReportRefusal[] = [];
  for (const [index, item] of list.entries()) {
    try {
      if (typeof item !== 'object' || item === null || Array.isArray(item)) throw Errors.irrigationInvalid('A report is a JSON object');
      const { id, ...report } = item as Record<string, unknown>;
      // The report's own words: its `id` is what HTTP calls the Idempotency-Key, by the same rules.
      if (id !== undefined && (typeof id !== 'string' || id.length === 0 || id.length > MAX_IDEMPOTENCY_KEY_LENGTH || hasControlCharacter(id))) {
        throw Errors.irrigationInvalid(`id must be a string of 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters, none of them a control character`, { field: 'id' });
      }
      await service.record({ farm: device.farm, field: device.field, ...report }, { source: 'mqtt', who: `device:${device.id}`, device }, id ?? contentKey(index, report));
    } catch (err) {
      // Anything else (the disk) is not the device's fault: no PUBACK, the broker sends it again.
      if (!isFieldhookError(err) || err.statusCode >= 500) throw err;
      const field = err.details?.field;
      refused.push({ ...(Array.isArray(parsed) ? { index } : {}), code: err.code, message: err.message, ...(typeof field === 'string' ? { field } : {}) });
    }
  }
  return refused;
}
