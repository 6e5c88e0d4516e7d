/**
 * Root-zone soil water balance, FAO-56 chapter 8. Depletion Dr is the water the root zone lacks
 * relative to field capacity, in mm: 0 at field capacity, TAW at the wilting point.
 */

/**
 * Total available water in the root zone (FAO-56 Eq. 82).
 * @param thetaFc water content at field capacity, m3/m3
 * @param thetaWp water content at wilting point, m3/m3
 * @param rootDepthM rooting depth Zr, m
 * @returns TAW, mm
 */
export function totalAvailableWater(thetaFc: number, thetaWp: number, rootDepthM: number): number {
  return 1000 * (thetaFc - thetaWp) * rootDepthM;
}

/**
 * Readily available water (FAO-56 Eq. 83).
 * @param p fraction of TAW the crop can extract before it is stressed, 0–1
 * @returns RAW, mm
 */
export function readilyAvailableWater(taw: number, p: number): number {
  return p * taw;
}

/**
 * p adjusted for the evaporative demand (FAO-56 Table 22 footnote): crops extract less before
 * stress on hot days. p = p_table + 0.04 (5 − ETc), kept within 0.1–0.8.
 * @param etcMmDay crop evapotranspiration, mm/day
 */
export function adjustDepletionFraction(pTable: number, etcMmDay: number): number {
  return Math.min(0.8, Math.max(0.1, pTable + 0.04 * (5 - etcMmDay)));
}

/**
 * Water stress coefficient (FAO-56 Eq. 84): 1 while depletion is below RAW, then falling
 * linearly to 0 at TAW.
 */
export function waterStressCoefficient(depletionMm: number, taw: number, raw: number): number {
  if (depletionMm <= raw) return 1;
  if (taw <= raw) return 0;
  return Math.max(0, (taw - depletionMm) / (taw - raw));
}

/**
 * Root-zone depletion from a measured volumetric soil moisture (FAO-56 Eq. 87), limited to
 * 0–TAW (moisture above field capacity drains within a day; FAO-56 counts it as percolation).
 * @returns Dr, mm
 */
export function depletionFromSoilMoisture(thetaFc: number, thetaWp: number, theta: number, rootDepthM: number): number {
  const taw = totalAvailableWater(thetaFc, thetaWp, rootDepthM);
  return Math.min(taw, Math.max(0, 1000 * (thetaFc - theta) * rootDepthM));
}

/** Inverse of Eq. 87: the root-zone mean soil moisture for a depletion, m3/m3. */
export function soilMoistureFromDepletion(thetaFc: number, depletionMm: number, rootDepthM: number): number {
  return thetaFc - depletionMm / (1000 * rootDepthM);
}

/** Water entering and leaving the root zone during one time step, mm per step. */
export interface WaterBalanceInput {
  /** Reference evapotranspiration, mm. */
  et0: number;
  /** Crop coefficient, –. */
  kc: number;
  /** Precipitation, mm (default 0). */
  rain?: number;
  /** Part of the precipitation lost to surface runoff, mm (default 0). */
  runoff?: number;
  /** Net irrigation depth infiltrated, mm (default 0). */
  irrigation?: number;
  /** Capillary rise from a shallow water table, mm (default 0). */
  capillaryRise?: number;
}

export interface WaterBalanceStep {
  /** Depletion at the start of the step, mm. */
  depletionStart: number;
  /** Water stress coefficient from the depletion at the start of the step, –. */
  ks: number;
  /** Actual (stress-adjusted) crop evapotranspiration Ks Kc ET0, mm. */
  etcAdj: number;
  /** Water lost below the root zone, mm (FAO-56 Eq. 88). */
  deepPercolation: number;
  /** Depletion at the end of the step, mm. */
  depletionEnd: number;
  /** The irrigate-when-depletion-reaches-RAW rule, applied to the end of the step. */
  irrigate: boolean;
  /** Net irrigation depth that refills the root zone to field capacity, mm (0 when not irrigating). */
  irrigationDepth: number;
}

/**
 * One step of the root-zone water balance (FAO-56 Eq. 85 and 88). Works for any step length as
 * long as every amount is for that step (a day in FAO-56; the simulator uses hours).
 * @param depletionStart Dr at the end of the previous step, mm
 * @param taw total available water, mm
 * @param raw readily available water, mm
 */
export function stepWaterBalance(
  depletionStart: number,
  input: WaterBalanceInput,
  taw: number,
  raw: number,
): WaterBalanceStep {
  const ks = waterStressCoefficient(depletionStart, taw, raw);
  const inflow = (input.rain ?? 0) - (input.runoff ?? 0) + (input.irrigation ?? 0) + (input.capillaryRise ?? 0);
  let etcAdj = ks * input.kc * input.et0;
  // Water above field capacity leaves the root zone within the step (Eq. 88).
  const deepPercolation = Math.max(0, inflow - etcAdj - depletionStart);
  let depletionEnd = depletionStart - inflow + etcAdj + deepPercolation;
  if (depletionEnd > taw) {
    // The crop cannot take out more water than there is above the wilting point.
    etcAdj -= depletionEnd - taw;
    depletionEnd = taw;
  }
  depletionEnd = Math.max(0, depletionEnd);
  const irrigate = depletionEnd >= raw;
  return {
    depletionStart,
    ks,
    etcAdj,
    deepPercolation,
    depletionEnd,
    irrigate,
    irrigationDepth: irrigate ? depletionEnd : 0,
  };
}

export interface WaterBalanceSetup {
  /** Field capacity and wilting point, m3/m3. */
  thetaFc: number;
  thetaWp: number;
  /** Rooting depth, m. */
  rootDepthM: number;
  /** Depletion fraction p, 0–1. */
  p: number;
  /** Depletion at the start, mm. */
  initialDepletionMm: number;
}

export interface WaterBalanceRun {
  taw: number;
  raw: number;
  steps: WaterBalanceStep[];
}

/**
 * Run the balance over consecutive steps. Irrigation is applied only when given in the input:
 * `irrigate` reports the rule, it does not act on it.
 */
export function runWaterBalance(setup: WaterBalanceSetup, inputs: readonly WaterBalanceInput[]): WaterBalanceRun {
  const taw = totalAvailableWater(setup.thetaFc, setup.thetaWp, setup.rootDepthM);
  const raw = readilyAvailableWater(taw, setup.p);
  let depletion = Math.min(taw, Math.max(0, setup.initialDepletionMm));
  const steps = inputs.map((input) => {
    const step = stepWaterBalance(depletion, input, taw, raw);
    depletion = step.depletionEnd;
    return step;
  });
  return { taw, raw, steps };
}
