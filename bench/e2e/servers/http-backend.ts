/**
 * Starts C git's `git http-backend` CGI server (http-backend-main.ts) as a child process and
 * measures it: CPU = the children's CPU (cutime+cstime of the server process, read after
 * every child was reaped), peak RSS = the largest child's max RSS (GNU time's %M). The
 * wrapper's own CPU (the HTTP front: parsing CGI output, writing responses to the socket) is
 * `frontCpuMs`, apart.
 */
import { join } from 'node:path';
import { readCpu } from '../../shared/proc.js';
import { PROJECT_ROOT, controlMethods, spawnServer } from './control.js';
import type { BenchServer, ServerStats } from '../../shared/server-types.js';

/** Serves every `<name>.git` under projectRoot through `git http-backend`. */
export async function startHttpBackend(projectRoot: string, name = 'cgit'): Promise<BenchServer & { pid: number; root: string }> {
  const proc = await spawnServer(join(PROJECT_ROOT, 'bench/e2e/servers/http-backend-main.ts'), ['--root', projectRoot]);
  return {
    name,
    pid: proc.pid,
    root: projectRoot,
    url: (repo) => `http://127.0.0.1:${proc.port}/${repo}.git`,
    cpuMs: () => readCpu(proc.pid)?.childrenMs ?? null,
    frontCpuMs: () => readCpu(proc.pid)?.selfMs ?? null,
    peakRssKb: async () => (await proc.control<ServerStats>('stats')).childPeakRssKb,
    resetPeak: async () => {
      await proc.control('reset');
    },
    ...controlMethods(proc),
  };
}
