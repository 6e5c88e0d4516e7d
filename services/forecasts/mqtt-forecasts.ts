/**
 * Gateways send forecasts on `fieldhook/v1/devices/{gateway}/forecasts` (QoS 1), the JSON of
 * `POST /v1/forecasts`. The PUBACK follows the store's commit; a refusal goes to the gateway's
 * errors topic like those of readings.
 */
import type { Device } from '../registry/device.js';
import { isFieldhookError } from '../shared/errors.js';
import { Errors } from '../shared/error-catalog.js';
import { parseForecast } from './forecast.js';
import type { ForecastRepository } from './store.js';

/** Store the forecast of one message from `device`; resolves with the refusals (none when stored). */
export async function storeDeviceForecast(store: ForecastRepository, device: Device, payload: Buffer, now: number): Promise<{ code: string; message: string; field?: string }[]> {
  try {
    let body: unknown;
    try {
      body = JSON.parse(payload.toString('utf8'));
    } catch {
      throw Errors.forecastInvalid('The payload is not JSON', { field: 'body' });
    }
    if (device.kind !== 'gateway') throw Errors.forecastForbidden('Only gateways send forecasts');
    // What the message is comes before whose farm it names: a gateway that sent no forecast is told so.
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw Errors.forecastInvalid('A forecast is a JSON object', { field: 'body' });
    const farm = (body as { farm?: unknown }).farm;
    if (typeof farm !== 'string') throw Errors.forecastInvalid('farm must be a string', { field: 'farm' });
    if (farm !== device.farm) throw Errors.forecastForbidden(`Gateway ${device.id} sends forecasts for farm ${device.farm} only`);
    await store.save(parseForecast(body, now, { gateway: device.id }));
    return [];
  } catch (err) {
    // A refusal is the gateway's to fix; a failure of ours (the database away) is thrown, so the
    // message is not acknowledged and the broker delivers it again.
    if (isFieldhookError(err) && err.statusCode < 500) {
      const field = err.details?.field;
      return [{ code: err.code, message: err.message, ...(typeof field === 'string' ? { field } : {}) }];
    }
    throw err;
  }
}
