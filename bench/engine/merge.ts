/**
 * Compare and merge on a large tree (default 20,000 files, `BENCH_FILES` to change it) beside C
 * git on the same repository: `main` holds the tree and moves by one commit; `feature` is 10
 * commits, each changing one file. Measured:
 * - compare: the JSON API's `GET /compare` (in-process fetch handler: merge base, ahead/behind,
 *   commits, files with hunks) vs `git diff --numstat main...feature` in a bare repository;
 * - merge: the JSON API's `POST /merges` (a merge commit and the ref move) into a fresh branch at
 *   main's tip vs the cheapest C git route an agent platform uses in a bare repository
 *   (`git merge-tree --write-tree` + `git commit-tree` + `git update-ref`), and vs the route of a
 *   platform without server-side merges: `git clone` (with its checkout), `git merge`, `git push`
 *   over file:// (3 runs: seconds each).
 * Run: node --import tsx bench/engine/merge.ts (the suite's `review` workload runs it with
 * BENCH_REVIEW_JSON=1, which adds one `review-json {...}` line of medians for it to parse).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bench } from 'tinybench';
import { MemoryLevel } from 'memory-level';
import { openEngine, ZERO_OID } from '../../src/index.js';
import { createTokenService } from '../../src/access/tokens.js';
import { createApiFetchHandler } from '../../src/http/fetch-handler.js';
import { git, median, printRatios, realSourceFiles, samples } from './common.js';

const FILES = Number(process.env.BENCH_FILES ?? 20_000);
const tmp = mkdtempSync(join(tmpdir(), 'level-git-bench-merge-'));
const bare = join(tmp, 'repo.git');
git(tmp, ['init', '-q', '--bare', '-b', 'main', bare]);

// The history as one fast-import stream: the big tree, 10 feature commits, one more main commit.
const source = realSourceFiles(Math.min(FILES, 5000));
const enc = (s: string) => new TextEncoder().encode(s);
const parts: Uint8Array[] = [];
const paths: string[] = [];
for (let i = 0; i < FILES; i++) {
  const f = source[i % source.length]!;
  const path = `d${Math.floor(i / 500)}/s${Math.floor(i / 50) % 10}/${i}-${f.path.split('/').pop()}`;
  paths.push(path);
  parts.push(enc(`blob\nmark :${i + 1}\ndata ${f.content.length}\n`), f.content, enc('\n'));
}
let mark = FILES;
const commit = (ref: string, msg: string, from: number | undefined, body: string) => {
  mark++;
  parts.push(enc(`commit ${ref}\nmark :${mark}\ncommitter B <b@example.com> ${1_700_000_000 + mark} +0000\ndata ${msg.length}\n${msg}`));
  if (from !== undefined) parts.push(enc(`from :${from}\n`));
  parts.push(enc(body + '\n'));
  return mark;
};
const root = commit('refs/heads/main', 'import\n', undefined, paths.map((p, i) => `M 100644 :${i + 1} ${p}\n`).join(''));
let tip = root;
for (let k = 0; k < 10; k++) {
  const p = paths[(k * 977) % FILES]!;
  const text = `// feature change ${k}\n`;
  tip = commit('refs/heads/feature', `feature ${k}\n`, tip, `M 100644 inline ${p}\ndata ${text.length}\n${text}`);
}
const other = `main moves\n`;
commit('refs/heads/main', 'main moves\n', root, `M 100644 inline README.md\ndata ${other.length}\n${other}`);
git(bare, ['fast-import', '--quiet'], Buffer.concat(parts));

const engine = await openEngine({ db: new MemoryLevel(), packCache: { maxBytes: 0 } });
const repo = await engine.createRepo('big');
const list = git(bare, ['rev-list', '--objects', '--all']);
await repo.indexPack([new Uint8Array(git(bare, ['pack-objects', '--stdout', '-q'], list))]);
const mainTip = git(bare, ['rev-parse', 'main']).toString().trim();
const featureTip = git(bare, ['rev-parse', 'feature']).toString().trim();
await repo.refs.transaction([
  { ref: 'refs/heads/main', oldOid: ZERO_OID, newOid: mainTip },
  { ref: 'refs/heads/feature', oldOid: ZERO_OID, newOid: featureTip },
]);
const ADMIN = 'bench-admin-key-0123456789';
const api = createApiFetchHandler({ engine, tokens: createTokenService({ keys: { secret: 'bench-secret-of-at-least-32-bytes!!' } }), adminKey: ADMIN });
const call = async (method: string, path: string, body?: unknown) => {
  const r = await api(new Request(`http://bench${path}`, { method, headers: { 'x-api-key': ADMIN }, ...(body ? { body: JSON.stringify(body) } : {}) }));
  const text = await r!.text();
  if (r!.status >= 300) throw new Error(`${path}: ${r!.status} ${text}`);
  return text;
};
// Warm the object cache as a serving process would have it.
await call('GET', '/api/v1/repos/big/compare?base=main&head=feature');

let n = 0;
let branch = '';
const bench = new Bench({ time: 4_000, iterations: 10, warmupIterations: 2 });
bench
  .add('level-git API compare', async () => void (await call('GET', '/api/v1/repos/big/compare?base=main&head=feature')))
  .add('C git diff --numstat main...feature', () => void git(bare, ['diff', '--numstat', 'main...feature']))
  .add('level-git API merge', async () => void (await call('POST', '/api/v1/repos/big/merges', { base: branch, head: 'feature' })), {
    beforeEach: async () => {
      branch = `m${n++}`;
      await repo.createBranch(branch, mainTip);
    },
  })
  .add('C git merge-tree + commit-tree + update-ref', () => {
    const tree = git(bare, ['merge-tree', '--write-tree', 'main', 'feature']).toString().split('\n')[0]!;
    const sha = git(bare, ['commit-tree', tree, '-p', 'main', '-p', 'feature', '-m', 'merge']).toString().trim();
    git(bare, ['update-ref', `refs/heads/g${n++}`, sha]);
  });
await bench.run();
console.table(bench.table());

// The clone + merge + push route: a full working copy each time, as an agent without a merge API does it.
const slow = new Bench({ time: 0, iterations: 3, warmupIterations: 0 });
slow.add('C git clone + merge + push', () => {
  const dest = join(tmp, `clone${n++}`);
  git(tmp, ['clone', '--quiet', `file://${bare}`, dest]);
  git(dest, ['merge', '--quiet', '--no-edit', 'origin/feature']);
  git(dest, ['push', '--quiet', 'origin', `HEAD:refs/heads/c${n}`]);
  rmSync(dest, { recursive: true, force: true });
});
await slow.run();
console.table(slow.table());
const medians = {
  files: FILES,
  compare: median(bench, 'level-git API compare'),
  gitCompare: median(bench, 'C git diff --numstat main...feature'),
  merge: median(bench, 'level-git API merge'),
  gitMerge: median(bench, 'C git merge-tree + commit-tree + update-ref'),
  cloneMergePush: median(slow, 'C git clone + merge + push'),
};
if (process.env.BENCH_REVIEW_JSON === '1') console.log(`review-json ${JSON.stringify(medians)}`);
printRatios(`compare and merge on a ${FILES.toLocaleString('en')}-file tree, feature 10 commits / 10 files`, [
  {
    op: 'compare (API) vs git diff --numstat A...B',
    ours: median(bench, 'level-git API compare'),
    git: median(bench, 'C git diff --numstat main...feature'),
    note: `${samples(bench, 'level-git API compare')} samples`,
  },
  {
    op: 'merge (API) vs merge-tree + commit-tree + update-ref',
    ours: median(bench, 'level-git API merge'),
    git: median(bench, 'C git merge-tree + commit-tree + update-ref'),
    note: 'C git: 3 processes in a bare repository',
  },
  {
    op: 'merge (API) vs clone + git merge + push',
    ours: median(bench, 'level-git API merge'),
    git: median(slow, 'C git clone + merge + push'),
    note: 'C git: a full clone with checkout each time, file://',
  },
]);
await engine.close();
rmSync(tmp, { recursive: true, force: true });
