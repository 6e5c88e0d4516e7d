import { statSync } from 'node:fs';

/** Permission bits of a file or folder, e.g. 0o600. */
export const modeOf = (path: string) => statSync(path).mode & 0o777;

/**
 * Set the usual umask (022), so that a mode the code under test does not set itself shows as
 * 0755/0644 whatever the runner's umask is. Returns the function that puts the old one back.
 * (Worker threads may not change the umask; then the test runs with the runner's.)
 */
export function usualUmask(): () => void {
  try {
    const previous = process.umask(0o022);
    return () => void process.umask(previous);
  } catch {
    return () => {};
  }
}
