/**
 * The Telegram "irrigated" button's `callback_data`, one contract for the advice format that builds
 * it and the chat webhook that reads it back.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CALLBACK_DATA_MAX_BYTES, irrigatedCallbackData, parseIrrigatedCallbackData } from '../../../../services/dispatcher/formats/telegram.js';

const id = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,20}$/);

describe('the Telegram irrigated button', () => {
  it('reads back what it builds: farm, field and the depth to 0.1 mm', () => {
    fc.assert(
      fc.property(id, id, fc.double({ min: 0, max: 500, noNaN: true }), (farm, field, depthMm) => {
        const data = irrigatedCallbackData(farm, field, depthMm);
        // Only what would not fit goes without a button.
        if (data === null) return Buffer.byteLength(`irr|${farm}|${field}|${Math.round(depthMm * 10) / 10}`) > CALLBACK_DATA_MAX_BYTES;
        expect(Buffer.byteLength(data)).toBeLessThanOrEqual(CALLBACK_DATA_MAX_BYTES);
        expect(parseIrrigatedCallbackData(data)).toEqual({ farm, field, depthMm: Math.round(depthMm * 10) / 10 });
        return true;
      }),
    );
  });

  it('reads nothing from other buttons or a malformed one, and builds none a name would break', () => {
    for (const bad of ['irr|f1|north', 'irr|f1|north|x', 'irr||north|3', 'irr|f1|north|', 'irr|f1|north|3|4', 'other|f1|north|3', '']) {
      expect(parseIrrigatedCallbackData(bad), bad).toBeNull();
    }
    expect(irrigatedCallbackData('f|1', 'north', 3)).toBeNull();
  });
});
