/**
 * The sweep's mark phase alone (repo/sweep-mark.ts Marker) over a database built by
 * full-clone.ts (`--db`), from every branch: CPU (user + system of this process), wall time and
 * objects marked per run.
 * Run: node --import tsx bench/engine/sweep-mark.ts --db <folder> [--runs 2]
 */
import { resourceUsage } from 'node:process';
import { parseArgs } from 'node:util';
import { openEngine } from '../../src/index.js';
import { internalsOf } from '../../src/repo/internals.js';
import { Marker, Pacer } from '../../src/repo/sweep-mark.js';

const { values } = parseArgs({ options: { db: { type: 'string' }, runs: { type: 'string', default: '2' } } });
if (values.db === undefined) throw new Error('--db <folder> (a database full-clone.ts built) is required');
const engine = await openEngine({ path: values.db, packCache: { maxBytes: 0, warm: false } });
const repo = await engine.getRepo('hist');
const tips = (await repo.listBranches()).map((b) => b.sha);
for (let run = 0; run < Number(values.runs); run++) {
  const before = resourceUsage();
  const t = performance.now();
  const marker = new Marker(internalsOf(repo).objects, new Pacer());
  await marker.markFrom(tips);
  const after = resourceUsage();
  const cpu = (after.userCPUTime + after.systemCPUTime - before.userCPUTime - before.systemCPUTime) / 1e6;
  console.log(
    `mark ${run + 1}: ${((performance.now() - t) / 1000).toFixed(2)} s, CPU ${cpu.toFixed(2)} s, ${marker.marked.size} objects marked, ${marker.reads} read`,
  );
}
await engine.close();
