// The test harness runs the same InfluxDB that `fieldhook start` runs on its own.
export {
  INFLUXDB_MODULE,
  INFLUXDB_VERSION,
  ensureInfluxd,
  influxdBinaryPath,
  startInfluxDB,
  type RunningInfluxDB,
  type StartInfluxOptions,
} from '../../services/host/local-influxdb.js';
