/**
 * The fsck checks wired into every write path (issue 10, items 4 and 5): the attack corpus
 * pushed through the receive-pack backend and `indexPack`, and written through API commits.
 * Each payload is refused with git's message id in the error, nothing of it is stored and no
 * ref moves; objects of the wrong type (in the pack or already stored) are refused by push;
 * a check downgraded with `openEngine({ fsck: { severities } })` lets its payload through.
 * Also: `Engine.sweep` goes on past a broken repository. Every test here failed before the
 * checks were wired (the payloads were `unpack ok`).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { openEngine, type Engine, type Repository } from '../../src/index.js';
import { concat, utf8 } from '../../src/platform/bytes.js';
import { hashObject, type ObjectType, type Oid } from '../../src/object/oid.js';
import { encodePacked } from '../../src/object/packed.js';
import { writePackSync } from '../../src/pack/pack-writer.js';
import { internalsOf } from '../../src/repo/internals.js';
import { FsckError, InvalidArgumentError, InvalidObjectError, InvalidPathError, isLevelGitError } from '../../src/errors.js';
import type { FileChange } from '../../src/repo/build-tree.js';

const ZERO = '0'.repeat(40);
const AUTHOR = { name: 'A', email: 'a@example.com', timestamp: 1_700_000_000 };
const entry = (type: ObjectType, body: Uint8Array | string) => {
  const b = typeof body === 'string' ? utf8(body) : body;
  return { oid: hashObject(type, b), bytes: encodePacked(type, b), type };
};
type Entry = ReturnType<typeof entry>;
function rawTree(entries: [mode: string, name: string, oid: string][]): Uint8Array {
  return concat(entries.map(([m, n, o]) => concat([utf8(`${m} ${n}\0`), Buffer.from(o, 'hex')])));
}
const ident = (date = '1700000000 +0000') => `A <a@example.com> ${date}`;
const commitBody = (tree: string, parents: string[] = [], date?: string, extra = '') =>
  `tree ${tree}\n${parents.map((p) => `parent ${p}\n`).join('')}author ${ident(date)}\ncommitter ${ident(date)}\n${extra}\nmsg\n`;

/** A pack of a blob, a tree naming it `name` (mode `mode`) and a commit of that tree. */
function treePayload(name: string, content = 'x\n', mode = '100644'): { objects: Entry[]; tip: Oid } {
  const blob = entry('blob', content);
  const tree = entry('tree', rawTree([[mode, name, blob.oid]]));
  const commit = entry('commit', commitBody(tree.oid));
  return { objects: [commit, tree, blob], tip: commit.oid };
}
function commitPayload(body: string): { objects: Entry[]; tip: Oid } {
  const blob = entry('blob', 'x\n');
  const tree = entry('tree', rawTree([['100644', 'f', blob.oid]]));
  const commit = entry('commit', body.replace('TREE', tree.oid));
  return { objects: [commit, tree, blob], tip: commit.oid };
}
const gitmodules = (text: string) => treePayload('.gitmodules', text);

