/**
 * Packs in: packs `git pack-objects` makes from a real repository (ofs-deltas, ref-deltas,
 * thin packs over stored bases) are stored by `repo.indexPack` and every object reads back
 * byte-identical to `git cat-file --batch`. Hostile packs (bad checksum, truncation, `.git` and
 * `..` tree entries, a commit pointing at a missing tree...) give a typed error and leave the
 * database exactly as it was, quarantine included.
 */
import { internalsOf } from '../../src/repo/internals.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryLevel } from 'memory-level';
import { openEngine, type Engine, type Repository } from '../../src/index.js';
import { toHex, utf8, concat } from '../../src/platform/bytes.js';
import { hashObject, type ObjectType } from '../../src/object/oid.js';
import { encodePacked } from '../../src/object/packed.js';
import { writePackSync, encodePackHeader } from '../../src/pack/pack-writer.js';
import { allObjects, catFileBatch, chunks, git, gitText, pseudoRandom, tempDir, writeFile } from '../pack/git-helpers.js';
import { countObjects, realSourceFiles } from '../engine/helpers.js';

let db: MemoryLevel<Uint8Array, Uint8Array>;
let engine: Engine;
let tmp: ReturnType<typeof tempDir>;
let work: string;
let commits: string[];

/** A work-tree repository of real source files with history git deltifies. */
function makeRealRepo(parent: string): { repo: string; commits: string[] } {
  const repo = join(parent, 'real');
  git(undefined, ['init', '-q', '-b', 'main', repo]);
  const files = realSourceFiles(400);
  for (const f of files) writeFile(repo, f.path, f.content);
  writeFile(repo, 'assets/random.bin', pseudoRandom(40_000, 9));
  writeFile(repo, 'empty', '');
  git(repo, ['add', '-A']);
  git(repo, ['commit', '-q', '-m', 'import real files']);
  const out = [gitText(repo, ['rev-parse', 'HEAD'])];
  for (let c = 1; c <= 4; c++) {
    for (let i = c; i < files.length; i += 13) {
      const f = files[i]!;
      const t = new TextDecoder().decode(f.content).split('\n');
      t.splice(Math.min(3 * c, t.length), 0, `// edited in commit ${c}`);
      f.content = utf8(t.join('\n'));
      writeFile(repo, f.path, f.content);
    }
    git(repo, ['add', '-A']);
    git(repo, ['commit', '-q', '-m', `edit ${c}`]);
    out.push(gitText(repo, ['rev-parse', 'HEAD']));
  }
  git(repo, ['tag', '-a', 'v1', '-m', 'release', out[2]!]);
  return { repo, commits: out };
}

/** `git pack-objects --revs --stdout` of the given rev-list arguments. */
function gitPack(revs: string[], flags: string[]): Uint8Array {
  return new Uint8Array(git(work, ['pack-objects', '--revs', '--stdout', '-q', ...flags], revs.join('\n') + '\n'));
}

/** How many entries of a pack are deltas, and of which kind (parsing just the entry headers via git). */
function deltaCount(pack: Uint8Array): number {
  const t = tempDir('level-git-verify-');
  try {
    git(undefined, ['init', '-q', '--bare', t.dir]);
    git(t.dir, ['index-pack', '--fix-thin', '--stdin'], pack);
    const dir = join(t.dir, 'objects', 'pack');
    const idx = execFileSync('ls', [dir])
      .toString()
      .split('\n')
      .find((f) => f.endsWith('.idx'))!;
    const v = gitText(t.dir, ['verify-pack', '-v', join(dir, idx)]);
    return v.split('\n').filter((l) => /^[0-9a-f]{40}\s+\S+\s+\d+\s+\d+\s+\d+\s+\d+\s+[0-9a-f]{40}$/.test(l)).length;
  } finally {
    t.cleanup();
  }
}

