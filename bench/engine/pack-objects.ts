/**
 * `packObjects` of a 2,000-file real tree (source files copied from node_modules) against
 * `git pack-objects --revs --stdout` of the same commit in a repository holding the same
 * objects. Two C git set-ups: after `git repack -adf` (objects in one deltified pack, which
 * pack-objects reuses, as a served repository does) and with loose objects (pack-objects
 * compresses and searches deltas). level-git's pack cache is off, so every sample builds the
 * pack from the stored entries (a repeated clone of a cached tip costs less).
 * Run: node --import tsx bench/engine/pack-objects.ts
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Bench } from 'tinybench';
import { MemoryLevel } from 'memory-level';
import { openEngine } from '../../src/index.js';
import { collectBytes, git, median, printRatios, realSourceFiles } from './common.js';

const files = realSourceFiles(2000);
const bytes = files.reduce((n, f) => n + f.content.length, 0);
const tmp = mkdtempSync(join(tmpdir(), 'level-git-bench-pack-'));

const engine = await openEngine({ db: new MemoryLevel(), packCache: { maxBytes: 0 } });
const repo = await engine.createRepo('tree');
const { sha } = await repo.commit({
  branch: 'main',
  message: 'import',
  author: { name: 'Bench', email: 'bench@example.com', timestamp: 1700000000 },
  changes: files.map((f) => ({ path: f.path, content: f.content })),
});

// C git repositories with exactly the same commit (same author and date: same ids).
function gitRepo(name: string): string {
  const dir = join(tmp, name);
  for (const f of files) {
    mkdirSync(dirname(join(dir, f.path)), { recursive: true });
    writeFileSync(join(dir, f.path), f.content);
  }
  git(tmp, ['init', '-q', '-b', 'main', dir]);
  git(dir, ['add', '-A']);
  git(dir, ['-c', 'user.name=Bench', '-c', 'user.email=bench@example.com', 'commit', '-q', '-m', 'import']);
  return dir;
}
const loose = gitRepo('loose');
const packed = gitRepo('packed');
git(packed, ['repack', '-adfq']);
const gitSha = git(packed, ['rev-parse', 'HEAD']).toString().trim();
if (gitSha !== sha) console.warn(`note: git made ${gitSha}, level-git ${sha}; the trees are ${git(packed, ['rev-parse', 'HEAD^{tree}']).toString().trim()}`);

let ourSize = 0;
let packedSize = 0;
let looseSize = 0;
const bench = new Bench({ time: 8_000, iterations: 10, warmupIterations: 2 });
bench
  .add('level-git packObjects (depth 1)', async () => void (ourSize = (await collectBytes(repo.packObjects({ wants: [sha], depth: 1 }))).length))
  .add('C git pack-objects (repacked repo)', () => void (packedSize = git(packed, ['pack-objects', '--revs', '--stdout', '-q'], 'HEAD\n').length))
  .add('C git pack-objects (loose objects)', () => void (looseSize = git(loose, ['pack-objects', '--revs', '--stdout', '-q'], 'HEAD\n').length));
await bench.run();
console.table(bench.table());

const ours = median(bench, 'level-git packObjects (depth 1)');
printRatios(`packObjects of a 2,000-file real tree (${(bytes / 1e6).toFixed(1)} MB raw)`, [
  {
    op: 'pack of a 2,000-file tree vs repacked repo',
    ours,
    git: median(bench, 'C git pack-objects (repacked repo)'),
    note: `pack ${(ourSize / 1e6).toFixed(2)} MB vs git ${(packedSize / 1e6).toFixed(2)} MB`,
  },
  {
    op: 'pack of a 2,000-file tree vs loose objects',
    ours,
    git: median(bench, 'C git pack-objects (loose objects)'),
    note: `git ${(looseSize / 1e6).toFixed(2)} MB (delta search)`,
  },
]);
await engine.close();
rmSync(tmp, { recursive: true, force: true });
