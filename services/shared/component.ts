/**
 * The contract between a part of fieldhook and the process host (services/host). A component is
 * built by its `buildX(deps, options)` function, which only wires; the host serves its routes,
 * readiness checks and metrics, starts components in order and stops them in reverse.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Registry } from 'prom-client';
import type { SessionLeaveOptions } from './bus/connection.js';
import type { Logger } from './logger.js';

/** One readiness check: name, ok, and whatever detail helps an operator. */
export interface ReadinessCheck {
  name: string;
  check: () => Promise<{ ok: boolean; detail?: Record<string, unknown> }>;
}

/** What the host hands a component when it starts it. */
export interface ComponentContext {
  logger: Logger;
  /** Aborted when the host is asked to stop while components are still starting. */
  signal: AbortSignal;
}

/**
 * How a part leaves for good: `signal` (aborted, what is not yet left is stopped instead, its
 * sessions kept, and `leave()` rejects) and `keepOlderSessions` (only sessions this process created
 * end), as services/shared/bus/connection.ts describes them.
 */
export type LeaveOptions = SessionLeaveOptions;

export interface Component {
  /** Short, stable: used in logs and as the prefix of its readiness checks. */
  readonly name: string;
  /** Routes the component contributes to the host's one HTTP app. */
  readonly routes?: FastifyPluginAsync;
  /** Checks `/readyz` runs; the process is ready when every component's checks pass. */
  readonly readiness?: readonly ReadinessCheck[];
  /** The component's own metrics; the host serves them all on `/metrics`. */
  readonly metrics?: Registry;
  start(context?: ComponentContext): Promise<void>;
  /** Stops; broker sessions are kept, so a restart resumes them and gets what was queued meanwhile. */
  stop(): Promise<void>;
  /**
   * Stops for good (scaling in, a start that failed): as `stop()`, but the part's broker sessions
   * first hand over what they held and then end, so no shared group assigns it messages any more.
   * Only parts with sessions have it; the host stops the others.
   */
  leave?(options?: LeaveOptions): Promise<void>;
}