/** Every key and value of the database, for before/after comparisons. */
async function snapshotOf(of: MemoryLevel<Uint8Array, Uint8Array>): Promise<string> {
  const parts: string[] = [];
  for await (const [k, v] of of.iterator({ keyEncoding: 'view', valueEncoding: 'view' })) parts.push(`${toHex(k)}=${toHex(v)}`);
  return parts.join('\n');
}

/** Asserts every stored object of `repo` equals what git has for it. */
async function expectSameAsGit(repo: Repository, oids: readonly string[]): Promise<void> {
  const fromGit = catFileBatch(work, oids);
  expect(fromGit.size).toBe(oids.length);
  for (const [oid, o] of fromGit) {
    const mine = await repo.readObject(oid);
    expect(mine.type, oid).toBe(o.type);
    expect(Buffer.from(mine.body).equals(Buffer.from(o.body)), oid).toBe(true);
  }
}

beforeAll(async () => {
  db = new MemoryLevel<Uint8Array, Uint8Array>();
  engine = await openEngine({ db: db as never });
  tmp = tempDir('level-git-pack-in-');
  ({ repo: work, commits } = makeRealRepo(tmp.dir));
});
afterAll(async () => {
  await engine.close();
  tmp.cleanup();
});

describe('packs from git pack-objects', () => {
  it('ofs-delta pack of a real history: every object reads back byte-identical, no ref moves', async () => {
    const pack = gitPack(['main', 'v1'], ['--delta-base-offset']);
    expect(deltaCount(pack)).toBeGreaterThan(20);
    const repo = await engine.createRepo('ofs');
    const r = await repo.indexPack(chunks(pack, 4096));
    const oids = allObjects(work);
    expect(new Set(r.oids)).toEqual(new Set(oids));
    expect(r.added).toBe(oids.length);
    expect(await countObjects(internalsOf(repo).objects)).toBe(oids.length);
    expect(await repo.listRefs()).toEqual([]);
    await expectSameAsGit(repo, oids);
    // Storing the same pack again adds nothing.
    expect((await repo.indexPack([pack])).added).toBe(0);
    // The stored objects serve reads once a ref points at them.
    await repo.refs.transaction([{ ref: 'refs/heads/main', newOid: commits[4]! }]);
    const readme = gitText(work, ['ls-tree', '-r', '--name-only', 'main']).split('\n')[0]!;
    expect(Buffer.from(await repo.readFile('main', readme)).equals(git(work, ['show', `main:${readme}`]))).toBe(true);
  });

  it('ref-delta pack (no --delta-base-offset), fed as a byte-by-odd-size stream', async () => {
    const pack = gitPack(['main'], []);
    expect(deltaCount(pack)).toBeGreaterThan(20);
    const repo = await engine.createRepo('ref');
    const r = await repo.indexPack(chunks(pack, 777));
    const oids = gitText(work, ['rev-list', '--objects', 'main'])
      .split('\n')
      .map((l) => l.slice(0, 40));
    expect(new Set(r.oids)).toEqual(new Set(oids));
    await expectSameAsGit(repo, oids);
  });

  it('thin packs resolve against bases already stored; without them nothing is stored', async () => {
    const base = gitPack([commits[2]!], ['--delta-base-offset']);
    for (const flags of [['--thin', '--delta-base-offset'], ['--thin']]) {
      const thin = gitPack(['main', `^${commits[2]}`], flags);
      // Without the bases: a typed error and an untouched database.
      const bare = await engine.createRepo(`thin-alone${flags.length}`);
      const before = await snapshotOf(db);
      const err = await bare.indexPack([thin]).catch((e) => e);
      expect(err?.code, String(err)).toMatch(/^ERR_(CORRUPT_PACK|MISSING_OBJECTS)$/);
      expect(await snapshotOf(db)).toBe(before);
      // With the bases stored first.
      const repo = await engine.createRepo(`thin${flags.length}`);
      await repo.indexPack([base]);
      const r = await repo.indexPack(chunks(thin, 10_000));
      expect(r.added).toBeGreaterThan(0);
      const reachable = gitText(work, ['rev-list', '--objects', 'main'])
        .split('\n')
        .map((l) => l.slice(0, 40));
      expect(await countObjects(internalsOf(repo).objects)).toBe(reachable.length);
      await expectSameAsGit(repo, reachable);
    }
  });
});

