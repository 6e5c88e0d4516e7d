import type { Dispatcher as UndiciDispatcher } from 'undici';
import type { Logger } from '../shared/logger.js';
import { createAddressGuard, createGuardedAgent, policyFor, type AddressGuard, type Resolver } from './ssrf-guard.js';

export interface GuardCacheOptions {
  /** Per-farm allow-list of otherwise refused ranges (`WEBHOOK_ALLOW_CIDRS`). */
  allowCidrs: Record<string, string[]>;
  httpsOnly: boolean;
  /** Connections of each guarded agent. */
  connections: number;
  /** Build no agents: a test transport does its own I/O. */
  withoutAgents?: boolean;
  /** DNS resolver of the agents (tests simulate hostile DNS). */
  resolver?: Resolver;
}

export interface GuardedDestination {
  guard: AddressGuard;
  agent: UndiciDispatcher | undefined;
}

export interface GuardCache {
  /** The guard (and agent enforcing it at connect time) of a subscription scoped to `farms`. */
  guardFor(farms: readonly string[]): GuardedDestination;
  close(): Promise<void>;
}

/**
 * One guard and agent per distinct SSRF policy: most subscriptions share the global one, so the
 * cache stays as small as the number of distinct farm scopes that have allow-lists.
 */
export function createGuardCache(options: GuardCacheOptions, logger: Logger): GuardCache {
  const guards = new Map<string, GuardedDestination>();
  const admitted = new Set<string>();

  function build(key: string, guard: AddressGuard, farms: readonly string[]): UndiciDispatcher | undefined {
    if (options.withoutAgents) return undefined;
    return createGuardedAgent(guard, {
      // Several subscriptions may share an origin (one chat platform, many hooks): the limiter
      // bounds attempts per subscription, the pool only must not be the bottleneck.
      connections: options.connections,
      ...(options.resolver ? { resolver: options.resolver } : {}),
      onAllowListed: ({ hostname, address, cidr }) => {
        const k = `${key}|${hostname}|${address}`;
        if (admitted.has(k)) return;
        admitted.add(k);
        // Audited: every private destination reached, once per policy and address.
        logger.warn({ hostname, address, cidr, farms }, 'allow-list admitted a private webhook destination');
      },
    });
  }

  return {
    guardFor(farms) {
      const policy = policyFor(options.allowCidrs, farms, options.httpsOnly);
      const key = JSON.stringify(policy);
      let entry = guards.get(key);
      if (!entry) {
        const guard = createAddressGuard(policy);
        entry = { guard, agent: build(key, guard, farms) };
        guards.set(key, entry);
      }
      return entry;
    },
    async close() {
      await Promise.all([...guards.values()].map((g) => (g.agent as { close?: () => Promise<void> } | undefined)?.close?.()));
      guards.clear();
    },
  };
}
