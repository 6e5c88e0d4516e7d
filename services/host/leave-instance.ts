/**
 * `fieldhook leave`: an instance scaled in for good hands on what it holds and leaves every
 * shared group, so the broker stops assigning it a share of the messages (a stopped instance's
 * sessions last a week, `SESSION_EXPIRY_S`, and their share waits in them all that time).
 *
 * It runs the instance once more, with its configuration and data folder, reachable only on
 * loopback (no device or load balancer sends it anything new): its parts resume their sessions
 * and take what is queued there; the ingestor leaves the devices' group and waits until InfluxDB
 * and the bus have every reading of its spool; then every part leaves (sessions ended, predictor
 * partitions and membership released) and the instance stops.
 */
import { INFLUX_CONSUMER, BUS_CONSUMER, type SpoolUsage } from '../ingestor/spool/spool.js';
import { Errors } from '../shared/error-catalog.js';
import { isFieldhookError } from '../shared/errors.js';
import { resolveInstanceId } from '../shared/instance.js';
import type { Logger } from '../shared/logger.js';
import { startFieldhook, type PipelineConfig } from './fieldhook.js';
import { selectParts } from './parts.js';

/** How long `fieldhook leave` waits for the spool to be handed on and the sessions to end: 10 min. */
export const DEFAULT_LEAVE_TIMEOUT_MS = 600_000;

export interface LeaveReport {
  instance: string;
  /** The parts that ran and left (`FIELDHOOK_PARTS`). */
  parts: string[];
  /** The spool once handed on (every consumer at its end); undefined without an ingestor. */
  spool?: { influxPending: number; busPending: number; deadLetters: number };
  /** The broker whose groups it left. */
  mqttUrl: string;
  /**
   * Whether the control plane is SQLite in the data folder: its outbox (webhooks not yet delivered)
   * and irrigation records not yet forwarded are then the folder's own, which no other instance takes.
   */
  folderHoldsState: boolean;
}

export async function leaveFieldhook(config: PipelineConfig, logger: Logger, options: { timeoutMs?: number } = {}): Promise<LeaveReport> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_LEAVE_TIMEOUT_MS;
  const parts = selectParts(config);
  const running = await startFieldhook(
    { ...config, HTTP_HOST: '127.0.0.1', HTTP_PORT: 0, MQTT_LISTEN_HOST: '127.0.0.1', MQTT_LISTEN_PORT: 0, MQTT_TLS_PORT: 0 },
    logger,
    // Interrupted, it ends as a killed instance does: sessions and spool kept, for the next try.
    { handleSignals: false },
  );
  // The id the start used (made on a first start and kept in the data folder).
  const instance = resolveInstanceId(config.DATA_DIR, config.INSTANCE_ID);
  const signal = AbortSignal.timeout(timeoutMs);
  let usage: SpoolUsage | undefined;
  try {
    usage = await running.handOver({ signal });
  } catch (err) {
    // Not handed on: the rest keeps its sessions for the next try (nothing is dropped).
    await running.stop().catch((stopErr: unknown) => logger.error({ err: stopErr }, 'fieldhook did not stop cleanly'));
    throw err;
  }
  try {
    await running.leave({ signal });
  } catch (err) {
    if (isFieldhookError(err)) throw err;
    throw Errors.instanceLeaveIncomplete(`the spool was handed on, but a part did not leave: ${(err as Error).message}`);
  }
  return {
    instance,
    parts: [...(parts.ingestor ? ['ingestor'] : []), ...(parts.predictor ? ['predictor'] : []), ...(parts.dispatcher ? ['dispatcher'] : [])],
    ...(usage
      ? {
          spool: {
            influxPending: usage.consumers[INFLUX_CONSUMER]?.pendingReadings ?? 0,
            busPending: usage.consumers[BUS_CONSUMER]?.pendingReadings ?? 0,
            deadLetters: usage.deadLetters,
          },
        }
      : {}),
    mqttUrl: running.mqttUrl,
    folderHoldsState: !config.DATABASE_URL,
  };
}

/** What `fieldhook leave` prints: what it did, step by step. */
export function describeLeave(report: LeaveReport, timeoutMs: number): string {
  const lines = [`fieldhook leave: instance ${report.instance} (${report.parts.join(', ')})`];
  lines.push('  resumed its broker sessions and took what was queued in them');
  if (report.spool) {
    lines.push('  spool handed on: InfluxDB and the bus have every stored reading');
    if (report.spool.deadLetters > 0) {
      lines.push(`  ${report.spool.deadLetters} dead letters stay in this data folder (fieldhook dead-letters list / requeue)`);
    }
  }
  lines.push(`  left every shared group on ${report.mqttUrl}: sessions ended, the other instances get the whole share`);
  if (report.parts.includes('predictor')) lines.push('  predictor partitions and membership released');
  if (report.folderHoldsState) {
    lines.push(`  done within ${Math.round(timeoutMs / 1000)} s; before removing the instance, keep its data folder while it holds anything you need:`);
    lines.push('  on SQLite its outbox (webhooks not yet delivered: fieldhook deliveries) and irrigation records not yet forwarded are its own');
  } else {
    lines.push(`  done within ${Math.round(timeoutMs / 1000)} s; the instance can be removed`);
  }
  return `${lines.join('\n')}\n`;
}