describe('names that are not UTF-8', () => {
  it('a git tree with Latin-1 names is stored, listed, committed on and packed back byte-exact', async () => {
    const dir = join(tmp.dir, 'latin1');
    git(undefined, ['init', '-q', '-b', 'main', dir]);
    const raw = (s: string, b: number) => Buffer.concat([Buffer.from(join(dir, s)), Buffer.from([b])]);
    writeFileSync(raw('caf', 0xe9), 'e-acute');
    writeFileSync(raw('caf', 0xe8), 'e-grave');
    writeFileSync(join(dir, 'plain.txt'), 'plain');
    git(dir, ['add', '-A']);
    git(dir, ['commit', '-q', '-m', 'latin-1 names']);
    const head = gitText(dir, ['rev-parse', 'HEAD']);
    const repo = await engine.createRepo('latin1');
    await repo.indexPack([new Uint8Array(git(dir, ['pack-objects', '--revs', '--stdout', '-q'], 'HEAD\n'))]);
    await repo.refs.transaction([{ ref: 'refs/heads/main', newOid: head }]);
    const names = (await repo.listTree('main')).map((e) => e.path);
    expect(names.length).toBe(3);
    expect(new Set(names).size).toBe(3);
    expect(new TextDecoder().decode(await repo.readFile('main', names.find((n) => n.endsWith('\udce9'))!))).toBe('e-acute');
    // A commit next to them keeps their bytes; git reads the result.
    const c = await repo.commit({
      branch: 'main',
      message: 'touch',
      author: { name: 'A', email: 'a@example.com' },
      changes: [{ path: 'plain.txt', content: 'changed' }],
    });
    const bare = join(tmp.dir, 'latin1-back.git');
    git(undefined, ['init', '-q', '--bare', bare]);
    const chunksOut: Uint8Array[] = [];
    for await (const p of repo.packObjects({ wants: [c.sha] })) chunksOut.push(p);
    git(bare, ['index-pack', '--strict', '--stdin'], concat(chunksOut));
    const listed = git(bare, ['ls-tree', '-z', '--name-only', c.sha]).toString('latin1').split('\0').filter(Boolean);
    expect(listed).toEqual(['caf\xe8', 'caf\xe9', 'plain.txt']);
    expect(gitText(bare, ['rev-parse', `${c.sha}^{tree}`])).not.toBe(gitText(dir, ['rev-parse', 'HEAD^{tree}']));
    expect(git(bare, ['ls-tree', c.sha]).toString('latin1')).toContain(git(dir, ['ls-tree', 'HEAD']).toString('latin1').split('\n')[0]!);
  });
});

