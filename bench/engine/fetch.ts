/**
 * An incremental fetch in one process, without HTTP or a client: the pack `git fetch` asks for
 * when it has `<branch>~N` and wants the branch's tip (thin-pack, ofs-delta), from a database the
 * history was stored into, with the CPU, wall time, bytes and objects of each run. The database
 * is built once per history and kept (`--db`; the same layout as bench/engine/full-clone.ts, so
 * one folder serves both), so the runs measure the fetch alone.
 * Profile with `node --cpu-prof --import tsx bench/engine/fetch.ts ...`.
 * Run: node --import tsx bench/engine/fetch.ts --repo <bare git repo> --db <folder> [--branch main] [--back 10] [--runs 5]
 */
import { existsSync } from 'node:fs';
import { resourceUsage } from 'node:process';
import { parseArgs } from 'node:util';
import { openEngine } from '../../src/index.js';
import { internalsOf } from '../../src/repo/internals.js';
import type { Oid } from '../../src/object/oid.js';
import { git, storeHistory } from './common.js';

const { values } = parseArgs({
  options: {
    repo: { type: 'string' },
    db: { type: 'string' },
    branch: { type: 'string', default: 'main' },
    back: { type: 'string', default: '10' },
    runs: { type: 'string', default: '5' },
  },
});
if (values.repo === undefined || values.db === undefined) throw new Error('--repo <bare git repo> and --db <folder> are required');
const fresh = !existsSync(values.db);
const engine = await openEngine({ path: values.db, packCache: { maxBytes: 0, warm: false } });
const repo = fresh ? await engine.createRepo('hist') : await engine.getRepo('hist');
if (fresh) await storeHistory(repo, values.repo);
const rev = (spec: string) => git(values.repo!, ['rev-parse', spec]).toString().trim() as Oid;
const want = rev(values.branch);
const have = rev(`${values.branch}~${values.back}`);
for (let run = 0; run < Number(values.runs); run++) {
  const before = resourceUsage();
  const t = performance.now();
  let bytes = 0;
  const answer = await internalsOf(repo).fetchPack({ wants: [want], haves: [have], thinPack: true, ofsDelta: true });
  for await (const chunk of answer.pack) bytes += chunk.length;
  const after = resourceUsage();
  const cpu = (after.userCPUTime + after.systemCPUTime - before.userCPUTime - before.systemCPUTime) / 1e6;
  console.log(`fetch ${run + 1}: ${((performance.now() - t) / 1000).toFixed(3)} s, CPU ${cpu.toFixed(3)} s, ${(bytes / 1e3).toFixed(1)} kB`);
}
await engine.close();
