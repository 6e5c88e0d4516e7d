import { spawnSync } from 'node:child_process';

export type Log = (line: string) => void;
export const stderrLog: Log = (line) => process.stderr.write(`${line}\n`);

/**
 * A tool the tests need, from Debian's packages: `find()` when it is there, else
 * `apt-get install` (as root, or through sudo) and `find()` again.
 */
export function ensureDebianTool(what: { name: string; packages: string[]; find: () => string | undefined }, log: Log = stderrLog): string {
  const found = what.find();
  if (found) return found;
  log(`Installing ${what.name} from Debian (apt-get install ${what.packages.join(' ')})…`);
  const asRoot = process.getuid?.() === 0;
  const run = (args: string[]) =>
    spawnSync(asRoot ? args[0]! : 'sudo', asRoot ? args.slice(1) : args, {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  run(['apt-get', 'update', '-qq']);
  run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...what.packages]);
  const installed = what.find();
  if (!installed) throw new Error(`${what.name} is not installed and apt-get could not install it`);
  return installed;
}