/** Item 5: each payload and the git message id it must be refused with. */
const CONTENT_CORPUS: [label: string, payload: () => { objects: Entry[]; tip: Oid }, id: string][] = [
  ['.g\\u200cit', () => treePayload('.g\u200cit'), 'hasDotgit'],
  ['\\u200c.git', () => treePayload('\u200c.git'), 'hasDotgit'],
  ['.git\\u200c', () => treePayload('.git\u200c'), 'hasDotgit'],
  ['.git::$INDEX_ALLOCATION', () => treePayload('.git::$INDEX_ALLOCATION', 'x', '40000'), 'hasDotgit'],
  ['.git:$DATA', () => treePayload('.git:$DATA'), 'hasDotgit'],
  [
    'submodule name climbing into .git',
    () => gitmodules('[submodule "../../../../.git/modules/x"]\n\tpath = x\n\turl = https://example.com/x\n'),
    'gitmodulesName',
  ],
  ['submodule url that is an option', () => gitmodules('[submodule "x"]\n\tpath = x\n\turl = --upload-pack=touch${IFS}pwned\n'), 'gitmodulesUrl'],
  ['submodule path that is an option', () => gitmodules('[submodule "x"]\n\tpath = -x\n\turl = https://example.com/x\n'), 'gitmodulesPath'],
  ['.gitmodules as a symlink', () => treePayload('.gitmodules', '../../x', '120000'), 'gitmodulesSymlink'],
  ['gitmod~1 as a symlink', () => treePayload('GITMOD~1', '../../x', '120000'), 'gitmodulesSymlink'],
  ['timezone +99999', () => commitPayload(commitBody('TREE', [], '1700000000 +99999')), 'badTimezone'],
  ['date 2^64', () => commitPayload(commitBody('TREE', [], '18446744073709551616 +0000')), 'badDateOverflow'],
  ['NUL in a header', () => commitPayload(commitBody('TREE', [], undefined, 'x-extra a\0b\n')), 'nulInHeader'],
];

let db: MemoryLevel<Uint8Array, Uint8Array>;
let engine: Engine;
let repo: Repository;

async function snapshot(): Promise<string> {
  const keys: string[] = [];
  for await (const k of db.keys({ keyEncoding: 'view' })) keys.push(Buffer.from(k).toString('hex'));
  return keys.join(',');
}

async function push(objects: readonly Entry[], tip: Oid, ref = 'refs/heads/evil', r = repo) {
  const backend = await engine.gitBackend(r.name);
  const pack = writePackSync(objects.map((o) => o.bytes));
  const source = (async function* () {
    yield pack;
  })();
  return backend.receive([{ ref, oldOid: ZERO as Oid, newOid: tip }], source, { atomic: false, pushOptions: [] });
}

/** The git message id an error carries (FsckError, or InvalidObjectError / InvalidPathError / InvalidArgumentError with `details.id`). */
const idOf = (err: unknown) => (isLevelGitError(err) ? ((err.details as { id?: string }).id ?? null) : null);

beforeEach(async () => {
  db = new MemoryLevel<Uint8Array, Uint8Array>({ keyEncoding: 'view', valueEncoding: 'view' });
  engine = await openEngine({ db: db as never });
  repo = await engine.createRepo('r');
  await repo.commit({ branch: 'main', message: 'base', author: AUTHOR, changes: [{ path: 'keep.txt', content: 'kept' }] });
});
afterEach(async () => {
  await engine.close();
});

describe('pushes and indexPack: content checks (item 5)', () => {
  for (const [label, payload, id] of CONTENT_CORPUS) {
    it(`refuses ${label} with ${id}`, async () => {
      const { objects, tip } = payload();
      const before = await snapshot();
      const result = await push(objects, tip);
      expect(result.unpackError, label).toContain(id);
      expect(result.results).toEqual([{ ref: 'refs/heads/evil', ok: false, reason: 'unpacker error' }]);
      const err = await repo.indexPack([writePackSync(objects.map((o) => o.bytes))]).catch((e: unknown) => e);
      expect(idOf(err), String(err)).toBe(id);
      expect(err instanceof FsckError || err instanceof InvalidObjectError).toBe(true);
      expect(await snapshot()).toBe(before);
      expect(await repo.getRef('refs/heads/evil')).toBeUndefined();
    });
  }

  it('gives the error shape: code, status, git id and every problem', async () => {
    const { objects } = commitPayload(commitBody('TREE', [], '1700000000 +99999'));
    const err = (await repo.indexPack([writePackSync(objects.map((o) => o.bytes))]).catch((e: unknown) => e)) as FsckError;
    expect(err).toBeInstanceOf(FsckError);
    expect(err.code).toBe('ERR_FSCK');
    expect(err.status).toBe(400);
    expect(err.message).toMatch(new RegExp(`^commit ${objects[0]!.oid}: badTimezone: `));
    expect(err.details).toMatchObject({ oid: objects[0]!.oid, type: 'commit', id: 'badTimezone', problems: [{ id: 'badTimezone', severity: 'error' }] });
  });

  it('checks a .gitmodules blob that came before its tree, and one already stored', async () => {
    const bad = entry('blob', '[submodule "../../.git/x"]\n\tpath = x\n\turl = https://e/x\n');
    const tree = entry('tree', rawTree([['100644', '.gitmodules', bad.oid]]));
    const commit = entry('commit', commitBody(tree.oid));
    expect((await push([bad, tree, commit], commit.oid)).unpackError).toContain('gitmodulesName');
    // The blob stored on its own (a harmless name), then named .gitmodules by a later push.
    const harmless = entry('tree', rawTree([['100644', 'notes.txt', bad.oid]]));
    const c1 = entry('commit', commitBody(harmless.oid));
    expect((await push([bad, harmless, c1], c1.oid, 'refs/heads/ok')).unpackError).toBeUndefined();
    const before = await snapshot();
    expect((await push([tree, commit], commit.oid)).unpackError).toContain('gitmodulesName');
    expect(await snapshot()).toBe(before);
  });
});

