/**
 * One `engine.sweep()` over an on-disk database, in its own process so the history workload
 * can bound it (timeout, heap limit) and read its cost: wall time, CPU (this process, all
 * threads) and peak RSS of the sweep alone (VmHWM reset after the engine opened).
 *
 * usage: node [--max-old-space-size=N] --import tsx bench/e2e/history/sweep-main.ts --data <dir>
 * Prints one JSON line: {"openMs","ms","cpuMs","peakRssKb","refs","objects"} or {"error"}.
 */
import { readPeakRssKb, resetPeakRss } from '../../shared/proc.js';

interface Engine {
  sweep(o?: { waitMs?: number }): Promise<{ refs: number; objects: number; busy?: number; failed?: number; errors?: { repo: string; error: unknown }[] }>;
  close(): Promise<void>;
}

async function main(): Promise<void> {
  const at = process.argv.indexOf('--data');
  const data = at > 0 ? process.argv[at + 1] : undefined;
  if (data === undefined) throw new Error('missing --data');
  // A path built at run time, as level-git-main.ts does: the bench type-checks without the engine.
  const indexPath = '../../../src/index.js';
  const { openEngine } = (await import(indexPath)) as { openEngine: (o: { path: string; packCache?: { maxBytes: number; warm: boolean } }) => Promise<Engine> };
  const t0 = performance.now();
  const engine = await openEngine({ path: data, packCache: { maxBytes: 0, warm: false } });
  const openMs = performance.now() - t0;
  resetPeakRss(process.pid);
  const cpu0 = process.cpuUsage();
  const t1 = performance.now();
  const r = await engine.sweep({ waitMs: 1000 });
  const ms = performance.now() - t1;
  const cpu = process.cpuUsage(cpu0);
  const peakRssKb = readPeakRssKb(process.pid);
  await engine.close();
  const failed = r.errors?.map((e) => `${e.repo}: ${String((e.error as Error)?.message ?? e.error)}`).join('; ');
  console.log(
    JSON.stringify({
      openMs,
      ms,
      cpuMs: (cpu.user + cpu.system) / 1000,
      peakRssKb,
      refs: r.refs,
      objects: r.objects,
      ...(r.busy ? { busy: r.busy } : {}),
      ...(failed ? { error: failed } : {}),
    }),
  );
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.log(JSON.stringify({ error: String((e as Error)?.message ?? e) }));
    process.exit(1);
  },
);
