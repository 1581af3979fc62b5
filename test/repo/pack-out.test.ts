/**
 * Packs the engine writes, checked by the real git: `git index-pack --strict` accepts them and
 * what git checks out equals what was committed (bytes and modes, symlinks, unicode, deep
 * nesting, thousands of files). Depth-limited and filtered packs contain exactly what they
 * should.
 */
import { internalsOf } from '../../src/repo/internals.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { lstatSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryLevel } from 'memory-level';
import { openEngine, type Engine, type Repository, type FileChange } from '../../src/index.js';
import { GIT_ENV, git, gitText, initBare, packEntryTypes, pseudoRandom, tempDir } from '../pack/git-helpers.js';
import { packBytes } from '../../src/repo/pack-out.js';
import { AUTHOR, collectBytes } from '../engine/helpers.js';

let engine: Engine;
let tmp: ReturnType<typeof tempDir>;
let n = 0;

beforeAll(async () => {
  engine = await openEngine({ db: new MemoryLevel() });
  tmp = tempDir('level-git-pack-out-');
});
afterAll(async () => {
  await engine.close();
  tmp.cleanup();
});

/** Writes `pack` into a fresh bare repository with `git index-pack --strict`; returns the repo and the object ids git found. */
function indexIntoGit(pack: Uint8Array, shallow: readonly string[] = [], strict = true): { bare: string; oids: string[] } {
  const bare = initBare(tmp.dir, `bare${n++}.git`);
  // A shallow pack is only complete for a repository that knows its shallow boundary.
  if (shallow.length > 0) writeFileSync(join(bare, 'shallow'), shallow.join('\n') + '\n');
  // A filtered pack leaves objects out on purpose, which --strict's connectivity check refuses.
  git(bare, ['index-pack', ...(strict ? ['--strict'] : []), '--stdin'], pack);
  const idxList = gitText(bare, ['verify-pack', '-v', ...listIdx(bare)]);
  const oids = idxList
    .split('\n')
    .filter((l) => /^[0-9a-f]{40} /.test(l))
    .map((l) => l.slice(0, 40));
  return { bare, oids };
}

function listIdx(bare: string): string[] {
  const dir = join(bare, 'objects', 'pack');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.idx'))
    .map((f) => join(dir, f));
}

/** Checks `sha` out of `bare` into a fresh directory with git and returns it. */
function checkout(bare: string, sha: string): string {
  const work = join(tmp.dir, `work${n++}`);
  execFileSync('mkdir', ['-p', work]);
  const env = { ...GIT_ENV, GIT_DIR: bare, GIT_WORK_TREE: work, GIT_INDEX_FILE: join(tmp.dir, `index${n}`) };
  execFileSync('git', ['read-tree', sha], { env });
  execFileSync('git', ['checkout-index', '-a', '-f'], { env });
  return work;
}

async function packOf(repo: Repository, options: Parameters<Repository['packObjects']>[0]): Promise<Uint8Array> {
  return collectBytes(repo.packObjects(options));
}

interface Spec {
  path: string;
  content: Uint8Array;
  mode: '100644' | '100755' | '120000';
}

/** Compares a checked-out work tree with what was committed: bytes, executable bit, symlinks. */
function expectWorkTree(work: string, specs: readonly Spec[]): void {
  for (const s of specs) {
    const p = join(work, s.path);
    const st = lstatSync(p);
    if (s.mode === '120000') {
      expect(st.isSymbolicLink(), s.path).toBe(true);
      expect(readlinkSync(p), s.path).toBe(new TextDecoder().decode(s.content));
    } else {
      expect(st.isFile(), s.path).toBe(true);
      expect(new Uint8Array(readFileSync(p)), s.path).toEqual(s.content);
      expect((st.mode & 0o111) !== 0, `${s.path} executable`).toBe(s.mode === '100755');
    }
  }
  const listed = execFileSync('find', ['.', '-type', 'f', '-o', '-type', 'l'], { cwd: work }).toString().split('\n').filter(Boolean).length;
  expect(listed).toBe(specs.length);
}

