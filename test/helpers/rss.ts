/**
 * Resident memory of a server process in the e2e tests (Linux /proc): one read, and a sampler
 * that keeps the peaks of all of it and of its anonymous part (heap, buffers: not the
 * database's mapped files) while work runs.
 */
import { readFileSync } from 'node:fs';

/** The process's resident memory in bytes: all of it, or the anonymous part. Throws when the process is gone. */
export function rss(pid: number, field: 'VmRSS' | 'RssAnon' = 'VmRSS'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (m === null) throw new Error('the server exited');
  return Number(m[1]) * 1024;
}

/** Samples `pid` every `everyMs` from now; `stop()` ends sampling and returns the growth of both peaks over the start. */
export function sampleRss(pid: number, everyMs: number): { stop(): { growth: number; anonGrowth: number } } {
  const base = rss(pid);
  const anonBase = rss(pid, 'RssAnon');
  let peak = base;
  let anonPeak = anonBase;
  const sample = () => {
    try {
      peak = Math.max(peak, rss(pid));
      anonPeak = Math.max(anonPeak, rss(pid, 'RssAnon'));
    } catch {
      // the server died: the caller's assertions report it
    }
  };
  const timer = setInterval(sample, everyMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return { growth: peak - base, anonGrowth: anonPeak - anonBase };
    },
  };
}

/** CPU time (user + system, clock ticks) the process has used. */
function cpuTicks(pid: number): number {
  const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

/**
 * Waits until `pid` has used no CPU for `quietMs` (its background work after a request is done),
 * at most `maxMs`; a measurement of the next request then holds that request's memory alone.
 */
export async function quiet(pid: number, quietMs = 500, maxMs = 15_000): Promise<void> {
  const end = Date.now() + maxMs;
  let last = cpuTicks(pid);
  let since = Date.now();
  while (Date.now() < end && Date.now() - since < quietMs) {
    await new Promise((r) => setTimeout(r, 50));
    const now = cpuTicks(pid);
    if (now !== last) {
      last = now;
      since = Date.now();
    }
  }
}
