/**
 * Reads a process's CPU time and peak memory from Linux's /proc: utime+stime (its own CPU,
 * all threads), cutime+cstime (its waited-for children's CPU) and VmHWM (peak resident set).
 * Ticks are converted with the kernel's clock rate (`getconf CLK_TCK`, normally 100 Hz).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

/** The kernel's clock ticks per second (USER_HZ). */
export function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** CPU times of one process in milliseconds: its own, and its reaped children's. */
export interface CpuSample {
  selfMs: number;
  childrenMs: number;
}

/** Reads /proc/<pid>/stat; null when the process is gone or /proc is unavailable. */
export function readCpu(pid: number): CpuSample | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name is in parentheses and may contain spaces: split after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); utime is field 14 → rest[11].
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  const cutime = Number(rest[13]);
  const cstime = Number(rest[14]);
  const ms = 1000 / clockTicks();
  return { selfMs: (utime + stime) * ms, childrenMs: (cutime + cstime) * ms };
}

/** Peak resident set size (VmHWM) of a live process in KiB, or null. */
export function readPeakRssKb(pid: number): number | null {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Resets a process's VmHWM to its current RSS (writes 5 to clear_refs); false if not allowed. */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}