describe('pushes: reference types (item 4)', () => {
  const blob = entry('blob', 'b\n');
  const goodTree = entry('tree', rawTree([['100644', 'f', blob.oid]]));
  const cases: [label: string, objects: () => Entry[], role: string][] = [
    ['a commit whose tree is a blob', () => [entry('commit', commitBody(blob.oid)), blob], 'tree'],
    [
      'a 40000 entry on a blob',
      () => [entry('commit', commitBody(entry('tree', rawTree([['40000', 'd', blob.oid]])).oid)), entry('tree', rawTree([['40000', 'd', blob.oid]])), blob],
      'entry',
    ],
    [
      'a 100644 entry on a tree',
      () => [
        entry('commit', commitBody(entry('tree', rawTree([['100644', 'f', goodTree.oid]])).oid)),
        entry('tree', rawTree([['100644', 'f', goodTree.oid]])),
        goodTree,
        blob,
      ],
      'entry',
    ],
    ['a parent that is a blob', () => [entry('commit', commitBody(goodTree.oid, [blob.oid])), goodTree, blob], 'parent'],
    ['a tag whose type line lies', () => [entry('tag', `object ${blob.oid}\ntype commit\ntag v1\ntagger ${ident()}\n\nx\n`), blob], 'tagged'],
  ];
  for (const [label, objects, role] of cases) {
    for (const order of ['referrer first', 'target first'] as const) {
      it(`refuses ${label} (${order})`, async () => {
        const list = objects();
        const tip = list[0]!;
        const before = await snapshot();
        const ref = tip.type === 'tag' ? 'refs/tags/v1' : 'refs/heads/evil';
        const result = await push(order === 'referrer first' ? list : [...list].reverse(), tip.oid, ref);
        expect(result.unpackError, label).toMatch(/is a (blob|tree|commit), not a (tree|commit|blob)/);
        const err = (await repo.indexPack([writePackSync(list.map((o) => o.bytes))]).catch((e: unknown) => e)) as InvalidObjectError;
        expect(err).toBeInstanceOf(InvalidObjectError);
        expect(err.details.reference).toMatchObject({ role });
        expect(await snapshot()).toBe(before);
        expect(await repo.getRef(ref)).toBeUndefined();
      });
    }
  }

  it('refuses a reference to a stored object of the wrong type (batched store lookup)', async () => {
    const stored = (await repo.listBranches()).find((b) => b.name === 'main')!.sha as Oid;
    // A commit whose tree is the stored commit, and a tree entry 100644 on it.
    const c = entry('commit', commitBody(stored));
    const before = await snapshot();
    const result = await push([c], c.oid);
    expect(result.unpackError).toContain(`tree ${stored} is a commit, not a tree`);
    const err = (await repo.indexPack([writePackSync([c.bytes])]).catch((e: unknown) => e)) as InvalidObjectError;
    expect(err.details).toMatchObject({ oid: c.oid, type: 'commit', reference: { oid: stored, expected: 'tree', actual: 'commit', role: 'tree' } });
    const t = entry('tree', rawTree([['100644', 'f', stored]]));
    const err2 = (await repo.indexPack([writePackSync([t.bytes])]).catch((e: unknown) => e)) as InvalidObjectError;
    expect(err2.details.reference).toMatchObject({ oid: stored, expected: 'blob', actual: 'commit', role: 'entry', name: 'f' });
    expect(await snapshot()).toBe(before);
  });

  it('accepts the same objects with the right types, in any order', async () => {
    const c = entry('commit', commitBody(goodTree.oid));
    for (const order of [
      [c, goodTree, blob],
      [blob, goodTree, c],
    ]) {
      const r = await push(order, c.oid, `refs/heads/good-${order[0]!.type}`);
      expect(r.unpackError).toBeUndefined();
      expect(r.results[0]!.ok).toBe(true);
    }
  });
});

