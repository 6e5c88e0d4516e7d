/**
 * Climate presets for the simulator: a site (latitude, longitude, elevation) and the statistics
 * the weather generator draws from. Values are typical of the named climate, not of one station.
 */
export interface ClimatePreset {
  name: ClimateName;
  latitudeDeg: number;
  /** Site longitude and the local time zone's central meridian, degrees east. */
  longitudeDeg: number;
  tzLongitudeDeg: number;
  elevationM: number;
  /** Annual mean of the daily mean temperature and its seasonal half-amplitude, °C. */
  tMeanC: number;
  tSeasonalAmplitudeC: number;
  /** Mean diurnal temperature range (Tmax − Tmin), °C. */
  diurnalRangeC: number;
  /** Mean dew point depression below Tmin on dry days, °C (0 humid … 10 arid). */
  dewDepressionC: number;
  /** Mean wind speed at 2 m, m/s. */
  windMs: number;
  /** Mean cloud fraction of dry days, 0–1. */
  cloudiness: number;
  /** Markov chain of wet days: P(wet | dry yesterday), P(wet | wet yesterday). */
  pWetAfterDry: number;
  pWetAfterWet: number;
  /** Mean rain of a wet day, mm (exponentially distributed). */
  wetDayRainMm: number;
  /** Day of year when rain is most likely, and how strongly rain follows the season (0–1). */
  rainPeakDoy: number;
  rainSeasonality: number;
  /** Whether Hargreaves' coastal coefficient would apply. */
  coastal: boolean;
}

export const CLIMATE_NAMES = ['humid', 'humid-subtropical', 'semi-arid', 'arid', 'mediterranean', 'continental'] as const;
export type ClimateName = (typeof CLIMATE_NAMES)[number];

export const CLIMATES: Readonly<Record<ClimateName, ClimatePreset>> = {
  // Oceanic western Europe (near Brussels).
  humid: {
    name: 'humid', latitudeDeg: 50.8, longitudeDeg: 4.35, tzLongitudeDeg: 15, elevationM: 100,
    tMeanC: 10.5, tSeasonalAmplitudeC: 7.5, diurnalRangeC: 8.5, dewDepressionC: 0.5, windMs: 3,
    cloudiness: 0.55, pWetAfterDry: 0.35, pWetAfterWet: 0.6, wetDayRainMm: 4.5, rainPeakDoy: 300,
    rainSeasonality: 0.2, coastal: false,
  },
  // South-eastern US (Georgia): hot, humid, thunderstorms.
  'humid-subtropical': {
    name: 'humid-subtropical', latitudeDeg: 31.5, longitudeDeg: -83.5, tzLongitudeDeg: -75, elevationM: 100,
    tMeanC: 19, tSeasonalAmplitudeC: 8.5, diurnalRangeC: 11, dewDepressionC: 1, windMs: 2.2,
    cloudiness: 0.4, pWetAfterDry: 0.25, pWetAfterWet: 0.5, wetDayRainMm: 11, rainPeakDoy: 200,
    rainSeasonality: 0.3, coastal: false,
  },
  // Great Plains / inland Spain.
  'semi-arid': {
    name: 'semi-arid', latitudeDeg: 40.4, longitudeDeg: -3.7, tzLongitudeDeg: 15, elevationM: 650,
    tMeanC: 14.5, tSeasonalAmplitudeC: 9.5, diurnalRangeC: 14, dewDepressionC: 5, windMs: 2.8,
    cloudiness: 0.25, pWetAfterDry: 0.12, pWetAfterWet: 0.4, wetDayRainMm: 6, rainPeakDoy: 110,
    rainSeasonality: 0.5, coastal: false,
  },
  // Hot desert with irrigated agriculture (Arizona).
  arid: {
    name: 'arid', latitudeDeg: 33.4, longitudeDeg: -112, tzLongitudeDeg: -105, elevationM: 340,
    tMeanC: 23.5, tSeasonalAmplitudeC: 10, diurnalRangeC: 15, dewDepressionC: 10, windMs: 2.4,
    cloudiness: 0.12, pWetAfterDry: 0.04, pWetAfterWet: 0.25, wetDayRainMm: 7, rainPeakDoy: 215,
    rainSeasonality: 0.6, coastal: false,
  },
  // Dry summers, wet winters, near the sea (southern Italy).
  mediterranean: {
    name: 'mediterranean', latitudeDeg: 37.5, longitudeDeg: 15.1, tzLongitudeDeg: 15, elevationM: 50,
    tMeanC: 17.5, tSeasonalAmplitudeC: 7.5, diurnalRangeC: 10, dewDepressionC: 3, windMs: 3.2,
    cloudiness: 0.25, pWetAfterDry: 0.12, pWetAfterWet: 0.45, wetDayRainMm: 8, rainPeakDoy: 330,
    rainSeasonality: 0.85, coastal: true,
  },
  // Hot summers, cold winters, summer rain (Nebraska).
  continental: {
    name: 'continental', latitudeDeg: 41, longitudeDeg: -98, tzLongitudeDeg: -90, elevationM: 600,
    tMeanC: 10.5, tSeasonalAmplitudeC: 14, diurnalRangeC: 13, dewDepressionC: 2.5, windMs: 3.5,
    cloudiness: 0.35, pWetAfterDry: 0.2, pWetAfterWet: 0.45, wetDayRainMm: 8, rainPeakDoy: 160,
    rainSeasonality: 0.5, coastal: false,
  },
};
