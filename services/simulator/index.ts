/** Seeded field simulator: climates, weather, FAO-56 ground truth, sensor readings, live fleet. */
export { CLIMATES, CLIMATE_NAMES, type ClimateName, type ClimatePreset } from './climates.js';
export { depletionAhead, hoursToRawAhead, simulateField, trueSoilMoisture, type FieldRun } from './field-run.js';
export {
  DEFAULT_FIELD_OPTIONS,
  createFieldSpecs,
  typicalRhMin,
  type CreateFieldsOptions,
  type FieldPopulation,
  type FieldSpec,
  type IrrigationHabit,
  type SensorProfile,
} from './fields.js';
export { DEFAULT_FLEET_OPTIONS, createFleet, type Fleet, type FleetOptions, type PushResult } from './fleet.js';
export { createRandom, type Random } from './random.js';
export { sensorReadings, type NativeReading, type ReadingQuantity } from './sensors.js';
export {
  DEFAULT_HTTP_TRANSPORT,
  DEFAULT_MQTT_TRANSPORT,
  createHttpTransport,
  createMqttTransport,
  readingsTopic,
  type HttpTransportOptions,
  type MqttTransportOptions,
  type ReadingTransport,
} from './transports.js';
export { generateDailyWeather, generateHourlyWeather, type DailyWeather, type HourlyWeather } from './weather.js';