const enc = (s: string) => new TextEncoder().encode(s);

describe('packs we write, read by git', () => {
  it('a tree of every kind of file checks out byte-identical with modes', async () => {
    const repo = await engine.createRepo('kinds');
    const specs: Spec[] = [
      { path: 'text.txt', content: enc('hello\nworld\n'), mode: '100644' },
      { path: 'crlf.txt', content: enc('a\r\nb\r\n'), mode: '100644' },
      { path: 'binary.bin', content: pseudoRandom(70_000, 3), mode: '100644' },
      { path: 'zeros.bin', content: new Uint8Array(5000), mode: '100644' },
      { path: 'empty', content: new Uint8Array(0), mode: '100644' },
      { path: 'dir/empty-too', content: new Uint8Array(0), mode: '100644' },
      { path: 'run.sh', content: enc('#!/bin/sh\necho hi\n'), mode: '100755' },
      { path: 'bin/tool', content: enc('#!/usr/bin/env node\n'), mode: '100755' },
      { path: 'link-to-text', content: enc('text.txt'), mode: '120000' },
      { path: 'links/up', content: enc('../dir/empty-too'), mode: '120000' },
      { path: 'unicode/héllo wörld ✓.md', content: enc('ünïcödé 日本語 🎉\n'), mode: '100644' },
      { path: 'with spaces/a b c.txt', content: enc('spaces'), mode: '100644' },
      { path: 'Ω/日本/файл', content: enc('nested unicode dirs'), mode: '100644' },
      { path: 'a-b/a.b/a_b', content: enc('sort order: a-b < a.b < a/ < a_b'), mode: '100644' },
      { path: 'a.b', content: enc('file a.b next to dir a-b'), mode: '100644' },
      { path: 'a', content: enc('file a'), mode: '100644' },
      { path: 'a0/x', content: enc('dir a0'), mode: '100644' },
      { path: Array.from({ length: 60 }, (_, i) => `d${i}`).join('/') + '/deep.txt', content: enc('sixty levels down'), mode: '100644' },
    ];
    const c = await repo.commit({
      branch: 'main',
      message: 'kinds',
      author: AUTHOR,
      changes: specs.map((s): FileChange => ({ path: s.path, content: s.content, mode: s.mode })),
    });
    const pack = await packOf(repo, { wants: [c.sha] });
    const { bare, oids } = indexIntoGit(pack);
    git(bare, ['fsck', '--strict', '--no-dangling', c.sha]);
    const expected = gitText(bare, ['rev-list', '--objects', c.sha])
      .split('\n')
      .map((l) => l.slice(0, 40));
    expect(new Set(oids)).toEqual(new Set(expected));
    expect(oids.length).toBe(expected.length);
    expect(gitText(bare, ['rev-parse', `${c.sha}^{tree}`])).toBe(c.tree);
    const work = checkout(bare, c.sha);
    expectWorkTree(work, specs);
  });

  it('3,000 files in one commit, then a second commit, check out exactly', async () => {
    const repo = await engine.createRepo('many');
    const specs: Spec[] = [];
    for (let i = 0; i < 3000; i++) {
      specs.push({
        path: `pkg${i % 17}/mod${i % 5}/file-${i}.ts`,
        content: enc(`export const value${i} = ${i * 7};\n// ${'x'.repeat(i % 300)}\n`),
        mode: i % 97 === 0 ? '100755' : '100644',
      });
    }
    const c1 = await repo.commit({
      branch: 'main',
      message: 'many',
      author: AUTHOR,
      changes: specs.map((s) => ({ path: s.path, content: s.content, mode: s.mode })),
    });
    const changed = specs.filter((_, i) => i % 250 === 0).map((s) => ({ ...s, content: enc(`changed ${s.path}\n`) }));
    const c2 = await repo.commit({
      branch: 'main',
      message: 'edit',
      author: AUTHOR,
      changes: [...changed.map((s) => ({ path: s.path, content: s.content })), { path: specs[1]!.path, delete: true }],
    });
    const pack = await packOf(repo, { wants: [c2.sha] });
    const { bare, oids } = indexIntoGit(pack);
    git(bare, ['fsck', '--strict', '--no-dangling', c2.sha]);
    expect(oids.length).toBe(gitText(bare, ['rev-list', '--objects', c2.sha]).split('\n').length);
    const final = specs.filter((s) => s.path !== specs[1]!.path).map((s) => changed.find((c) => c.path === s.path) ?? s);
    expectWorkTree(checkout(bare, c2.sha), final);
    expectWorkTree(checkout(bare, c1.sha), specs);
    expect(gitText(bare, ['rev-list', '--count', c2.sha])).toBe('2');
  });

  it('an annotated tag and history: git sees the same ids and log', async () => {
    const repo = await engine.createRepo('history');
    const shas: string[] = [];
    for (let i = 0; i < 5; i++) {
      shas.push(
        (
          await repo.commit({
            branch: 'main',
            message: `c${i}\n\nbody ${i}`,
            author: { ...AUTHOR, timestamp: 1_700_000_000 + i },
            changes: [{ path: `f${i}`, content: `${i}` }],
          })
        ).sha,
      );
    }
    const tag = await repo.createTag('v1', shas[2]!, { message: 'release', tagger: AUTHOR });
    const pack = await packOf(repo, { wants: [shas[4]!, tag.sha] });
    const { bare } = indexIntoGit(pack);
    expect(gitText(bare, ['rev-list', shas[4]!]).split('\n')).toEqual([...shas].reverse());
    expect(gitText(bare, ['rev-parse', `${tag.sha}^{commit}`])).toBe(shas[2]);
    expect(gitText(bare, ['cat-file', '-p', tag.sha])).toContain('tag v1');
    expect(gitText(bare, ['log', '--format=%s|%b%an|%ae|%at', '-1', shas[4]!])).toBe(`c4|body 4\n${AUTHOR.name}|${AUTHOR.email}|1700000004`);
    git(bare, ['fsck', '--strict', '--no-dangling', shas[4]!, tag.sha]);
  });
});

