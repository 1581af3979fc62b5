/**
 * A full clone in one process, without HTTP or a client: the pack `git clone` would ask for
 * (every branch, ofs-delta, include-tag) from a database the history was stored into, with the
 * CPU (user + system of this process), wall time and peak RSS of each run. The database is
 * built once per history and kept (`--db`), so runs after the first measure the clone alone.
 * Profile with `node --cpu-prof --import tsx bench/engine/full-clone.ts ...`.
 * With `--plan-only`, each run times the object planning alone (`planPack`, the walk of every
 * commit and tree) and prints a digest of the planned ids in order and one of them as a set
 * (sorted), to compare walks.
 * Run: node --import tsx bench/engine/full-clone.ts --repo <bare git repo> --db <folder> [--runs 3] [--full-packs] [--plans on|off] [--plan-only]
 * `--plans on|off`: clone plans (repo/clone-plan.ts) on or off, the clone asked as `git clone` asks (ofs-delta);
 * with `on`, a first full clone stores the plan when missing and its time is printed. Without it, plans are off.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resourceUsage } from 'node:process';
import { parseArgs } from 'node:util';
import { openEngine } from '../../src/index.js';
import { internalsOf } from '../../src/repo/internals.js';
import { storeHistory } from './common.js';

const { values } = parseArgs({
  options: {
    repo: { type: 'string' },
    db: { type: 'string' },
    runs: { type: 'string', default: '3' },
    'full-packs': { type: 'boolean', default: false },
    plans: { type: 'string' },
    'plan-only': { type: 'boolean', default: false },
  },
});
const plans = values.plans === 'on';
if (values.repo === undefined || values.db === undefined) throw new Error('--repo <bare git repo> and --db <folder> are required');
const fresh = !existsSync(values.db);
const engine = await openEngine({ path: values.db, packCache: { maxBytes: 0, warm: false, fullPacks: values['full-packs'], clonePlans: plans } });
const repo = fresh ? await engine.createRepo('hist') : await engine.getRepo('hist');
if (fresh) await storeHistory(repo, values.repo);
const wants = (await repo.listBranches()).map((b) => b.sha);
if (plans) {
  const before = resourceUsage();
  const t = performance.now();
  // The first full clone stores the plan (the background job after a push only extends one).
  for await (const _ of (await internalsOf(repo).fetchPack({ wants, ofsDelta: true })).pack);
  const after = resourceUsage();
  const cpu = (after.userCPUTime + after.systemCPUTime - before.userCPUTime - before.systemCPUTime) / 1e6;
  console.log(`clone plan ready in ${((performance.now() - t) / 1000).toFixed(2)} s, CPU ${cpu.toFixed(2)} s`);
}
const clone = async () =>
  values.plans === undefined ? repo.packObjects({ wants, includeTags: true }) : (await internalsOf(repo).fetchPack({ wants, ofsDelta: true })).pack;

let peak = 0;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
for (let run = 0; run < Number(values.runs); run++) {
  const before = resourceUsage();
  const t = performance.now();
  peak = process.memoryUsage.rss();
  let bytes = 0;
  let first = 0;
  let digest = '';
  if (values['plan-only']) {
    const plan = await repo.planPack({ wants, ofsDelta: true });
    const sha1 = (ids: readonly string[]) => createHash('sha1').update(ids.join('\n')).digest('hex').slice(0, 12);
    digest = `, ${plan.oids.length} objects, digest ${sha1(plan.oids)}, as a set ${sha1([...plan.oids].sort())}`;
  } else {
    for await (const chunk of await clone()) {
      // The first chunk is the pack's header; the second, the first entries: what a client waits for.
      if (bytes === 12) first = performance.now() - t;
      bytes += chunk.length;
    }
  }
  const after = resourceUsage();
  const cpu = (after.userCPUTime + after.systemCPUTime - before.userCPUTime - before.systemCPUTime) / 1e6;
  if (values['plan-only']) {
    console.log(`plan ${run + 1}: ${((performance.now() - t) / 1000).toFixed(2)} s, CPU ${cpu.toFixed(2)} s${digest}`);
    continue;
  }
  console.log(
    `full clone ${run + 1}: ${((performance.now() - t) / 1000).toFixed(2)} s (first entries at ${(first / 1000).toFixed(2)} s), CPU ${cpu.toFixed(2)} s, peak RSS ${(Math.max(peak, process.memoryUsage.rss()) / 2 ** 20).toFixed(0)} MiB, ${(bytes / 1e6).toFixed(2)} MB`,
  );
}
clearInterval(sampler);
await engine.close();
