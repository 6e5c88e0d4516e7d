import { existsSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, startProcess, tcpOpen, waitUntil, type ManagedProcess } from './process.js';
import { ensureDebianTool, type Log } from './debian.js';

const CANDIDATES = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto'];

function findMosquitto(): string | undefined {
  if (process.env.FIELDHOOK_MOSQUITTO_BIN) return process.env.FIELDHOOK_MOSQUITTO_BIN;
  return CANDIDATES.find((p) => existsSync(p));
}

/** Mosquitto 2 from Debian: installed with apt-get when missing (as root, or through sudo). */
export function ensureMosquitto(log?: Log): string {
  return ensureDebianTool({ name: 'Mosquitto', packages: ['mosquitto', 'mosquitto-clients'], find: findMosquitto }, log);
}

export interface RunningMosquitto {
  url: string;
  port: number;
  process: ManagedProcess;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface StartMosquittoOptions {
  dir: string;
  port?: number;
  /** Extra configuration lines (password_file, acl_file, …); anonymous access when none given. */
  extraConfig?: string[];
}

/**
 * Start Mosquitto on loopback with a config of ours. Queue limits are lifted: the defaults
 * (1,000 queued, 20 in flight) would drop QoS 1 messages while a consumer is away.
 */
export async function startMosquitto(options: StartMosquittoOptions): Promise<RunningMosquitto> {
  const binary = ensureMosquitto();
  const port = options.port ?? (await freePort());
  mkdirSync(options.dir, { recursive: true });
  const configFile = join(options.dir, 'mosquitto.conf');
  const extra = options.extraConfig ?? ['allow_anonymous true'];
  writeFileSync(
    configFile,
    [
      `listener ${port} 127.0.0.1`,
      'persistence true',
      `persistence_location ${options.dir}/`,
      'max_queued_messages 0',
      'max_inflight_messages 100',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      // Run as root (CI), Mosquitto would drop to the `mosquitto` user, which cannot read our
      // private temp folders: keep the invoking user instead.
      ...(process.getuid?.() === 0 ? ['user root'] : []),
      ...extra,
      '',
    ].join('\n'),
  );
  const proc = startProcess(binary, ['-c', configFile], process.env);
  try {
    await waitUntil(() => tcpOpen(port), 10_000, 'Mosquitto');
  } catch (err) {
    await proc.stop('SIGKILL');
    throw new Error(`${(err as Error).message}\n${proc.output()}`);
  }
  return { url: `mqtt://127.0.0.1:${port}`, port, process: proc, stop: (signal) => proc.stop(signal) };
}