describe('depth and filters', () => {
  let repo: Repository;
  let tips: string[];
  beforeAll(async () => {
    repo = await engine.createRepo('shallow');
    tips = [];
    for (let i = 0; i < 4; i++) {
      tips.push(
        (
          await repo.commit({
            branch: 'main',
            message: `c${i}`,
            author: AUTHOR,
            changes: [
              { path: `src/f${i}.txt`, content: `file ${i}\n` },
              { path: 'big.bin', content: pseudoRandom(10_000 + i, i + 1) },
              { path: 'small.txt', content: `small ${i}` },
            ],
          })
        ).sha,
      );
    }
  });

  it('depth 1 is exactly the tip commit and its tree closure; the tip is shallow', async () => {
    const tip = tips[3]!;
    const plan = await repo.planPack({ wants: [tip as never], depth: 1 });
    expect(plan.shallow).toEqual([tip]);
    const pack = await packOf(repo, { wants: [tip], depth: 1 });
    const { bare, oids } = indexIntoGit(pack, plan.shallow);
    // The tree closure as git lists it from the tip's tree.
    const tree = (await repo.log(tip, { limit: 1 }))[0]!.tree;
    const closure = gitText(bare, ['ls-tree', '-r', '-t', tree])
      .split('\n')
      .map((l) => l.split(/\s+/)[2]!);
    expect(new Set(oids)).toEqual(new Set([tip, tree, ...closure]));
    expect(oids.length).toBe(2 + closure.length);
    expect(gitText(bare, ['cat-file', '-t', tip])).toBe('commit');
    // A root commit at the depth limit is still reported shallow, as C git's upload-pack does
    // (`git clone --depth 1` of a one-commit repository writes it to .git/shallow).
    expect((await repo.planPack({ wants: [tips[0]! as never], depth: 1 })).shallow).toEqual([tips[0]]);
    // Depth 2 brings two commits and marks the second as the boundary.
    const p2 = await repo.planPack({ wants: [tip as never], depth: 2 });
    expect(p2.shallow).toEqual([tips[2]]);
    const { oids: o2 } = indexIntoGit(await packOf(repo, { wants: [tip], depth: 2 }), p2.shallow);
    expect(o2.filter((o) => tips.includes(o)).sort()).toEqual([tips[2]!, tips[3]!].sort());
  });

  it('blob:none, blob:limit and tree:0 leave out what they should', async () => {
    const tip = tips[3]!;
    const sh = [tip];
    const full = new Set(indexIntoGit(await packOf(repo, { wants: [tip], depth: 1 }), sh).oids);
    const kinds = async (oids: string[]) => {
      const infos = await internalsOf(repo).objects.info(oids as never);
      return infos.map((i) => i!.type);
    };
    const none = indexIntoGit(await packOf(repo, { wants: [tip], depth: 1, filter: { kind: 'blob:none' } }), sh, false).oids;
    expect((await kinds(none)).sort()).toEqual(['commit', 'tree', 'tree']);
    const limit = indexIntoGit(await packOf(repo, { wants: [tip], depth: 1, filter: { kind: 'blob:limit', limit: 100 } }), sh, false).oids;
    const limitInfos = await internalsOf(repo).objects.info(limit as never);
    expect(limitInfos.filter((i) => i!.type === 'blob').length).toBe(5); // 4 src files + small.txt
    expect(limitInfos.every((i) => i!.type !== 'blob' || i!.size < 100)).toBe(true);
    // The boundary as git draws it: blobs of at least the limit are left out. Every small
    // blob here is 7 bytes, so limit=7 keeps none of them and limit=8 keeps them all.
    const { bare } = indexIntoGit(await packOf(repo, { wants: [tip], depth: 1 }), sh);
    for (const n of [7, 8]) {
      const ours = indexIntoGit(await packOf(repo, { wants: [tip], depth: 1, filter: { kind: 'blob:limit', limit: n } }), sh, false).oids;
      const gits = gitText(bare, ['rev-list', '--objects', `--filter=blob:limit=${n}`, tip])
        .split('\n')
        .map((l) => l.slice(0, 40));
      expect(new Set(ours), `blob:limit=${n}`).toEqual(new Set(gits));
    }
    expect(limit.every((o) => full.has(o))).toBe(true);
    const tree0 = indexIntoGit(await packOf(repo, { wants: [tip], depth: 1, filter: { kind: 'tree', depth: 0 } }), sh, false).oids;
    expect(tree0).toEqual([tip]);
    const tree1 = indexIntoGit(await packOf(repo, { wants: [tip], depth: 1, filter: { kind: 'tree', depth: 1 } }), sh, false).oids;
    expect((await kinds(tree1)).sort()).toEqual(['commit', 'tree']);
  });

  it('every filter selects what git rev-list --filter selects, over full history and nested trees', async () => {
    const nested = await engine.createRepo('filters');
    let tip = '';
    for (let i = 0; i < 3; i++) {
      tip = (
        await nested.commit({
          branch: 'main',
          message: `n${i}`,
          author: AUTHOR,
          changes: [
            { path: `a/b/c/d/deep${i}.txt`, content: 'x'.repeat(10 * i) },
            { path: 'a/b/mid.txt', content: `mid ${i}` },
            { path: 'top.txt', content: 'y'.repeat(i) },
            { path: `a/side${i}/f`, content: '' },
          ],
        })
      ).sha;
    }
    const { bare } = indexIntoGit(await packOf(nested, { wants: [tip] }));
    const specs: [string, Parameters<Repository['packObjects']>[0]['filter']][] = [
      ['blob:none', { kind: 'blob:none' }],
      ['blob:limit=0', { kind: 'blob:limit', limit: 0 }],
      ['blob:limit=1', { kind: 'blob:limit', limit: 1 }],
      ['blob:limit=10', { kind: 'blob:limit', limit: 10 }],
      ['blob:limit=11', { kind: 'blob:limit', limit: 11 }],
      ['tree:0', { kind: 'tree', depth: 0 }],
      ['tree:1', { kind: 'tree', depth: 1 }],
      ['tree:2', { kind: 'tree', depth: 2 }],
      ['tree:3', { kind: 'tree', depth: 3 }],
      ['tree:5', { kind: 'tree', depth: 5 }],
      ['tree:9', { kind: 'tree', depth: 9 }],
    ];
    for (const [spec, filter] of specs) {
      const ours = indexIntoGit(await packOf(nested, { wants: [tip], filter }), [], false).oids;
      const gits = gitText(bare, ['rev-list', '--objects', `--filter=${spec}`, tip])
        .split('\n')
        .map((l) => l.slice(0, 40));
      expect(new Set(ours), spec).toEqual(new Set(gits));
    }
  });

  it('refuses bad wants with typed errors', async () => {
    expect(() => repo.packObjects({ wants: ['nope'] as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(() => repo.packObjects(null as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    await expect(packOf(repo, { wants: ['1'.repeat(40)] })).rejects.toMatchObject({ code: expect.stringMatching(/^ERR_/) });
  });
});

describe('packs of stored deltas', () => {
  it('one pass: bases precede their deltas, chains stay within MAX_CHAIN, and deltas not kept are read again to the same bytes', async () => {
    const repo = await engine.createRepo('delta-pass');
    const lines = Array.from({ length: 200 }, (_, i) => `export const v${i} = ${i};`);
    let tip = '';
    // One file edited 60 times: stored deltas in a chain longer than MAX_CHAIN, and other files whole.
    for (let t = 0; t < 60; t++) {
      lines[(t * 37) % lines.length] = `export const edited${t} = ${t};`;
      tip = (
        await repo.commit({
          branch: 'main',
          message: `turn ${t}`,
          author: AUTHOR,
          changes: [
            { path: 'src/main.ts', content: lines.join('\n') + '\n' },
            { path: `notes/n${t}.txt`, content: `note ${t}\n` },
          ],
        })
      ).sha;
    }
    const { objects } = internalsOf(repo);
    const plan = await repo.planPack({ wants: [tip] as never });
    const packWith = (options: Parameters<typeof packBytes>[4]) => collectBytes(packBytes(objects, plan.oids, true, undefined, options));
    const kept = await packWith({ ofsDelta: true });
    // Nothing kept between the passes: every delta entry read again, the same pack.
    expect(Buffer.from(await packWith({ ofsDelta: true, keepDeltaBytes: 0 })).equals(Buffer.from(kept))).toBe(true);
    // Some kept, the rest read again.
    expect(Buffer.from(await packWith({ ofsDelta: true, keepDeltaBytes: 3000 })).equals(Buffer.from(kept))).toBe(true);
    const types = packEntryTypes(kept);
    expect(types.filter((t) => t === 6).length).toBeGreaterThan(40);
    // Whole entries first, then deltas: no whole entry after the first delta.
    expect(types.slice(types.indexOf(6)).every((t) => t === 6)).toBe(true);
    const { bare, oids } = indexIntoGit(kept);
    expect(new Set(oids)).toEqual(new Set(plan.oids));
    git(bare, ['fsck', '--strict', '--no-dangling', tip]);
    const packDir = join(bare, 'objects', 'pack');
    const idx = readdirSync(packDir).find((f) => f.endsWith('.idx'))!;
    const chains = [...gitText(bare, ['verify-pack', '-v', join(packDir, idx)]).matchAll(/chain length = (\d+)/g)].map((m) => Number(m[1]));
    expect(Math.max(...chains)).toBeLessThanOrEqual(50);
    // Ref-deltas (no ofs-delta): same order, every base before its delta (git index-pack --strict above checks ofs; isomorphic-git needs this).
    const refs = await packWith({});
    expect(packEntryTypes(refs)).toEqual(types.map((t) => (t === 6 ? 7 : t)));
    indexIntoGit(refs);
  });
});
