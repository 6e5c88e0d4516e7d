import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, startProcess, waitUntil, type ManagedProcess, type ProcessUser } from './process.js';
import { ensureDebianTool, type Log } from './debian.js';

const DEBIAN_ROOT = '/usr/lib/postgresql';
const SUPERUSER = 'fieldhook';

/** The newest Debian PostgreSQL's bin folder (initdb, postgres), or FIELDHOOK_POSTGRES_BIN_DIR. */
function findBinDir(): string | undefined {
  const configured = process.env.FIELDHOOK_POSTGRES_BIN_DIR;
  if (configured) return configured;
  if (!existsSync(DEBIAN_ROOT)) return undefined;
  const versions = readdirSync(DEBIAN_ROOT)
    .filter((v) => existsSync(join(DEBIAN_ROOT, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(DEBIAN_ROOT, versions[0], 'bin');
}

/** PostgreSQL from Debian: installed with apt-get when missing (as root, or through sudo). */
export function ensurePostgres(log?: Log): string {
  return ensureDebianTool({ name: 'PostgreSQL', packages: ['postgresql'], find: findBinDir }, log);
}

/**
 * PostgreSQL refuses to run as root. As root (CI) the cluster belongs to the `postgres` system
 * user the Debian package creates; otherwise to whoever runs the tests.
 */
function serverUser(): ProcessUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
  const uid = id('-u');
  const gid = id('-g');
  if (!Number.isInteger(uid) || uid <= 0) throw new Error('running as root, but there is no `postgres` user to run PostgreSQL as');
  return { uid, gid };
}

export interface RunningPostgres {
  /** Connection URL of the `postgres` database as the cluster's superuser. */
  url: string;
  port: number;
  process: ManagedProcess;
  /** A fresh, empty database; its URL. Test files isolate themselves this way. */
  createDatabase(name: string): Promise<string>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * A throw-away PostgreSQL cluster on a free loopback port: its own folder, trust authentication
 * on loopback only, fsync off (the cluster dies with the test run anyway).
 */
export async function startPostgres(options: { port?: number } = {}): Promise<RunningPostgres> {
  const bin = ensurePostgres();
  const user = serverUser();
  // Its own temp folder: the server user must be able to reach it, which a root-only test folder is not.
  const dir = mkdtempSync(join(tmpdir(), 'fieldhook-pg-'));
  if (user) chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  const init = spawnSync(
    join(bin, 'initdb'),
    ['-D', data, '-U', SUPERUSER, '-A', 'trust', '-E', 'UTF8', '--no-locale', '--no-sync'],
    { encoding: 'utf8', ...user },
  );
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.stdout}`);

  const port = options.port ?? (await freePort());
  const proc = startProcess(
    join(bin, 'postgres'),
    ['-D', data, '-p', String(port), '-h', '127.0.0.1', '-k', dir, '-c', 'fsync=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200'],
    process.env,
    user,
  );
  const url = `postgres://${SUPERUSER}@127.0.0.1:${port}/postgres`;
  const query = async (sql: string) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  try {
    // A TCP port opens before the server accepts queries ("the database system is starting up").
    await waitUntil(() => query('SELECT 1').then(() => true), 20_000, 'PostgreSQL');
  } catch (err) {
    await proc.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${(err as Error).message}\n${proc.output()}`);
  }
  return {
    url,
    port,
    process: proc,
    async createDatabase(name) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain database name: ${name}`);
      await query(`CREATE DATABASE ${name}`);
      return `postgres://${SUPERUSER}@127.0.0.1:${port}/${name}`;
    },
    async stop(signal = 'SIGINT') {
      // SIGINT is PostgreSQL's fast shutdown: clients are disconnected instead of waited for.
      await proc.stop(signal);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
