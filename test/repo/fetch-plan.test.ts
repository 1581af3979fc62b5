/**
 * Incremental packs against git's own object selection: a history with branches and merges
 * (made by git, stored through indexPack), then for pairs of (want, have) the objects
 * `packObjects({ wants, haves })` sends equal what `git rev-list --objects want --not have`
 * lists, and the pack completes the client's repository (`git index-pack --strict`, fsck);
 * depth-limited plans pick the commits and shallow boundary `git clone --depth` gets.
 */
import { internalsOf } from '../../src/repo/internals.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryLevel } from 'memory-level';
import { openEngine, type Engine, type Repository } from '../../src/index.js';
import { git, gitText, tempDir, writeFile } from '../pack/git-helpers.js';
import { collectBytes } from '../engine/helpers.js';

let engine: Engine;
let repo: Repository;
let tmp: ReturnType<typeof tempDir>;
let work: string;
const at: Record<string, string> = {};

beforeAll(async () => {
  tmp = tempDir('level-git-plan-');
  work = join(tmp.dir, 'work');
  git(undefined, ['init', '-q', '-b', 'main', work]);
  let n = 0;
  const step = (name: string, files: Record<string, string>) => {
    for (const [p, c] of Object.entries(files)) writeFile(work, p, c);
    git(work, ['add', '-A']);
    git(work, ['commit', '-q', '-m', name, '--date', `${1_700_000_000 + n++ * 60} +0000`]);
    at[name] = gitText(work, ['rev-parse', 'HEAD']);
  };
  step('m1', { 'a.txt': 'a1', 'dir/b.txt': 'b1', 'dir/sub/c.txt': 'c1' });
  step('m2', { 'a.txt': 'a2' });
  git(work, ['checkout', '-q', '-b', 'topic']);
  step('t1', { 'dir/b.txt': 'b-topic', 'new/t.txt': 't1' });
  step('t2', { 'new/t.txt': 't2', 'dir/sub/c.txt': 'c-topic' });
  git(work, ['checkout', '-q', 'main']);
  step('m3', { 'a.txt': 'a3', 'dir/sub/c.txt': 'c1' });
  git(work, ['merge', '-q', '--no-ff', '-m', 'merge topic', 'topic'], undefined);
  at['merge'] = gitText(work, ['rev-parse', 'HEAD']);
  step('m4', { 'a.txt': 'a1' }); // back to an old blob
  // An empty commit: its root tree is m4's (a pack must still carry that tree once).
  git(work, ['commit', '-q', '--allow-empty', '-m', 'm5', '--date', `${1_700_000_000 + n++ * 60} +0000`]);
  at['m5'] = gitText(work, ['rev-parse', 'HEAD']);
  git(work, ['checkout', '-q', '-b', 'side', at['m1']!]);
  step('s1', { 'side.txt': 's1', 'dir/b.txt': 'b1' });

  engine = await openEngine({ db: new MemoryLevel() });
  repo = await engine.createRepo('plan');
  await repo.indexPack([new Uint8Array(git(work, ['pack-objects', '--all', '--stdout', '-q', '--delta-base-offset'], ''))]);
});
afterAll(async () => {
  await engine.close();
  tmp.cleanup();
});

function revList(wants: string[], haves: string[]): Set<string> {
  const args = ['rev-list', '--objects', ...wants, ...(haves.length ? ['--not', ...haves] : [])];
  return new Set(
    gitText(work, args)
      .split('\n')
      .filter(Boolean)
      .map((l) => l.slice(0, 40)),
  );
}

