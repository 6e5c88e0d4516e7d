import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { runHost } from '../../../services/host/run-host.js';
import type { Component } from '../../../services/shared/component.js';
import { silentLogger } from '../../../services/shared/logger.js';

function recorder() {
  const log: string[] = [];
  const component = (name: string, failStart = false): Component => ({
    name,
    routes: async (scope) => void scope.get(`/${name}`, async () => ({ name })),
    async start() {
      log.push(`start ${name}`);
      if (failStart) throw new Error(`${name} cannot start`);
    },
    async stop() {
      log.push(`stop ${name}`);
    },
  });
  return { log, component };
}

const options = { logger: silentLogger(), http: { host: '127.0.0.1', port: 0 }, handleSignals: false };

describe('runHost', () => {
  it('starts components in order, then listens; stops listening first, then the components in reverse', async () => {
    const { log, component } = recorder();
    const host = await runHost([component('influxdb'), component('ingestor'), component('predictor')], options);
    expect(log).toEqual(['start influxdb', 'start ingestor', 'start predictor']);
    expect(await (await fetch(`${host.url}/ingestor`)).json()).toEqual({ name: 'ingestor' });
    await host.stop();
    await host.stop(); // once only
    expect(log.slice(3)).toEqual(['stop predictor', 'stop ingestor', 'stop influxdb']);
    await expect(fetch(`${host.url}/healthz`)).rejects.toThrow();
  });

  it('a component that fails to start stops the ones before it, then itself and the ones never started, and the error reaches the caller: no half-started process', async () => {
    const { log, component } = recorder();
    await expect(runHost([component('influxdb'), component('ingestor', true), component('predictor')], options)).rejects.toThrow('ingestor cannot start');
    // The failed part may have started halfway (a broker listening), and a built part may hold a worker thread.
    expect(log).toEqual(['start influxdb', 'start ingestor', 'stop influxdb', 'stop predictor', 'stop ingestor']);
  });

  it('says which setting to change when its HTTP port is taken, and stops what it started', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      const { log, component } = recorder();
      await expect(runHost([component('ingestor')], { ...options, http: { host: '127.0.0.1', port } })).rejects.toMatchObject({
        code: 'FH_ERR_CONFIG_PORT_UNAVAILABLE',
        message: expect.stringContaining(`127.0.0.1:${port} is already in use`),
        details: { setting: 'FIELDHOOK_HTTP_PORT', port, cause: 'EADDRINUSE' },
      });
      expect(log).toEqual(['start ingestor', 'stop ingestor']);
    } finally {
      taken.close();
    }
  });
});
