import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { request } from 'undici';
import { ADMIN_TOKEN } from './helpers.js';

const ROOT = join(import.meta.dirname, '../../..');
const MAIN = join(ROOT, 'services/dispatcher/main.ts');

export interface StandaloneDispatcher {
  child: ChildProcess;
  /** Its API's base URL. */
  base: string;
}

/**
 * The standalone dispatcher (`services/dispatcher/main.ts`) in a process of its own, as an
 * operator runs it, so a test can SIGKILL it: loopback receivers allowed, a retry schedule of
 * seconds, a 100 ms poll. `env` names where its outbox lives (and anything else the test sets);
 * resolves once it prints the address it listens on (and kills it if it never does).
 */
export async function spawnDispatcher(env: NodeJS.ProcessEnv): Promise<StandaloneDispatcher> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      FIELDHOOK_ADMIN_TOKEN: ADMIN_TOKEN,
      FIELDHOOK_DISPATCH_LISTEN_PORT: '0',
      FIELDHOOK_WEBHOOK_ALLOW_CIDRS: JSON.stringify({ '*': ['127.0.0.1/32'] }),
      FIELDHOOK_WEBHOOK_RETRY_SCHEDULE_MS: '[0,200,500,1000,1000,1000,1000,1000]',
      FIELDHOOK_WEBHOOK_RETRY_MIN_HORIZON_MS: '0',
      FIELDHOOK_DISPATCH_POLL_INTERVAL_MS: '100',
      FIELDHOOK_LOG_LEVEL: 'error',
      ...env,
    },
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('dispatcher did not start')), 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`dispatcher exited with ${code}`));
    });
    lines.on('line', (line) => {
      if (!line.startsWith('{"listening"')) return;
      clearTimeout(timer);
      resolve((JSON.parse(line) as { listening: string }).listening);
    });
  }).catch((err: unknown) => {
    child.kill('SIGKILL'); // a dispatcher that never said where it listens is not left running
    throw err;
  });
  return { child, base };
}

/** One call to a dispatcher's admin API with the test's admin token. */
export async function adminApi(
  base: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> & unknown[] }> {
  const res = await request(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.statusCode, json: (await res.body.json()) as Record<string, unknown> & unknown[] };
}