describe('incremental packs', () => {
  const cases: [string[], string[]][] = [
    [['m4'], []],
    [['m4'], ['m1']],
    [['m4'], ['m3']],
    [['m4'], ['t2']],
    [['m4'], ['merge']],
    [['merge'], ['m3', 't1']],
    [['t2', 's1'], ['m2']],
    [['s1'], ['m4']],
    [['m4', 's1'], ['t1']],
    [['m5'], []],
    [['m5'], ['m3']],
  ];
  for (const [w, h] of cases) {
    it(`want ${w.join('+')} have ${h.join('+') || 'nothing'}`, async () => {
      const wants = w.map((x) => at[x]!);
      const haves = h.map((x) => at[x]!);
      const plan = await repo.planPack({ wants: wants as never, haves: haves as never });
      expect(new Set(plan.oids)).toEqual(revList(wants, haves));
      expect(plan.oids.length).toBe(new Set(plan.oids).size);
      // The pack completes a client that has exactly the haves.
      const client = join(tmp.dir, `client-${w.join('+')}-${h.join('+')}`);
      git(undefined, ['init', '-q', '--bare', client]);
      if (haves.length > 0) git(client, ['index-pack', '--stdin'], git(work, ['pack-objects', '--revs', '--stdout', '-q'], haves.join('\n') + '\n'));
      const pack = await collectBytes(repo.packObjects({ wants, haves }));
      git(client, ['index-pack', '--strict', '--stdin'], pack);
      for (const x of wants) git(client, ['update-ref', `refs/heads/w-${x.slice(0, 8)}`, x]);
      git(client, ['fsck', '--strict', '--no-dangling', '--connectivity-only']);
    });
  }
});

describe('wanted trees and blobs (what a partial clone fetches on demand)', () => {
  it('a wanted tree comes with everything under it, as git rev-list --objects lists', async () => {
    for (const spec of [`${at['m4']}^{tree}`, `${at['t2']}:dir`, `${at['merge']}:new`]) {
      const tree = gitText(work, ['rev-parse', spec]);
      const plan = await repo.planPack({ wants: [tree as never] });
      expect(new Set(plan.oids), spec).toEqual(revList([tree], []));
      expect(plan.oids.length).toBe(new Set(plan.oids).size);
      const blobless = await repo.planPack({ wants: [tree as never], filter: { kind: 'blob:none' } });
      const gitBlobless = gitText(work, ['rev-list', '--objects', '--filter=blob:none', tree])
        .split('\n')
        .filter(Boolean)
        .map((l) => l.slice(0, 40));
      expect(new Set(blobless.oids), spec).toEqual(new Set(gitBlobless));
    }
  });

  it('the same tree or blob wanted twice goes in the pack once', async () => {
    const tree = gitText(work, ['rev-parse', `${at['m1']}^{tree}`]);
    const blob = gitText(work, ['rev-parse', `${at['m1']}:a.txt`]);
    const plan = await repo.planPack({ wants: [tree, blob, tree, blob, at['m1']!] as never });
    expect(plan.oids.length).toBe(new Set(plan.oids).size);
    expect(new Set(plan.oids)).toEqual(revList([at['m1']!], []));
  });
});

describe('depth-limited packs against git clone --depth', () => {
  for (const branch of ['main', 'topic']) {
    for (const depth of [1, 2, 3, 4]) {
      it(`${branch} at depth ${depth}: the same commits and the same shallow boundary`, async () => {
        const clone = join(tmp.dir, `clone-${branch}-${depth}`);
        git(undefined, ['clone', '-q', '--bare', '--no-local', `--depth=${depth}`, '--branch', branch, `file://${work}`, clone]);
        const gitCommits = new Set(gitText(clone, ['rev-list', '--all']).split('\n'));
        const shallowFile = join(clone, 'shallow');
        const gitShallow = new Set(existsSync(shallowFile) ? readFileSync(shallowFile, 'utf8').split('\n').filter(Boolean) : []);
        const tip = gitText(work, ['rev-parse', branch]);
        const plan = await repo.planPack({ wants: [tip as never], depth });
        const infos = await internalsOf(repo).objects.info(plan.oids);
        const commits = new Set(plan.oids.filter((_, i) => infos[i]!.type === 'commit'));
        expect(commits).toEqual(gitCommits);
        expect(new Set(plan.shallow)).toEqual(gitShallow);
      });
    }
  }
});