describe('severities: a downgraded check lets its payload through', () => {
  it('badTimezone: warn accepts the commit and reports the warning', async () => {
    await engine.close();
    engine = await openEngine({ db: db as never, fsck: { severities: { badTimezone: 'warn' } } });
    repo = await engine.getRepo('r');
    const { objects, tip } = commitPayload(commitBody('TREE', [], '1700000000 +99999'));
    const r = await repo.indexPack([writePackSync(objects.map((o) => o.bytes))]);
    expect(r.warnings?.length).toBeGreaterThan(0); // author and committer
    for (const w of r.warnings!) expect(w).toMatch(/^commit [0-9a-f]{40}: badTimezone: /);
    expect((await push(objects, tip)).results[0]!.ok).toBe(true);
    // Per call too, and the others stay errors.
    const other = commitPayload(commitBody('TREE', [], '18446744073709551616 +0000'));
    await expect(repo.indexPack([writePackSync(other.objects.map((o) => o.bytes))])).rejects.toMatchObject({
      code: 'ERR_FSCK',
      details: { id: 'badDateOverflow' },
    });
    expect(
      (await repo.indexPack([writePackSync(other.objects.map((o) => o.bytes))], { fsck: { severities: { badDateOverflow: 'ignore' } } })).added,
    ).toBeGreaterThan(0);
  });

  it('openEngine validates the options', async () => {
    for (const fsck of [
      { severities: { noSuchId: 'warn' } },
      { severities: { badTimezone: 'loud' } },
      { severities: { nulInHeader: 'warn' } },
      { strict: 'yes' },
    ]) {
      await expect(openEngine({ db: new MemoryLevel() as never, fsck: fsck as never }), JSON.stringify(fsck)).rejects.toThrow(InvalidArgumentError);
    }
  });
});

