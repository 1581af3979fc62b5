/**
 * The engine's sweep over many repositories: N repositories of one commit each are created in
 * an on-disk database and swept once (each repository's first object sweep walks it); then a
 * fresh engine over the same database sweeps three times with nothing to collect, as
 * `level-git serve` does every 60 s. Prints each sweep's time and CPU, and the heap after it
 * (after a forced collection when run with --expose-gc): what the sweep keeps per repository.
 * The first engine's heap after the first sweep shows what creating and sweeping them all left.
 * Run: node --expose-gc --import tsx bench/engine/sweep-repos.ts [--repos 5000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEngine } from '../../src/index.js';

const i = process.argv.indexOf('--repos');
const count = i >= 0 ? Number(process.argv[i + 1]) : 5000;
const gc = (globalThis as { gc?: () => void }).gc;
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const heapMiB = () => {
  gc?.();
  return process.memoryUsage().heapUsed / 2 ** 20;
};

const tmp = mkdtempSync(join(tmpdir(), 'level-git-bench-sweep-repos-'));
const path = join(tmp, 'db');
try {
  const engine = await openEngine({ path, packCache: { maxBytes: 0, warm: false } });
  const t0 = performance.now();
  for (let k = 0; k < count; k++) {
    const repo = await engine.createRepo(`org${k % 97}/repo-${k}`);
    await repo.commit({
      branch: 'main',
      message: 'init',
      author: { name: 'bench', email: 'bench@example.com' },
      changes: [{ path: 'README.md', content: `project ${k}\n` }],
    });
  }
  const created = performance.now() - t0;
  const t1 = performance.now();
  await engine.sweep();
  const firstSweep = performance.now() - t1;
  const heapAfter = heapMiB();
  await engine.close();
  console.log(
    `${count} repositories of one commit: created in ${(created / 1000).toFixed(1)} s; their first sweep ${(firstSweep / 1000).toFixed(2)} s; the engine's heap after it ${heapAfter.toFixed(0)} MiB (with the ${Math.min(count, 1000)} repositories maxOpenRepos keeps)`,
  );

  const fresh = await openEngine({ path, packCache: { maxBytes: 0, warm: false } });
  try {
    console.log(`a fresh engine: heap ${heapMiB().toFixed(0)} MiB${gc ? '' : ' (no --expose-gc: not collected first)'}`);
    for (let run = 0; run < 3; run++) {
      const c = cpuMs();
      const t = performance.now();
      const r = await fresh.sweep();
      const ms = performance.now() - t;
      console.log(
        `sweep ${run + 1}: ${(ms / 1000).toFixed(2)} s, ${((cpuMs() - c) / 1000).toFixed(2)} s of CPU, ${r.objects} objects removed; heap after it ${heapMiB().toFixed(0)} MiB`,
      );
    }
  } finally {
    await fresh.close();
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
