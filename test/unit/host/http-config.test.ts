import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DISPATCH_CONFIG, createDispatchConfig } from '../../../services/dispatcher/config.js';
import { PIPELINE_CONFIG } from '../../../services/host/config.js';
import { DEFAULT_HTTP_SERVER_OPTIONS, HTTP_SERVER_CONFIG, httpServerOptions } from '../../../services/host/http-config.js';
import { loadConfig } from '../../../services/shared/config.js';

describe('HTTP server settings', () => {
  it('default to DEFAULT_HTTP_SERVER_OPTIONS', () => {
    expect(httpServerOptions(z.object(HTTP_SERVER_CONFIG).parse({}))).toEqual(DEFAULT_HTTP_SERVER_OPTIONS);
  });

  it('are read by `fieldhook start` and by the standalone dispatcher, as the one schema', () => {
    for (const [key, schema] of Object.entries(HTTP_SERVER_CONFIG)) {
      expect(PIPELINE_CONFIG[key as keyof typeof PIPELINE_CONFIG]).toBe(schema);
      expect(DISPATCH_CONFIG[key as keyof typeof DISPATCH_CONFIG]).toBe(schema);
    }
    expect(httpServerOptions(createDispatchConfig()).maxConnections).toBe(DEFAULT_HTTP_SERVER_OPTIONS.maxConnections);
  });

  it('come from the environment, validated', () => {
    const config = loadConfig(HTTP_SERVER_CONFIG, { FIELDHOOK_HTTP_MAX_CONNECTIONS_PER_ADDRESS: '3', FIELDHOOK_HTTP_REQUEST_TIMEOUT_MS: '500' });
    const options = httpServerOptions(config);
    expect(options.maxConnectionsPerAddress).toBe(3);
    // The headers' deadline never outlasts the whole request's (Node refuses that).
    expect(options.headersTimeoutMs).toBe(500);
    expect(() => loadConfig(HTTP_SERVER_CONFIG, { FIELDHOOK_HTTP_MAX_CONNECTIONS: '0' })).toThrow(/FIELDHOOK_HTTP_MAX_CONNECTIONS/);
  });
});
