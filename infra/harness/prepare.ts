import { ensureChromium } from './chromium.js';
import { ensureInfluxd } from './influxdb.js';
import { ensureInfluxd2, INFLUXDB2_VERSION } from './influxdb2.js';
import { ensureMosquitto } from './mosquitto.js';
import { ensurePostgres } from './postgres.js';
import { ensurePrometheus } from './prometheus.js';
import { ensureSchemathesis } from './schemathesis.js';
import { ensureLineProtocolTelegraf } from './telegraf-line-protocol.js';

// `npm run services:prepare`: build/install the real services and tools the tests run against, so
// that the test run itself starts quickly. Safe to run again: every step is a no-op once done.
const influxd = ensureInfluxd();
// InfluxDB 2.7 for the integration-influx2 project: Go and Flux's Rust library, about 5 minutes the first time.
const influxd2 = ensureInfluxd2();
const mosquitto = ensureMosquitto();
const postgres = ensurePostgres();
const schemathesis = ensureSchemathesis();
const prometheus = ensurePrometheus();
process.stdout.write(`InfluxDB: ${influxd}\nInfluxDB ${INFLUXDB2_VERSION}: ${influxd2}\nMosquitto: ${mosquitto}\nPostgreSQL: ${postgres}\nschemathesis: ${schemathesis}\n`);
process.stdout.write(`Prometheus: ${prometheus}\nChromium: ${ensureChromium()}\n`);
// Telegraf as a client of fieldhook's line protocol endpoints (test/integration/ingestor/telegraf.test.ts).
process.stdout.write(`Telegraf (line protocol client): ${ensureLineProtocolTelegraf()}\n`);
