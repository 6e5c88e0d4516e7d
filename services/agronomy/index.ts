/** FAO-56 agronomy core: reference ET, radiation, humidity, crop coefficients and the soil water balance. */
export * from './atmosphere.js';
export * from './crops.js';
export * from './et0-daily.js';
export * from './et0-hourly.js';
export * from './hargreaves.js';
export * from './humidity.js';
export * from './penman-monteith.js';
export * from './radiation.js';
export * from './soils.js';
export * from './water-balance.js';
