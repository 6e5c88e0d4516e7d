import { defineConfig } from 'vitest/config';

// One real InfluxDB and one real Mosquitto for the run; only the projects that need them start them.
const realServices = ['test/setup/real-services.ts'];
// The integration and e2e files that talk to InfluxDB run twice: against 1.8 (project `integration`) and
// against 2.7 (project `integration-influx2`); test/helpers/test-influx.ts gives each its settings.
// `*.influx2.test.ts` files test what only 2.x answers and run in the second project only. A file
// that talks to InfluxDB but is not listed says in its header why it runs against 1.8 only.
const influxFacing = [
  'test/integration/**/*.influx2.test.ts',
  'test/integration/status/influx-queries.test.ts',
  'test/integration/predictor/history-replay.test.ts',
  'test/integration/grafana/dashboards.test.ts',
  'test/integration/irrigations/advice.test.ts',
  'test/integration/ingestor/http.test.ts',
  'test/integration/ingestor/embedded-broker.test.ts',
  'test/integration/ingestor/mqtt.test.ts',
  'test/integration/ingestor/line-protocol.test.ts',
  'test/integration/ingestor/uplinks.test.ts',
  'test/integration/ingestor/mqtt-registry-unsettled.test.ts',
  'test/integration/ingestor/errors.test.ts',
  'test/integration/ingestor/telegraf.test.ts',
  'test/integration/ingestor/mqtt-reconnect.test.ts',
  'test/integration/ingestor/durability.test.ts',
  'test/integration/ingestor/tls-pressure.test.ts',
  'test/integration/irrigations/api.test.ts',
  'test/integration/irrigations/mosquitto.test.ts',
  'test/integration/predictor/cli.test.ts',
  'test/integration/predictor/shared-fields.test.ts',
  'test/integration/predictor/field-views.test.ts',
  'test/integration/chat/chat-answers.test.ts',
  'test/integration/cli/local-pipeline.test.ts',
  'test/integration/demo/demo.test.ts',
  'test/integration/host/fieldhook.test.ts',
  'test/integration/host/instance.test.ts',
  'test/integration/host/two-instances.test.ts',
  'test/integration/host/parts-apart.test.ts',
  'test/integration/host/embedded-broker-predictor.test.ts',
  'test/integration/host/multi-instance.test.ts',
  'test/integration/host/soak.test.ts',
  'test/integration/host/leave-instance.test.ts',
  'test/integration/ingestor/embedded-broker-readings.test.ts',
  'test/integration/demo/demo-postgres.test.ts',
  // The end-to-end files too: this project is where 2.7 runs, so they run here rather than in
  // an `e2e` twin that would start a second 2.7 (and Mosquitto, PostgreSQL) for three files.
  'test/e2e/pipeline-predictor.test.ts',
  'test/e2e/predictor.test.ts',
  'test/e2e/status-page.test.ts',
];

export default defineConfig({
  test: {
    reporters: ['default', './test/setup/summary-reporter.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Integration tests share one InfluxDB and one Mosquitto; files isolate by database name and
    // topic prefix, so they may run in parallel, but two workers is all a 2-core machine wants.
    maxWorkers: 2,
    setupFiles: ['test/setup/fast-check.ts'],
    projects: [
      {
        // Pure code: no child processes, no sockets, no Go, InfluxDB or Mosquitto.
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'] },
      },
      {
        extends: true,
        test: { name: 'integration', include: ['test/integration/**/*.test.ts'], exclude: ['test/**/*.influx2.test.ts'], globalSetup: realServices },
      },
      {
        extends: true,
        test: { name: 'integration-influx2', include: influxFacing, globalSetup: realServices },
      },
      {
        extends: true,
        test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], globalSetup: realServices },
      },
    ],
  },
});
