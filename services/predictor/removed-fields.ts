/**
 * An advice in force on a field that was removed (`fieldhook fields remove`) is withdrawn:
 * receivers would hold it until it lapses, for a field fieldhook no longer knows. The predictor
 * that evaluated the field publishes `irrigation.cleared` (reason `field removed`); one it could
 * not publish is tried again at the next refresh of the fields (before every scheduled round).
 */
import type { PublishInput } from '../shared/bus/payloads.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import type { Advice } from './decision.js';
import { fieldKey, type FieldSettings } from './field-profiles.js';
import { removedFieldClearance } from './outputs.js';

export interface RemovedFieldWithdrawals {
  /** A field no longer configured that had this advice in force. */
  add(field: Pick<FieldSettings, 'farm' | 'field'>, advice: Advice): void;
  /** Publish the withdrawals pending; one that fails stays for the next call. */
  flush(): Promise<void>;
}

export function createRemovedFieldWithdrawals(deps: {
  publish(event: PublishInput): Promise<unknown>;
  /** Whether this instance may publish for the field (it holds the field's partition). */
  mayPublish(key: string): boolean;
  clock: Clock;
  logger: Logger;
}): RemovedFieldWithdrawals {
  const pending = new Map<string, PublishInput>();
  return {
    add({ farm, field }, advice) {
      pending.set(fieldKey(farm, field), removedFieldClearance(farm, field, advice, deps.clock.now()));
    },
    async flush() {
      for (const [key, event] of pending) {
        // Its partition went to another instance meanwhile, which never knew the advice: let it go.
        if (!deps.mayPublish(key)) {
          pending.delete(key);
          continue;
        }
        try {
          await deps.publish(event);
          pending.delete(key);
        } catch (err) {
          deps.logger.warn({ err, farm: event.farm, field: event.field }, 'advice of a removed field not withdrawn yet; tried again before the next round');
        }
      }
    },
  };
}
