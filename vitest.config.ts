import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/real-services.ts'],
    reporters: ['default', './test/setup/summary-reporter.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Integration tests share one InfluxDB and one Mosquitto; files isolate by database name and
    // topic prefix, so they may run in parallel, but two workers is all a 2-core machine wants.
    maxWorkers: 2,
  },
});
