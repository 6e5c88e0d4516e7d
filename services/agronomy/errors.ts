import { defineError } from '../shared/errors.js';

/** A field is missing, has the wrong type, or holds an impossible value. */
export const AgronomyInvalidInput = defineError(
  'FH_ERR_AGRONOMY_INVALID_INPUT',
  400,
  'Invalid agronomy input',
);

/** Two fields that cannot be given together were both given (e.g. `tdew` and `rh_mean`). */
export const AgronomyConflictingInput = defineError(
  'FH_ERR_AGRONOMY_CONFLICTING_INPUT',
  400,
  'Conflicting agronomy input',
);

/** A crop or soil name that has no preset. */
export const AgronomyUnknownPreset = defineError(
  'FH_ERR_AGRONOMY_UNKNOWN_PRESET',
  400,
  'Unknown crop or soil preset',
);
