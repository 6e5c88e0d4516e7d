import { readFileSync } from 'node:fs';

/**
 * Resident memory of a process in MB, from `/proc/<pid>/status` (`VmRSS` now, `VmHWM` its peak);
 * 0 when the process has exited (the caller reports why).
 */
export function rssMb(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return 0;
  }
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) / 1024;
}
