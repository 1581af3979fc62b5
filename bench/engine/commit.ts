/**
 * A 1,000-file commit: `repo.commit` (memory-level and the on-disk default) against C git
 * doing the same work in a temp repository: `git add -A` of the same 1,000 files (already in
 * the work tree, as level-git already has them in memory) then `git commit`; and `git
 * fast-import` of the same bytes from one in-memory stream (C git's fastest path). Every sample
 * starts from an empty repository. Run: node --import tsx bench/engine/commit.ts
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Bench } from 'tinybench';
import { MemoryLevel } from 'memory-level';
import { openEngine, type Engine, type Repository } from '../../src/index.js';
import { git, median, printRatios, realSourceFiles, samples } from './common.js';

const files = realSourceFiles(1000);
const bytes = files.reduce((n, f) => n + f.content.length, 0);
const changes = files.map((f) => ({ path: f.path, content: f.content }));
const author = { name: 'Bench', email: 'bench@example.com' };
const tmp = mkdtempSync(join(tmpdir(), 'level-git-bench-commit-'));

// The work tree C git commits from.
const work = join(tmp, 'work');
for (const f of files) {
  mkdirSync(dirname(join(work, f.path)), { recursive: true });
  writeFileSync(join(work, f.path), f.content);
}

// The same commit as a fast-import stream: C git's fastest way from bytes in memory to a commit (it writes one pack).
const bare = join(tmp, 'bare.git');
const stream = (() => {
  const parts: Uint8Array[] = [];
  const enc = (s: string) => new TextEncoder().encode(s);
  files.forEach((f, i) => parts.push(enc(`blob\nmark :${i + 1}\ndata ${f.content.length}\n`), f.content, enc('\n')));
  const msg = 'import\n';
  parts.push(
    enc(
      `commit refs/heads/main\nauthor Bench <bench@example.com> 1700000000 +0000\ncommitter Bench <bench@example.com> 1700000000 +0000\ndata ${msg.length}\n${msg}`,
    ),
  );
  files.forEach((f, i) => parts.push(enc(`M 100644 :${i + 1} ${f.path}\n`)));
  parts.push(enc('\n'));
  return Buffer.concat(parts);
})();

// The pack cache is off: its warm-up after every branch move would run in the next sample.
const mem: Engine = await openEngine({ db: new MemoryLevel(), packCache: { maxBytes: 0 } });
const disk: Engine = await openEngine({ path: join(tmp, 'db'), packCache: { maxBytes: 0 } });
let n = 0;
let memRepo: Repository;
let diskRepo: Repository;

const bench = new Bench({ time: 8_000, iterations: 10, warmupIterations: 2 });
bench
  .add('level-git repo.commit (memory-level)', async () => void (await memRepo.commit({ branch: 'main', message: 'import', author, changes })), {
    beforeEach: async () => void (memRepo = await mem.createRepo(`r${n++}`)),
  })
  .add('level-git repo.commit (on-disk classic-level)', async () => void (await diskRepo.commit({ branch: 'main', message: 'import', author, changes })), {
    beforeEach: async () => void (diskRepo = await disk.createRepo(`r${n++}`)),
  })
  .add(
    'C git add -A + commit',
    () => {
      git(work, ['add', '-A']);
      git(work, ['commit', '-q', '-m', 'import']);
    },
    {
      beforeEach: () => {
        rmSync(join(work, '.git'), { recursive: true, force: true });
        git(work, ['init', '-q', '-b', 'main']);
      },
    },
  )
  .add('C git fast-import', () => void git(bare, ['fast-import', '--quiet'], stream), {
    beforeEach: () => {
      rmSync(bare, { recursive: true, force: true });
      git(tmp, ['init', '-q', '--bare', bare]);
    },
  });
await bench.run();
console.table(bench.table());

const g = median(bench, 'C git add -A + commit');
const fi = median(bench, 'C git fast-import');
printRatios(`1,000-file commit (${(bytes / 1e6).toFixed(1)} MB of real source files)`, [
  {
    op: '1,000-file commit, memory-level',
    ours: median(bench, 'level-git repo.commit (memory-level)'),
    git: g,
    note: `${samples(bench, 'level-git repo.commit (memory-level)')} samples`,
  },
  {
    op: '1,000-file commit, on-disk classic-level',
    ours: median(bench, 'level-git repo.commit (on-disk classic-level)'),
    git: g,
    note: 'C git: `git add -A` + `git commit` (2 processes, 1,000 loose objects)',
  },
  {
    op: '1,000-file commit, memory-level vs fast-import',
    ours: median(bench, 'level-git repo.commit (memory-level)'),
    git: fi,
    note: 'C git: `git fast-import` of the same bytes (1 process, writes a pack)',
  },
  { op: '1,000-file commit, on-disk vs fast-import', ours: median(bench, 'level-git repo.commit (on-disk classic-level)'), git: fi, note: '' },
]);
await mem.close();
await disk.close();
rmSync(tmp, { recursive: true, force: true });
