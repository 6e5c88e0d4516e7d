/**
 * The irrigation model as the running pipeline uses it: features (shared by training and
 * prediction), the card and the ONNX runtime. The data set, evaluation and reports live in
 * `services/training`, which the pipeline never imports.
 */
export { MODEL_DERIVED, MODEL_OUTPUTS, type ModelCard } from './card.js';
export {
  BASE_FEATURE_INDICES,
  FEATURES,
  FEATURE_COUNT,
  FEATURE_NAMES,
  FEATURE_WINDOW_HOURS,
  buildObservationSeries,
  computeFeatures,
  daysAfterSowing,
  featuresFromReadings,
  stationEt0PeriodHours,
  type Et0Provenance,
  type AppliedWaterInput,
  type FeatureContext,
  type FeatureGap,
  type ForecastHourInput,
  type FeatureName,
  type FieldProfile,
  type ObservationSeries,
  type ObservedReading,
} from './features.js';
export {
  DEFAULT_IRRIGATION_MODEL_OPTIONS,
  createIrrigationModel,
  hoursToThreshold,
  localHourOf,
  predictionFrom,
  type IrrigationModel,
  type IrrigationModelOptions,
  type IrrigationPrediction,
} from './runtime.js';
