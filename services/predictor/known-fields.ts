import type { KnownFields } from '../shared/known-fields.js';
import type { FieldViews } from './field-views.js';

/** The fields with a profile, as every predictor shares them (field-views.ts). */
export function knownFieldsOf(views: () => FieldViews | undefined): KnownFields {
  return {
    async knows(farm, field) {
      const read = views();
      if (!read) return undefined;
      const all = await read.read();
      return all.some((v) => v.settings.farm === farm && (field === undefined || v.settings.field === field));
    },
  };
}