describe('API commits', () => {
  const commit = (changes: FileChange[], author: Record<string, unknown> = AUTHOR) =>
    repo.commit({ branch: 'main', message: 'm', author: author as never, changes }).catch((e: unknown) => e);

  it('refuses every .git spelling as a path, with hasDotgit', async () => {
    const before = await snapshot();
    for (const name of ['.g\u200cit', '\u200c.git', '.git\u200c', '.git::$INDEX_ALLOCATION', '.git:$DATA', '\ufeff.GIT', 'GIT~1', 'd/.git.']) {
      const err = await commit([{ path: `${name}/hooks/x`, content: 'x' }]);
      expect(err, name).toBeInstanceOf(InvalidPathError);
      expect(idOf(err), name).toBe('hasDotgit');
    }
    expect(await snapshot()).toBe(before);
  });

  it('refuses hostile .gitmodules content and .gitmodules as a symlink, with git ids', async () => {
    const before = await snapshot();
    const cases: [FileChange[], string][] = [
      [[{ path: '.gitmodules', content: '[submodule "../../../../.git/modules/x"]\n\tpath = x\n\turl = https://e/x\n' }], 'gitmodulesName'],
      [[{ path: 'sub/.gitmodules', content: '[submodule "x"]\n\tpath = x\n\turl = -u./payload\n' }], 'gitmodulesUrl'],
      [[{ path: '.gitmodules', content: '[submodule "x"]\n\tpath = --x\n\turl = https://e/x\n' }], 'gitmodulesPath'],
      [[{ path: '.gitmodules', content: 'target', mode: '120000' }], 'gitmodulesSymlink'],
      [[{ path: 'gitmod~1', content: 'target', mode: '120000' }], 'gitmodulesSymlink'],
      [[{ path: '.GITMODULES', content: '[submodule "../x"]\n\tpath = x\n\turl = https://e/x\n' }], 'gitmodulesName'],
    ];
    for (const [changes, id] of cases) {
      const err = await commit(changes);
      expect(err, id).toBeInstanceOf(FsckError);
      expect(idOf(err), String(err)).toBe(id);
    }
    expect(await snapshot()).toBe(before);
    // A harmless .gitmodules is fine.
    await expect(commit([{ path: '.gitmodules', content: '[submodule "x"]\n\tpath = x\n\turl = https://example.com/x\n' }])).resolves.toMatchObject({
      sha: expect.any(String),
    });
  });

  it("refuses identities git refuses, naming git's id", async () => {
    const before = await snapshot();
    const cases: [Record<string, unknown>, string][] = [
      [{ ...AUTHOR, timezone: '+99999' }, 'badTimezone'],
      [{ ...AUTHOR, timestamp: 2 ** 64 }, 'badDateOverflow'],
      [{ ...AUTHOR, name: 'A\0B' }, 'nulInHeader'],
    ];
    for (const [author, id] of cases) {
      const err = await commit([{ path: 'f', content: 'x' }], author);
      expect(err, id).toBeInstanceOf(InvalidArgumentError);
      expect(idOf(err), String(err)).toBe(id);
    }
    expect(await snapshot()).toBe(before);
  });
});

describe('Engine.sweep isolates a broken repository', () => {
  it('sweeps the repositories after one that throws, counts and reports it', async () => {
    const broken = await engine.createRepo('a-broken');
    await broken.commit({ branch: 'main', message: 'one', author: AUTHOR, changes: [{ path: 'dir/f', content: 'f' }] });
    const healthy = await engine.createRepo('b-healthy');
    await healthy.commit({ branch: 'main', message: 'one', author: AUTHOR, changes: [{ path: 'f', content: '1' }] });
    await healthy.commit({ branch: 'tmp', message: 'two', author: AUTHOR, changes: [{ path: 'g', content: 'unreachable soon' }], baseBranch: 'main' });
    await healthy.deleteBranch('tmp');
    // Break the first repository: remove its root tree's key from the database.
    const tip = (await broken.listBranches())[0]!.sha as Oid;
    const [c] = await broken.log(tip, { limit: 1 });
    await internalsOf(broken).objects.delete([c!.tree as Oid]);

    const seen: string[] = [];
    const result = await engine.sweep({ onError: (_err, name) => seen.push(name) });
    expect(result.failed).toBe(1);
    expect(result.errors?.map((e) => e.repo)).toEqual(['a-broken']);
    expect(seen).toEqual(['a-broken']);
    expect(result.objects).toBeGreaterThan(0); // b-healthy's unreachable commit, tree and blob
    expect(await internalsOf(healthy).objects.has([(await healthy.log((await healthy.listBranches())[0]!.sha, { limit: 1 }))[0]!.tree as Oid])).toEqual([true]);
    // A healthy engine reports no failures.
    await engine.deleteRepo('a-broken');
    expect(await engine.sweep()).toEqual({ refs: 0, objects: 0 });
  });
});
