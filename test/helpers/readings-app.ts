import { Webhook } from 'standardwebhooks';
import type { Component } from '../../services/shared/component.js';
import { createAuthenticator } from '../../services/ingestor/auth.js';
import { readingsRoutes, type ReadingsRoutesOptions } from '../../services/ingestor/http/readings-routes.js';
import type { IngestRequest, IngestService } from '../../services/ingestor/ingest.js';
import type { DeviceRepository, DeviceWithSecret } from '../../services/registry/device.js';
import { Errors } from '../../services/shared/error-catalog.js';

/** Devices of the readings routes' tests: two enabled, one disabled. */
export const SECRETS = {
  'n-1': 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  'n-2': 'whsec_c2Vjb25kLXNlY3JldC1mb3ItdGVzdHM=',
  off: 'whsec_b2ZmLWRldmljZS1zZWNyZXQ=',
} as const;

function device(id: keyof typeof SECRETS, extra: Partial<DeviceWithSecret> = {}): DeviceWithSecret {
  return { id, farm: 'farm-u', field: 'f', kind: 'device', enabled: true, allowedNetworks: [], secret: SECRETS[id], ...extra } as DeviceWithSecret;
}

/** The part of the registry the routes read: get, findBySecret and farm networks. */
function registry(list: DeviceWithSecret[]): DeviceRepository {
  return {
    get: async (id: string) => list.find((d) => d.id === id),
    findBySecret: async (secret: string) => list.find((d) => d.secret === secret),
    getFarmNetworks: async () => [],
  } as unknown as DeviceRepository;
}

/** An ingest core that accepts every item and, as the spool does, each webhook-id once per device. */
function fakeIngest() {
  const requests: IngestRequest[] = [];
  const seen = new Set<string>();
  const service: IngestService = {
    async ingest(request) {
      requests.push(request);
      if (request.onceKey) {
        const key = `${request.credential.id}/${request.onceKey}`;
        if (seen.has(key)) throw Errors.authReplayed();
        seen.add(key);
      }
      return { accepted: request.items.length, duplicates: 0, refused: [] };
    },
    ingestMany: (batch, correlationId) => Promise.all(batch.map((r) => service.ingest({ ...r, correlationId }))),
    pressure: () => 'ok' as ReturnType<IngestService['pressure']>,
    assertCapacity: () => {},
    waitForCapacity: async () => {},
  };
  return { service, requests };
}

/**
 * The ingestor's HTTP routes over the real authenticator, with an in-memory registry and an ingest
 * core that records what it is given: no spool, no InfluxDB.
 */
export function readingsComponent(options: Partial<ReadingsRoutesOptions> = {}): { component: Component; requests: IngestRequest[] } {
  const ingest = fakeIngest();
  const auth = createAuthenticator(registry([device('n-1'), device('n-2'), device('off', { enabled: false })]));
  const component: Component = {
    name: 'ingestor',
    start: async () => {},
    stop: async () => {},
    routes: async (scope) => {
      await scope.register(readingsRoutes, { ingest: ingest.service, auth, bodyLimitBytes: 100_000, maxBatchItems: 50, rateLimitPerMinute: 0, ...options });
    },
  };
  return { component, requests: ingest.requests };
}

/** Standard Webhooks headers signing `body` with `secret`. */
export function signed(secret: string, body: string, extra: Record<string, string> = {}, id = `msg_${Math.random().toString(36).slice(2)}`) {
  const at = new Date();
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(id, at, body),
    ...extra,
  };
}