describe('submodules (gitlinks)', () => {
  it('a tree with a gitlink is stored, listed, committed beside and packed back without the linked commit', async () => {
    const dir = join(tmp.dir, 'gitlink');
    git(undefined, ['init', '-q', '-b', 'main', dir]);
    writeFileSync(join(dir, 'a.txt'), 'a');
    const linked = 'ab'.repeat(20); // a commit of another repository: never present here
    git(dir, ['add', 'a.txt']);
    git(dir, ['update-index', '--add', '--cacheinfo', `160000,${linked},vendor/lib`]);
    git(dir, ['commit', '-q', '-m', 'with a submodule']);
    const head = gitText(dir, ['rev-parse', 'HEAD']);
    const repo = await engine.createRepo('gitlink');
    await repo.indexPack([new Uint8Array(git(dir, ['pack-objects', '--revs', '--stdout', '-q'], 'HEAD\n'))]);
    await repo.refs.transaction([{ ref: 'refs/heads/main', newOid: head }]);
    const listed = await repo.listTree('main', { recursive: true });
    expect(listed.find((e) => e.path === 'vendor/lib')).toMatchObject({ type: 'commit', mode: '160000', sha: linked });
    await expect(repo.readFile('main', 'vendor/lib')).rejects.toMatchObject({ code: 'ERR_PATH_NOT_FOUND' });
    const c = await repo.commit({
      branch: 'main',
      message: 'beside',
      author: { name: 'A', email: 'a@example.com' },
      changes: [{ path: 'vendor/readme', content: 'r' }],
    });
    expect((await repo.listTree(c.sha, { path: 'vendor' })).map((e) => [e.path, e.mode])).toEqual([
      ['vendor/lib', '160000'],
      ['vendor/readme', '100644'],
    ]);
    const bare = join(tmp.dir, 'gitlink-back.git');
    git(undefined, ['init', '-q', '--bare', bare]);
    const parts: Uint8Array[] = [];
    for await (const p of repo.packObjects({ wants: [c.sha] })) parts.push(p);
    git(bare, ['index-pack', '--strict', '--stdin'], concat(parts));
    expect(gitText(bare, ['ls-tree', `${c.sha}:vendor`])).toContain(`160000 commit ${linked}\tlib`);
  });
});

// ---- hostile packs ------------------------------------------------------------------------

const entry = (type: ObjectType, body: Uint8Array) => ({ oid: hashObject(type, body), bytes: encodePacked(type, body) });

/** A tree body built by hand, in the order given (git's tools refuse to write these). */
function rawTree(entries: [mode: string, name: string, oid: string][]): Uint8Array {
  return concat(entries.map(([m, n, o]) => concat([utf8(`${m} ${n}\0`), Buffer.from(o, 'hex')])));
}

function commitBody(tree: string, parents: string[] = []): Uint8Array {
  return utf8(
    `tree ${tree}\n${parents.map((p) => `parent ${p}\n`).join('')}author A <a@example.com> 1700000000 +0000\ncommitter A <a@example.com> 1700000000 +0000\n\nhostile\n`,
  );
}

