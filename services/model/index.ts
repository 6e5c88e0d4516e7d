/** The irrigation model: features (shared by training and prediction), ONNX runtime, evaluation. */
export { POPULATIONS, profileFromSpec } from './dataset.js';
export { MODEL_DERIVED, MODEL_OUTPUTS, type ModelCard } from './card.js';
export { ModelCardMismatch, ModelChecksumMismatch, ModelInvalidInput } from './errors.js';
export {
  faoYesterdayForecast,
  persistenceForecast,
  scoreForecasts,
  type DepletionForecast,
  type ForecastScore,
  type ScoredCase,
} from './evaluation.js';
export {
  BASE_FEATURE_INDICES,
  FEATURES,
  FEATURE_COUNT,
  FEATURE_NAMES,
  FEATURE_WINDOW_HOURS,
  buildObservationSeries,
  computeFeatures,
  featuresFromReadings,
  type FeatureGap,
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
  type IrrigationModel,
  type IrrigationModelOptions,
  type IrrigationPrediction,
} from './runtime.js';
