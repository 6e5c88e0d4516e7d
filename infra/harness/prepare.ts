import { ensureInfluxd } from './influxdb.js';
import { ensureMosquitto } from './mosquitto.js';

// `npm run services:prepare`: build/install the real services the tests run against, so that the
// test run itself starts quickly. Safe to run again: both steps are no-ops once done.
const influxd = ensureInfluxd();
const mosquitto = ensureMosquitto();
process.stdout.write(`InfluxDB: ${influxd}\nMosquitto: ${mosquitto}\n`);
