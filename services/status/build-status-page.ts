/**
 * The status page: a component of the host that serves `/ui/` (and `/` leads there) on the one
 * HTTP port. Static files from the package, a login with the admin token, and one JSON snapshot
 * the page polls. It reads the other parts only through their read-only contracts; it owns no
 * state but its sessions. Wiring only.
 */
import { systemClock, type Clock } from '../shared/clock.js';
import type { Component } from '../shared/component.js';
import type { InfluxTarget } from '../shared/influx.js';
import { createAssets } from './assets.js';
import { createStatusQueries } from './influx-queries.js';
import { createLoginThrottle, DEFAULT_LOGIN_THROTTLE_OPTIONS, type LoginThrottleOptions } from './login-throttle.js';
import { statusRoutes } from './routes.js';
import { createSessionStore, DEFAULT_SESSION_OPTIONS, type SessionOptions } from './sessions.js';
import { createSnapshotReader, DEFAULT_SNAPSHOT_OPTIONS, type SnapshotOptions, type StatusSnapshot, type StatusSources } from './snapshot.js';

export interface BuildStatusPageOptions {
  /** The admin token that logs in; without one the login page says so and nobody gets in. */
  adminToken: string | undefined;
  /** The app serves TLS: the session cookie is marked `Secure`. */
  tls: boolean;
  influx: Pick<InfluxTarget, 'url' | 'token' | 'bucket' | 'timeoutMs'>;
  sources: Omit<StatusSources, 'influx'>;
  clock?: Clock;
  snapshot?: Partial<SnapshotOptions>;
  sessions?: Partial<SessionOptions>;
  loginThrottle?: Partial<LoginThrottleOptions>;
  /** Where the page's files are (default: the package's `services/status/public`). */
  assetsDir?: string;
}

export interface StatusPage extends Component {
  /** The snapshot `GET /ui/api/status` answers; calls made while one is being read share it. */
  snapshot(): Promise<StatusSnapshot>;
}

export function buildStatusPage(options: BuildStatusPageOptions): StatusPage {
  const clock = options.clock ?? systemClock;
  const sessions = createSessionStore(clock, { ...DEFAULT_SESSION_OPTIONS, ...options.sessions });
  const throttle = createLoginThrottle(clock, { ...DEFAULT_LOGIN_THROTTLE_OPTIONS, ...options.loginThrottle });
  const read = createSnapshotReader({ ...options.sources, influx: createStatusQueries(options.influx) }, clock, {
    ...DEFAULT_SNAPSHOT_OPTIONS,
    ...options.snapshot,
  });
  // Viewers polling at the same moment share one read: InfluxDB sees one set of queries, not one per tab.
  let reading: ReturnType<typeof read> | undefined;
  const snapshot = () => (reading ??= read().finally(() => (reading = undefined)));
  const assets = createAssets(options.assetsDir);
  return {
    name: 'status',
    snapshot,
    routes: async (app) => {
      await app.register(statusRoutes, { adminToken: options.adminToken, secureCookie: options.tls, sessions, throttle, snapshot, assets });
    },
    async start() {
      // Read the files now: a package without them fails at start, not on a visitor's request.
      assets.get('index.html');
    },
    async stop() {},
  };
}
