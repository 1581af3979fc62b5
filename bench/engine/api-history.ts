/**
 * A history built the way agents build it: 300 API commits, each editing one line in three of
 * sixty real-looking source files. Measures the commit cost per turn with kept commit deltas on
 * and off (`commitDeltas`), and the bytes of a full pack of the result, beside C git: the same
 * turns as `git commit -a` in a work tree, and the size of `git pack-objects --revs` after
 * `git repack -adf` (deltas found afresh). Run: node --import tsx bench/engine/api-history.ts
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { MemoryLevel } from 'memory-level';
import { openEngine } from '../../src/index.js';
import { readPackBytes } from '../../src/pack/pack-reader.js';
import { collectBytes, git, machine } from './common.js';

const TURNS = 300;
const files = new Map<string, string[]>();
for (let f = 0; f < 60; f++) {
  files.set(
    `src/m${f % 6}/file${f}.ts`,
    Array.from({ length: 200 }, (_, i) => `export const v${i} = ${i * f}; // line ${i} of file ${f}`),
  );
}
/** The changes of turn `t` (applied to `state`, which it mutates). */
function turn(state: Map<string, string[]>, t: number): { path: string; content: string }[] {
  const out = [];
  for (let k = 0; k < 3; k++) {
    const path = `src/m${(t + k) % 6}/file${(t * 7 + k * 13) % 60}.ts`;
    const l = state.get(path)!;
    l[(t * 31 + k) % 200] = `export const changed${t}_${k} = ${t}; // edited at turn ${t}`;
    out.push({ path, content: l.join('\n') + '\n' });
  }
  return out;
}
const clone = () => new Map([...files].map(([p, l]) => [p, [...l]]));
const author = { name: 'Bench', email: 'bench@example.com', timestamp: 1_700_000_000 };

async function levelGit(deltas: boolean): Promise<{ msPerTurn: number; packBytes: number; deltaCount: number }> {
  const engine = await openEngine({ db: new MemoryLevel(), packCache: { maxBytes: 0 }, ...(deltas ? {} : { commitDeltas: false as const }) });
  const repo = await engine.createRepo('agent');
  const state = clone();
  await repo.commit({ branch: 'main', message: 'init', author, changes: [...state].map(([path, l]) => ({ path, content: l.join('\n') + '\n' })) });
  const t0 = performance.now();
  for (let t = 0; t < TURNS; t++) await repo.commit({ branch: 'main', message: `turn ${t}`, author, changes: turn(state, t) });
  const msPerTurn = (performance.now() - t0) / TURNS;
  const pack = await collectBytes(repo.packObjects({ wants: [await repo.resolve('main')] }));
  const deltaCount = (await readPackBytes(pack)).filter((o) => o.delta !== undefined).length;
  await engine.close();
  return { msPerTurn, packBytes: pack.length, deltaCount };
}

function cGit(): { msPerTurn: number; packBytes: number } {
  const tmp = mkdtempSync(join(tmpdir(), 'level-git-bench-history-'));
  try {
    const work = join(tmp, 'work');
    git(tmp, ['init', '-q', '-b', 'main', work]);
    const state = clone();
    const write = (changes: { path: string; content: string }[]) => {
      for (const c of changes) {
        mkdirSync(dirname(join(work, c.path)), { recursive: true });
        writeFileSync(join(work, c.path), c.content);
      }
    };
    write([...state].map(([path, l]) => ({ path, content: l.join('\n') + '\n' })));
    git(work, ['add', '-A']);
    git(work, ['commit', '-q', '-m', 'init']);
    const t0 = performance.now();
    for (let t = 0; t < TURNS; t++) {
      write(turn(state, t));
      git(work, ['commit', '-q', '-a', '-m', `turn ${t}`]);
    }
    const msPerTurn = (performance.now() - t0) / TURNS;
    git(work, ['repack', '-adfq']);
    const packBytes = git(work, ['pack-objects', '--stdout', '-q', '--revs'], 'main\n').length;
    return { msPerTurn, packBytes };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

const on = await levelGit(true);
const off = await levelGit(false);
const c = cGit();
const kB = (n: number) => `${Math.round(n / 1024).toLocaleString('en-US')} kB`;
console.log(`\n### A history of ${TURNS} API commits (3 files edited per turn)\n`);
console.log('| | commit per turn | full pack | deltas in it |');
console.log('| --- | ---: | ---: | ---: |');
console.log(`| level-git, commit deltas on (default), memory-level | ${on.msPerTurn.toFixed(2)} ms | ${kB(on.packBytes)} | ${on.deltaCount} |`);
console.log(`| level-git, \`commitDeltas: false\` | ${off.msPerTurn.toFixed(2)} ms | ${kB(off.packBytes)} | ${off.deltaCount} |`);
console.log(`| C git: \`git commit -a\` per turn; pack after \`git repack -adf\` | ${c.msPerTurn.toFixed(2)} ms | ${kB(c.packBytes)} | |`);
console.log(`\nfull pack, level-git / C git: ${(on.packBytes / c.packBytes).toFixed(2)} (deltas off: ${(off.packBytes / c.packBytes).toFixed(2)})`);
console.log(`machine: ${machine()}`);
