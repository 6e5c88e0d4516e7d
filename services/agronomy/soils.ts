import { Errors } from '../shared/error-catalog.js';

/** Water retention of a soil texture class. */
export interface SoilPreset {
  name: SoilName;
  /** Volumetric water content at field capacity, m3/m3. */
  thetaFc: number;
  /** Volumetric water content at wilting point, m3/m3. */
  thetaWp: number;
}

export const SOIL_NAMES = [
  'sand',
  'loamy-sand',
  'sandy-loam',
  'loam',
  'silt-loam',
  'silt',
  'silty-clay-loam',
  'clay-loam',
  'silty-clay',
  'clay',
] as const;
export type SoilName = (typeof SOIL_NAMES)[number];

/**
 * Mid-points of the ranges in FAO-56 Table 19. Clay loam is not in that table; its values are
 * the usual ones for the class, between silty clay loam and clay.
 */
export const SOILS: Readonly<Record<SoilName, SoilPreset>> = {
  sand: { name: 'sand', thetaFc: 0.12, thetaWp: 0.045 },
  'loamy-sand': { name: 'loamy-sand', thetaFc: 0.15, thetaWp: 0.065 },
  'sandy-loam': { name: 'sandy-loam', thetaFc: 0.23, thetaWp: 0.11 },
  loam: { name: 'loam', thetaFc: 0.25, thetaWp: 0.12 },
  'silt-loam': { name: 'silt-loam', thetaFc: 0.29, thetaWp: 0.15 },
  silt: { name: 'silt', thetaFc: 0.32, thetaWp: 0.17 },
  'silty-clay-loam': { name: 'silty-clay-loam', thetaFc: 0.335, thetaWp: 0.205 },
  'clay-loam': { name: 'clay-loam', thetaFc: 0.32, thetaWp: 0.19 },
  'silty-clay': { name: 'silty-clay', thetaFc: 0.36, thetaWp: 0.23 },
  clay: { name: 'clay', thetaFc: 0.36, thetaWp: 0.22 },
};

/** Look up a soil by name (`sandy-loam`, `sandy_loam` and `sandy loam` all work). */
export function getSoil(name: string): SoilPreset {
  const key = name.trim().toLowerCase().replace(/[\s_]+/g, '-');
  const soil = (SOILS as Record<string, SoilPreset | undefined>)[key];
  if (!soil) {
    throw Errors.agronomyUnknownPreset(`Unknown soil "${name}"; known: ${SOIL_NAMES.join(', ')}`, { field: 'soil' });
  }
  return soil;
}
