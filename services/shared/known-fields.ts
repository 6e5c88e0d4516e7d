/**
 * Whether a farm or field is one fieldhook evaluates: what the ways in that name a field by hand
 * (an admin's irrigation record or forecast, the CLI) check, so a typo is said rather than stored
 * as water or weather that no advice ever reads. The predictor answers it (its fields' profiles);
 * a process without one cannot tell.
 */
export interface KnownFields {
  /**
   * True when the field (without `field`: any field of the farm) has a profile, false when it has
   * none, undefined when that cannot be told now (no predictor here, the database away).
   */
  knows(farm: string, field?: string): Promise<boolean | undefined>;
}

/** The warning an answer carries for a farm or field nothing evaluates; undefined when it is known or cannot be told. */
export async function unknownFieldWarning(known: KnownFields | undefined, farm: string, field: string | undefined, what: string): Promise<string | undefined> {
  if (!known || (await known.knows(farm, field).catch(() => undefined)) !== false) return undefined;
  return field === undefined
    ? `No field of farm ${farm} is configured (fieldhook fields add): no advice reads ${what}`
    : `No field ${farm}/${field} is configured (fieldhook fields add): no advice reads ${what}`;
}