describe('hostile packs through indexPack', () => {
  let repo: Repository;
  let goodPack: Uint8Array;
  // A database of its own, so that "unchanged" compares every key of a small store.
  let hdb: MemoryLevel<Uint8Array, Uint8Array>;
  let hengine: Engine;
  const snapshot = () => snapshotOf(hdb);
  beforeAll(async () => {
    hdb = new MemoryLevel<Uint8Array, Uint8Array>();
    hengine = await openEngine({ db: hdb as never });
    repo = await hengine.createRepo('hostile');
    // Something already stored, so "unchanged" means more than "still empty".
    await repo.commit({ branch: 'main', message: 'existing', author: { name: 'A', email: 'a@example.com' }, changes: [{ path: 'keep.txt', content: 'kept' }] });
    goodPack = gitPack(['main'], ['--delta-base-offset']);
  });
  afterAll(async () => {
    await hengine.close();
  });

  async function expectRejected(pack: Uint8Array | Uint8Array[], code: RegExp, options?: Parameters<Repository['indexPack']>[1]): Promise<void> {
    const before = await snapshot();
    const objects = await countObjects(internalsOf(repo).objects);
    const err = await repo.indexPack(Array.isArray(pack) ? pack : [pack], options).catch((e) => e);
    expect(err, 'indexPack should have failed').toBeInstanceOf(Error);
    expect(err.code, String(err)).toMatch(code);
    expect(await countObjects(internalsOf(repo).objects)).toBe(objects);
    expect(await snapshot()).toBe(before);
  }

  it('a wrong checksum', async () => {
    const bad = goodPack.slice();
    bad[bad.length - 1] ^= 0x01;
    await expectRejected(bad, /^ERR_CORRUPT_PACK$/);
  });

  it('a flipped byte inside the data', async () => {
    const bad = goodPack.slice();
    bad[Math.floor(bad.length / 2)] ^= 0x40;
    await expectRejected(bad, /^ERR_(CORRUPT_PACK|INVALID_OBJECT)$/);
  });

  it('truncated at many points (header, middle, before the trailer)', async () => {
    for (const cut of [0, 5, 12, 13, 100, Math.floor(goodPack.length / 3), goodPack.length - 21, goodPack.length - 1]) {
      await expectRejected(goodPack.subarray(0, cut), /^ERR_(CORRUPT_PACK|PROTOCOL)$/);
    }
  });

  it('not a pack, a bad version, and trailing garbage', async () => {
    await expectRejected(utf8('this is not a pack file at all, just some text'), /^ERR_CORRUPT_PACK$/);
    const v9 = goodPack.slice();
    v9[7] = 9;
    await expectRejected(v9, /^ERR_CORRUPT_PACK$/);
    await expectRejected(concat([goodPack, utf8('garbage')]), /^ERR_CORRUPT_PACK$/);
  });

  it('a header declaring a huge object count is refused before allocating', async () => {
    const header = encodePackHeader(0xffffffff);
    await expectRejected(concat([header, new Uint8Array(40)]), /^ERR_(LIMIT_EXCEEDED|CORRUPT_PACK)$/);
  });

  it('tree entries named .git, .GIT, .., git~1, or with a slash are refused', async () => {
    const blob = entry('blob', utf8('[core]\n\thooksPath = /tmp/evil\n'));
    for (const name of ['.git', '.GIT', '.Git ', '..', '.', 'git~1', 'a/b', '']) {
      const tree = entry('tree', rawTree([['100644', name, blob.oid]]));
      const commit = entry('commit', commitBody(tree.oid));
      await expectRejected(writePackSync([blob.bytes, tree.bytes, commit.bytes]), /^ERR_INVALID_OBJECT$/);
    }
    // Also one level down: a directory named .git holding a config file.
    const inner = entry('tree', rawTree([['100644', 'config', blob.oid]]));
    const outer = entry('tree', rawTree([['40000', '.git', inner.oid]]));
    await expectRejected(writePackSync([blob.bytes, inner.bytes, outer.bytes]), /^ERR_INVALID_OBJECT$/);
    // An unsorted tree and a bad mode.
    const b2 = entry('blob', utf8('two'));
    const unsorted = entry(
      'tree',
      rawTree([
        ['100644', 'b', blob.oid],
        ['100644', 'a', b2.oid],
      ]),
    );
    await expectRejected(writePackSync([blob.bytes, b2.bytes, unsorted.bytes]), /^ERR_INVALID_OBJECT$/);
    const badMode = entry('tree', rawTree([['100666', 'a', blob.oid]]));
    await expectRejected(writePackSync([blob.bytes, badMode.bytes]), /^ERR_INVALID_OBJECT$/);
  });

  it('a commit pointing at a missing tree, a missing parent, a tag at a missing object, a tree at a missing blob', async () => {
    const missing = 'ab'.repeat(20);
    const c1 = entry('commit', commitBody(missing));
    await expectRejected(writePackSync([c1.bytes]), /^ERR_MISSING_OBJECTS$/);
    const tree = entry('tree', rawTree([['100644', 'f', missing]]));
    await expectRejected(writePackSync([tree.bytes]), /^ERR_MISSING_OBJECTS$/);
    const okBlob = entry('blob', utf8('ok'));
    const okTree = entry('tree', rawTree([['100644', 'f', okBlob.oid]]));
    const c2 = entry('commit', commitBody(okTree.oid, [missing]));
    await expectRejected(writePackSync([okBlob.bytes, okTree.bytes, c2.bytes]), /^ERR_MISSING_OBJECTS$/);
    const tag = entry('tag', utf8(`object ${missing}\ntype commit\ntag v1\ntagger A <a@example.com> 1700000000 +0000\n\nx\n`));
    await expectRejected(writePackSync([tag.bytes]), /^ERR_MISSING_OBJECTS$/);
    // A malformed commit.
    const junk = entry('commit', utf8('not a commit\n'));
    await expectRejected(writePackSync([junk.bytes]), /^ERR_INVALID_OBJECT$/);
  });

  it('a ref-delta against a base that is nowhere', async () => {
    const delta = concat([new Uint8Array([0x70 | 5]), Buffer.from('cd'.repeat(20), 'hex'), new Uint8Array([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])]);
    await expectRejected(writePackSync([delta]), /^ERR_(CORRUPT_PACK|MISSING_OBJECTS)$/);
  });

  /** 200 blobs of 5,000 random bytes (a large pack for a 20,000-byte memory quarantine), their ids, and a commit naming a tree that is nowhere. */
  function largePack(seed: number): { parts: Uint8Array[]; blobs: string[] } {
    const parts: Uint8Array[] = [];
    const blobs: string[] = [];
    for (let i = 0; i < 200; i++) {
      const e = entry('blob', pseudoRandom(5_000, i + seed));
      parts.push(e.bytes);
      blobs.push(e.oid);
    }
    parts.push(entry('commit', commitBody('cd'.repeat(20))).bytes);
    return { parts, blobs };
  }
  const present = async (oids: string[]) => (await internalsOf(repo).objects.has(oids as never)).filter(Boolean).length;

  it('a large pack lands its blobs while it is read, then fails at its last object and takes them back', async () => {
    const { parts, blobs } = largePack(100);
    const before = await snapshot();
    // The source notes how many of the pack's blobs are stored when the reader asks for its last chunk.
    const cs = chunks(writePackSync(parts), 8192);
    let landedMidway = -1;
    async function* source() {
      for (let i = 0; i < cs.length; i++) {
        await new Promise((r) => setTimeout(r, 1));
        if (i === cs.length - 1) landedMidway = await present(blobs);
        yield cs[i]!;
      }
    }
    // Inline: a reader in a worker would first buffer a pack this small whole.
    const err = await repo.indexPack(source(), { memoryQuarantineBytes: 20_000, worker: 'inline' }).catch((e) => e);
    expect(err.code, String(err)).toBe('ERR_MISSING_OBJECTS');
    expect(landedMidway).toBeGreaterThan(100);
    expect(await present(blobs)).toBe(0);
    expect(await snapshot()).toBe(before);
    // The same pack without the bad commit is stored whole, and no quarantine key is left.
    const r = await repo.indexPack(chunks(writePackSync(parts.slice(0, -1)), 8192), { memoryQuarantineBytes: 20_000 });
    expect(r.added).toBe(200);
    expect(await present(blobs)).toBe(200);
    const snap = await snapshot();
    expect(snap.split('\n').filter((l) => l.startsWith('51')).length).toBe(0);
  });

  it('a large pack that fails while another write of the pool is in flight leaves its blobs to the sweep', async () => {
    const { parts, blobs } = largePack(1_000);
    let release!: () => void;
    const other = internalsOf(repo).withWrite(() => new Promise<void>((r) => (release = r)));
    const err = await repo.indexPack(chunks(writePackSync(parts), 8192), { memoryQuarantineBytes: 20_000 }).catch((e) => e);
    expect(err.code, String(err)).toBe('ERR_MISSING_OBJECTS');
    // That write might have found them stored and counted on them: they stay, unreferenced...
    expect(await present(blobs)).toBe(200);
    release();
    await other;
    // ...and the sweep marker the pack wrote with them makes the next sweep remove them.
    await hengine.sweep();
    expect(await present(blobs)).toBe(0);
    expect(new TextDecoder().decode(await repo.readFile('main', 'keep.txt'))).toBe('kept');
  });

  it('an object whose declared size exceeds the limit is refused', async () => {
    const big = entry('blob', pseudoRandom(50_000, 1));
    await expectRejected(writePackSync([big.bytes]), /^ERR_LIMIT_EXCEEDED$/, { maxObjectSize: 10_000 });
  });
});
