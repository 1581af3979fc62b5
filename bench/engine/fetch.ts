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
import { git } from './common.js';

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
if (fresh) {
  const pack = git(values.repo, ['pack-objects', '--all', '--stdout', '-q', '--delta-base-offset'], '');
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < pack.length; i += 1 << 16) chunks.push(pack.subarray(i, i + (1 << 16)));
  const t = performance.now();
  await repo.indexPack(chunks);
  console.log(`stored ${(pack.length / 1e6).toFixed(1)} MB in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const refs = git(values.repo, ['for-each-ref', '--format=%(refname:short) %(objectname)', 'refs/heads/']).toString().trim().split('\n');
  for (const line of refs) {
    const [name, sha] = line.split(' ');
    await repo.createBranch(name!, sha!);
  }
}
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
