/**
 * Sweep of a long history: stores a pack (e.g. a generated 20,000-commit history) into an
 * on-disk engine (skipped when `<dir>/db` exists), points `main` at its tip, then measures, each over a freshly opened engine:
 * the first sweep (a repository never swept: a full walk), a second with nothing changed, a
 * third after a branch deletion (a full walk again), and `close()` in the middle of a walk.
 * (Kept deltas are capped at 2 MiB: ingest spreads every kept delta into one argument list.)
 * Reports wall time, CPU time, peak RSS and the longest event-loop stall.
 *
 *   node --import tsx bench/sweep-history.ts <pack> <tip-sha> <empty-dir>
 */
import { createReadStream, existsSync } from 'node:fs';
import { openEngine } from '../src/index.js';

const [packPath, tip, dir] = process.argv.slice(2);
if (!packPath || !tip || !dir) throw new Error('usage: sweep-history.ts <pack> <tip-sha> <empty-dir>');
const path = `${dir}/db`;

async function measure<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let peak = process.memoryUsage().rss;
  // The longest stall, and the CPU this process spent during it: a stall with little CPU is
  // the machine's scheduler (other processes), not work that failed to yield.
  let stall = 0;
  let stallCpu = 0;
  let last = performance.now();
  let lastCpu = process.cpuUsage();
  const timer = setInterval(() => {
    const now = performance.now();
    const c = process.cpuUsage();
    if (now - last - 10 > stall) {
      stall = now - last - 10;
      stallCpu = (c.user + c.system - lastCpu.user - lastCpu.system) / 1000;
    }
    last = now;
    lastCpu = c;
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 10);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
    const cpu = process.cpuUsage(cpu0);
    const ms = performance.now() - t0;
    console.log(
      `${label}: ${(ms / 1000).toFixed(2)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s CPU, peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB, longest event-loop stall ${stall.toFixed(0)} ms (${stallCpu.toFixed(0)} ms of CPU in it)`,
    );
  }
}

const fresh = !existsSync(path);
let engine = await openEngine({ path });
if (fresh) {
  const repo = await engine.createRepo('history');
  const stored = await measure('indexPack', () => repo.indexPack(createReadStream(packPath), { maxDeltaRecordBytes: 2 * 2 ** 20 }));
  console.log(`  ${stored.oids.length} objects`);
  await repo.refs.transaction([{ ref: 'refs/heads/main', oldOid: '0'.repeat(40), newOid: tip }]);
} else {
  // A database from an earlier run: a branch deletion makes the first sweep below walk.
  const repo = await engine.getRepo('history');
  await repo.createBranch('tmp', 'main');
  await repo.deleteBranch('tmp');
}
await engine.close();

for (const label of ['sweep 1 (never swept, or a branch deleted: full walk)', 'sweep 2 (nothing changed)']) {
  engine = await openEngine({ path });
  console.log(`  ${JSON.stringify(await measure(label, () => engine.sweep()))}`);
  await engine.close();
}
engine = await openEngine({ path });
const r = await engine.getRepo('history');
await r.createBranch('tmp', 'main');
await r.deleteBranch('tmp');
await engine.close();
engine = await openEngine({ path });
console.log(`  ${JSON.stringify(await measure('sweep 3 (after a branch deletion: full walk)', () => engine.sweep()))}`);
const again = await engine.getRepo('history');
await again.createBranch('tmp', 'main');
await again.deleteBranch('tmp');
const running = engine.sweep().catch((e: { code?: string }) => e.code);
await new Promise((res) => setTimeout(res, 2000));
await measure('close() 2 s into a full walk', () => engine.close());
console.log(`  sweep ended with ${await running}`);
