/**
 * The heap a full clone's plan holds, per planned object: what the upload-pack limit
 * `maxPackObjects` is chosen from (docs/benchmarks.md, "Full-clone memory"). On a database
 * built by full-clone.ts (`--db`), in one process:
 *   1. the plan alone (`planObjects` of every branch, as a full clone asks): live heap after a
 *      full collection with the plan held, minus the same before it, divided by its objects;
 *   2. a whole full clone (plan and pack, `packObjects` with include-tag), its live heap sampled
 *      by a full collection every `--sample-ms` (what a heap limit is measured against), and
 *      its peak RSS.
 * Run: node --expose-gc --import tsx bench/engine/plan-memory.ts --db <folder> [--sample-ms 100]
 */
import { parseArgs } from 'node:util';
import { openEngine } from '../../src/index.js';
import { internalsOf } from '../../src/repo/internals.js';
import { planObjects } from '../../src/repo/walk.js';
import type { Oid } from '../../src/object/oid.js';

const { values } = parseArgs({ options: { db: { type: 'string' }, 'sample-ms': { type: 'string', default: '100' } } });
if (values.db === undefined) throw new Error('--db <folder> (built by full-clone.ts) is required');
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');
const MiB = 2 ** 20;
const live = (): number => (gc(), process.memoryUsage().heapUsed);

const engine = await openEngine({ path: values.db, packCache: { maxBytes: 0, warm: false } });
const repo = await engine.getRepo('hist');
const wants = (await repo.listBranches()).map((b) => b.sha as Oid);
const store = internalsOf(repo).objects;

let peakLive = 0;
let peakRss = 0;
const sample = (): void => {
  peakLive = Math.max(peakLive, live());
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
};
const sampled = async <T>(f: () => Promise<T>): Promise<T> => {
  peakLive = peakRss = 0;
  const timer = setInterval(sample, Number(values['sample-ms']));
  try {
    return await f();
  } finally {
    clearInterval(timer);
    sample();
  }
};

// 1. The plan alone, twice: the first also fills the engine's shared caches (bounded, kept
// after the request), the second shows what one more request's plan costs on top of them.
for (const run of [1, 2]) {
  const before = live();
  const t = performance.now();
  const n = await sampled(async () => (await planObjects(store, { wants, ofsDelta: true })).oids.length);
  const after = live();
  const perObject = (b: number): string => `${(b / MiB).toFixed(1)} MiB = ${(b / n).toFixed(0)} B/object`;
  console.log(
    `plan ${run}: ${n} objects in ${((performance.now() - t) / 1000).toFixed(1)} s; live heap before ${(before / MiB).toFixed(1)} MiB, ` +
      `peak while planning +${perObject(peakLive - before)}; left after it (caches) +${((after - before) / MiB).toFixed(1)} MiB`,
  );
}
await engine.close();

// 2. A whole full clone (plan and pack, include-tag) on the database opened again (caches cold).
const engine2 = await openEngine({ path: values.db, packCache: { maxBytes: 0, warm: false } });
const repo2 = await engine2.getRepo('hist');
const before = live();
const t = performance.now();
let bytes = 0;
await sampled(async () => {
  for await (const chunk of repo2.packObjects({ wants, includeTags: true })) bytes += chunk.length;
});
console.log(
  `full clone (cold): ${((performance.now() - t) / 1000).toFixed(1)} s, ${(bytes / 1e6).toFixed(1)} MB; live heap peak ${(peakLive / MiB).toFixed(1)} MiB (+${((peakLive - before) / MiB).toFixed(1)} over ${(before / MiB).toFixed(1)}); peak RSS ${(peakRss / MiB).toFixed(0)} MiB`,
);
await engine2.close();
