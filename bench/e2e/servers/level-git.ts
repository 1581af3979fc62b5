/**
 * Starts level-git (level-git-main.ts, compiled by build.ts unless the bench runs it from
 * sources) as a child process on the on-disk default database
 * in dataDir, and measures it from /proc: CPU = the process's utime+stime (all threads,
 * including libuv's pool and the database's), peak RSS = VmHWM (reset per workload).
 */
import { readCpu, readPeakRssKb, resetPeakRss } from '../../shared/proc.js';
import { levelGitServerScript } from './build.js';
import { controlMethods, spawnServer } from './control.js';
import type { BenchServer, DbCounts } from '../../shared/server-types.js';

/** The admin key of the JSON API that level-git-main.ts mounts under /api/v1 (loopback only). */
export const BENCH_API_KEY = 'level-git-bench-admin-key';

/** A running level-git server; pid is the process whose CPU and memory are measured. */
export type LevelGitServer = BenchServer & { pid: number; exited(): string | null };

/**
 * Starts level-git on dataDir (extraArgs: `--no-pack-cache`, `--request-timeout MS`, `--db URL`,
 * `--workers N`; nodeArgs:
 * e.g. `--max-old-space-size=N`); rejects when the engine is not available.
 */
export async function startLevelGit(
  dataDir: string,
  name = 'level-git',
  extraArgs: readonly string[] = [],
  nodeArgs: readonly string[] = [],
): Promise<LevelGitServer> {
  const proc = await spawnServer(await levelGitServerScript(), ['--data', dataDir, ...extraArgs], 60_000, nodeArgs);
  // With --workers (a cluster), the CPU is the primary's plus every worker's.
  const pids = [proc.pid, ...((proc.info.pids as number[] | undefined) ?? [])];
  const overDb = extraArgs.includes('--db');
  return {
    name,
    pid: proc.pid,
    exited: () => proc.exited(),
    url: (repo) => `http://127.0.0.1:${proc.port}/${repo}.git`,
    cpuMs: () => {
      let sum = 0;
      for (const pid of pids) {
        const c = readCpu(pid)?.selfMs;
        if (c === undefined) return null;
        sum += c;
      }
      return sum;
    },
    ...(overDb && pids.length === 1 ? { queries: () => proc.control<DbCounts>('queries') } : {}),
    peakRssKb: async () => readPeakRssKb(proc.pid),
    resetPeak: async () => {
      resetPeakRss(proc.pid);
    },
    ...controlMethods(proc),
  };
}
