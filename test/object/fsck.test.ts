/**
 * The fsck module's API: the payloads of the hostile-tenant report refused by id, options
 * validated like git's `receive.fsck.<msg-id>`, named blobs followed across a push in any
 * order, reference types (confirmed against git fsck), and hostile bytes that give a report,
 * never an exception.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  FSCK_IDS,
  FsckSession,
  checkNamedBlobs,
  checkObject,
  checkReferenceTypes,
  checkSpecialBlob,
  describeFsckFailure,
  fsckConfig,
  listReferences,
  type FsckReport,
} from '../../src/object/fsck.js';
import { encodeTree, type FileMode, type TreeEntry } from '../../src/object/tree.js';
import { encodeCommit, encodeTag } from '../../src/object/commit.js';
import { hashObject, type ObjectType, type Oid } from '../../src/object/oid.js';
import { InvalidArgumentError } from '../../src/errors.js';
import { GIT_ENV, tempDir } from '../pack/git-helpers.js';
import { ABSENT_BLOB, ABSENT_COMMIT, ABSENT_TREE, rawTree } from './fsck-corpus.js';

const enc = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));
const ids = (r: FsckReport) => r.problems.map((p) => `${p.severity}:${p.id}`);
const ID = 'A <a@example.com> 1700000000 +0000';
const commitBody = (author: string) => enc(`tree ${ABSENT_TREE}\nauthor ${author}\ncommitter ${ID}\n\nm\n`);

describe('checkObject refuses the payloads of the hostile-tenant report', () => {
  const treeCases: [string, string][] = [
    ['.g\u200cit', 'hasDotgit'],
    ['\u200c.git', 'hasDotgit'],
    ['.git\u200c', 'hasDotgit'],
    ['.git::$INDEX_ALLOCATION', 'hasDotgit'],
    ['.git:$DATA', 'hasDotgit'],
    ['git~1', 'hasDotgit'],
    ['.GIT', 'hasDotgit'],
    ['..', 'hasDotdot'],
    ['.', 'hasDot'],
    ['a/b', 'fullPathname'],
  ];
  it.each(treeCases)('tree entry %j → %s', (name, id) => {
    const r = checkObject('tree', rawTree([['100644', name]]));
    expect(r.ok).toBe(false);
    expect(ids(r)).toEqual([`error:${id}`]);
  });

  it('.gitmodules as a symlink', () => {
    expect(ids(checkObject('tree', rawTree([['120000', '.gitmodules']])))).toEqual(['error:gitmodulesSymlink']);
  });

  it.each([
    ['A <a> 1 +99999', 'badTimezone'],
    ['A <a> 18446744073709551616 +0000', 'badDateOverflow'],
    ['A <a> 0123 +0000', 'zeroPaddedDate'],
    ['A <a <b> 1 +0000', 'badEmail'],
    ['A a> 1 +0000', 'badName'],
  ])('commit author %j → %s', (author, id) => {
    expect(ids(checkObject('commit', commitBody(author)))).toEqual([`error:${id}`]);
  });

  it('NUL in a commit header is fatal, even when asked to downgrade everything else', () => {
    const body = enc(`tree ${ABSENT_TREE}\nauthor ${ID}\0\ncommitter ${ID}\n\nm\n`);
    expect(ids(checkObject('commit', body, { severities: { badTimezone: 'ignore' } }))).toEqual(['error:nulInHeader']);
  });

  it.each([
    ['[submodule "../../../../.git/modules/x"]\n\tpath = x\n', 'gitmodulesName'],
    ['[submodule "x"]\n\turl = --upload-pack=touch${IFS}pwned\n', 'gitmodulesUrl'],
    ['[submodule "x"]\n\tpath = -x\n', 'gitmodulesPath'],
    ['[submodule "x"]\n\tupdate = !sh\n', 'gitmodulesUpdate'],
  ])('.gitmodules %j → %s', (text, id) => {
    const r = checkSpecialBlob('gitmodules', { type: 'blob', body: enc(text) });
    expect(ids(r)).toEqual([`error:${id}`]);
  });
});

describe('reports', () => {
  it('are one shared frozen object for clean objects, and name the special blobs of trees', () => {
    const clean = checkObject('commit', commitBody(ID));
    expect(clean).toEqual({ ok: true, problems: [], gitmodules: [], gitattributes: [] });
    expect(checkObject('blob', enc('anything'))).toBe(clean);
    const t = checkObject(
      'tree',
      rawTree([
        ['100644', '.gitattributes', 'ab'.repeat(20)],
        ['100644', '.gitmodules', 'cd'.repeat(20)],
        ['100644', 'x\\.gitmodules', 'cd'.repeat(20)],
      ]),
    );
    expect(t).toEqual({ ok: true, problems: [], gitmodules: ['cd'.repeat(20)], gitattributes: ['ab'.repeat(20)] });
  });

  it('accept what the codecs write', () => {
    const oid = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => Buffer.from(b).toString('hex') as Oid);
    const name = fc.stringMatching(/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,11}$/);
    const mode = fc.constantFrom<FileMode>('100644', '100755', '120000', '40000', '160000');
    const entries = fc.uniqueArray(fc.record({ name, mode, oid }), { maxLength: 20, selector: (e) => e.name });
    const who = fc.record({
      name: fc.stringMatching(/^[^<>\n\0]{0,10}$/),
      email: fc.stringMatching(/^[^<>\n\0]{0,10}$/),
      timestamp: fc.integer({ min: 0, max: 2 ** 40 }),
      timezone: fc.constantFrom('+0000', '-0130', '+1400'),
    });
    fc.assert(
      fc.property(entries, oid, fc.array(oid, { maxLength: 3 }), who, fc.string(), (es, t, parents, person, message) => {
        expect(ids(checkObject('tree', encodeTree(es as TreeEntry[])))).toEqual([]);
        expect(ids(checkObject('commit', encodeCommit({ tree: t, parents, author: person, committer: person, message })))).toEqual([]);
        expect(ids(checkObject('tag', encodeTag({ object: t, type: 'commit', tag: 'v1.0', tagger: person, message })))).toEqual([]);
      }),
      { seed: 11, numRuns: 200 },
    );
  });

  it('give a report, never an exception, for any bytes', () => {
    fc.assert(
      fc.property(fc.constantFrom<ObjectType>('tree', 'commit', 'tag'), fc.uint8Array({ maxLength: 200 }), (type, body) => {
        const r = checkObject(type, body);
        expect(r.ok).toBe(!r.problems.some((p) => p.severity === 'error'));
        listReferences(type, body);
        checkSpecialBlob('gitmodules', { type: 'blob', body });
        checkSpecialBlob('gitattributes', { type: 'blob', body });
      }),
      { seed: 5, numRuns: 2000 },
    );
  });

  it('keep refusing what git cannot parse when the matching id is downgraded', () => {
    const body = enc(`tree nothex\nauthor ${ID}\ncommitter ${ID}\n\nm\n`);
    expect(ids(checkObject('commit', body))).toEqual(['error:badTreeSha1']);
    const lenient = checkObject('commit', body, { severities: { badTreeSha1: 'warn' } });
    expect(lenient.ok).toBe(false);
    expect(ids(lenient)).toEqual(['warn:badTreeSha1', 'error:badTreeSha1']);
    // A tag too short for git's parser, with only warnings of its own.
    const short = checkObject('tag', enc(`object ${ABSENT_COMMIT}\ntype tag\ntag \n`));
    expect(short.ok).toBe(false);
  });

  it('describe the first error for an error message', () => {
    const r = checkObject('tree', rawTree([['100644', '.git']]));
    const d = describeFsckFailure('ab'.repeat(20) as Oid, 'tree', r)!;
    expect(d.message).toMatch(/^tree abab\S+: hasDotgit: /);
    expect(d.details).toMatchObject({ id: 'hasDotgit', problems: [{ id: 'hasDotgit', severity: 'error' }] });
    expect(describeFsckFailure('ab'.repeat(20) as Oid, 'tree', checkObject('tree', new Uint8Array()))).toBeNull();
  });
});

describe('options', () => {
  it('downgrade, raise and ignore ids, matched case-insensitively', () => {
    const body = commitBody('A <a> 1 +99999');
    expect(ids(checkObject('commit', body, { severities: { badTimezone: 'warn' } }))).toEqual(['warn:badTimezone']);
    expect(ids(checkObject('commit', body, { severities: { BADTIMEZONE: 'ignore' } }))).toEqual([]);
    const untagged = enc(`object ${ABSENT_COMMIT}\ntype commit\ntag v1\n\nm\n`);
    expect(ids(checkObject('tag', untagged))).toEqual(['warn:missingTaggerEntry']);
    expect(ids(checkObject('tag', untagged, { severities: { missingTaggerEntry: 'error' } }))).toEqual(['error:missingTaggerEntry']);
  });

  it('without strict, warnings stay warnings and mode 100664 is fine', () => {
    const tree = rawTree([['100664', '.git']]);
    expect(ids(checkObject('tree', tree))).toEqual(['error:hasDotgit', 'warn:badFilemode']);
    expect(ids(checkObject('tree', tree, { strict: false }))).toEqual(['warn:hasDotgit']);
  });

  it('are validated', () => {
    expect(() => checkObject('tree', new Uint8Array(), { severities: { noSuchId: 'warn' } })).toThrow(InvalidArgumentError);
    expect(() => checkObject('tree', new Uint8Array(), { severities: { hasDotgit: 'info' as 'warn' } })).toThrow(InvalidArgumentError);
    expect(() => checkObject('tree', new Uint8Array(), { severities: { nulInHeader: 'warn' } })).toThrow(/cannot be downgraded/);
    expect(() => checkObject('tree', new Uint8Array(), { strict: 'yes' as unknown as boolean })).toThrow(InvalidArgumentError);
    expect(() => fsckConfig({ severities: { unterminatedHeader: 'error' } })).not.toThrow();
  });

  it('are resolved once: a config or the same options object is reused', () => {
    const options = { severities: { hasDot: 'warn' as const } };
    expect(fsckConfig(options)).toBe(fsckConfig(options));
    const config = fsckConfig(options);
    expect(fsckConfig(config)).toBe(config);
    expect(FSCK_IDS).toContain('gitmodulesUrl');
  });
});

describe('FsckSession', () => {
  const bad = enc('[submodule "x"]\n\turl = -x\n');
  const badOid = hashObject('blob', bad);
  const tree = rawTree([['100644', '.gitmodules', badOid]]);
  const treeOid = hashObject('tree', tree);

  it('checks a named blob that arrives after its tree', () => {
    const s = new FsckSession();
    expect(s.check(treeOid, 'tree', tree).ok).toBe(true);
    expect(ids(s.check(badOid, 'blob', bad))).toEqual(['error:gitmodulesUrl']);
    expect(s.pending()).toEqual([]);
  });

  it('lists a named blob that came before its tree, or not at all, as pending', () => {
    const s = new FsckSession();
    expect(s.check(badOid, 'blob', bad).ok).toBe(true);
    s.check(treeOid, 'tree', tree);
    expect(s.pending()).toEqual([{ oid: badOid, kind: 'gitmodules' }]);
    expect(ids(s.checkPending(badOid, 'gitmodules', { type: 'blob', body: bad }))).toEqual(['error:gitmodulesUrl']);
    expect(s.pending()).toEqual([]);
    // Checked once per kind.
    expect(s.checkPending(badOid, 'gitmodules', { type: 'blob', body: bad }).ok).toBe(true);
  });

  it('checks the named blobs of one tree when they are in hand', () => {
    const attrs = enc('x'.repeat(3000));
    const attrsOid = hashObject('blob', attrs);
    const both = rawTree([
      ['100644', '.gitattributes', attrsOid],
      ['100644', '.gitmodules', badOid],
      ['100644', 'gitmod~1', ABSENT_BLOB],
    ]);
    const blobs = new Map([
      [badOid, bad],
      [attrsOid, attrs],
    ]);
    const found = checkNamedBlobs(checkObject('tree', both), (oid) => (blobs.has(oid) ? { type: 'blob', body: blobs.get(oid)! } : undefined));
    expect([...found].map(([oid, r]) => [oid, ids(r)])).toEqual([
      [badOid, ['error:gitmodulesUrl']],
      [ABSENT_BLOB, ['error:gitmodulesMissing']],
      [attrsOid, ['error:gitattributesLineLength']],
    ]);
  });

  it('refuses a named blob too large to hold, and needs the body of other objects', () => {
    const s = new FsckSession();
    s.check(treeOid, 'tree', tree);
    expect(ids(s.check(badOid, 'blob', null))).toEqual(['error:gitmodulesLarge']);
    expect(s.check(ABSENT_BLOB, 'blob', null).ok).toBe(true);
    expect(() => s.check(treeOid, 'tree', null)).toThrow(InvalidArgumentError);
  });

  it('reports missing, non-blob and unreadable named objects', () => {
    expect(ids(checkSpecialBlob('gitmodules', undefined))).toEqual(['error:gitmodulesMissing']);
    expect(ids(checkSpecialBlob('gitattributes', { type: 'tree', body: new Uint8Array() }))).toEqual(['error:gitattributesBlob']);
    expect(ids(checkSpecialBlob('gitmodules', { type: 'blob', body: null }))).toEqual(['error:gitmodulesLarge']);
    expect(ids(checkSpecialBlob('gitattributes', { type: 'blob', body: null }))).toEqual(['error:gitattributesLarge']);
  });
});

describe('reference types', () => {
  const blob = enc('content\n');
  const blobOid = hashObject('blob', blob);
  const goodTree = rawTree([['100644', 'f', blobOid]]);
  const goodTreeOid = hashObject('tree', goodTree);
  const commitOf = (tree: string, parent?: string) => enc(`tree ${tree}\n${parent ? `parent ${parent}\n` : ''}author ${ID}\ncommitter ${ID}\n\nm\n`);
  const goodCommit = commitOf(goodTreeOid);
  const goodCommitOid = hashObject('commit', goodCommit);
  const known = new Map<string, ObjectType>([
    [blobOid, 'blob'],
    [goodTreeOid, 'tree'],
    [goodCommitOid, 'commit'],
  ]);
  const lookup = (oid: Oid) => known.get(oid);

  const cases: [string, ObjectType, Uint8Array][] = [
    ['commit whose tree is a blob', 'commit', commitOf(blobOid)],
    ['commit whose parent is a tree', 'commit', commitOf(goodTreeOid, goodTreeOid)],
    ['tree entry 40000 pointing at a blob', 'tree', rawTree([['40000', 'd', blobOid]])],
    ['tree entry 100644 pointing at a tree', 'tree', rawTree([['100644', 'f', goodTreeOid]])],
    ['tree entry 120000 pointing at a commit', 'tree', rawTree([['120000', 'l', goodCommitOid]])],
    ['tag saying commit of a blob', 'tag', enc(`object ${blobOid}\ntype commit\ntag v1\ntagger ${ID}\n\nm\n`)],
  ];

  it('lists references with the type each must have (gitlinks not followed)', () => {
    const tree = rawTree([
      ['40000', 'd', ABSENT_TREE],
      ['100755', 'x', ABSENT_BLOB],
      ['160000', 's', ABSENT_COMMIT],
      ['120000', 'y', ABSENT_BLOB],
    ]);
    expect(listReferences('tree', tree).map((r) => `${r.type}:${r.oid.slice(0, 4)}`)).toEqual(['tree:2222', 'blob:1111', 'blob:1111']);
    expect(listReferences('commit', commitOf(goodTreeOid, goodCommitOid))).toEqual([
      { oid: goodTreeOid, type: 'tree', role: 'tree' },
      { oid: goodCommitOid, type: 'commit', role: 'parent' },
    ]);
    expect(listReferences('tag', enc(`object ${blobOid}\ntype blob\ntag v1\n`))).toEqual([{ oid: blobOid, type: 'blob', role: 'tagged' }]);
  });

  it.each(cases)('refuses a %s, as git fsck does', (_label, type, body) => {
    const problems = checkReferenceTypes(type, body, lookup);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.message).toMatch(/is a (blob|tree|commit), not a (blob|tree|commit)$/);
    // git agrees: fsck of a repository where a ref reaches the object fails.
    expect(gitFsckPasses(type, body)).toBe(false);
  });

  it('accepts the right types, and says which references are missing', () => {
    expect(checkReferenceTypes('commit', goodCommit, lookup)).toEqual([]);
    expect(checkReferenceTypes('tree', goodTree, lookup)).toEqual([]);
    expect(gitFsckPasses('commit', goodCommit)).toBe(true);
    const missing = checkReferenceTypes(
      'tree',
      rawTree([
        ['40000', 'gone', ABSENT_TREE],
        ['160000', 'sub', ABSENT_COMMIT],
      ]),
      lookup,
    );
    expect(missing).toMatchObject([{ oid: ABSENT_TREE, type: 'tree', actual: null, name: 'gone' }]);
  });

  function gitFsckPasses(type: ObjectType, body: Uint8Array): boolean {
    const t = tempDir('level-git-fsck-links-');
    try {
      const repo = join(t.dir, 'r.git');
      execFileSync('git', ['init', '-q', '--bare', repo], { env: GIT_ENV });
      const put = (ty: ObjectType, b: Uint8Array) =>
        execFileSync('git', ['hash-object', '--literally', '-w', '-t', ty, '--stdin'], { cwd: repo, env: GIT_ENV, input: b }).toString().trim();
      put('blob', blob);
      put('tree', goodTree);
      put('commit', goodCommit);
      const oid = put(type, body);
      // Reach it from a ref so that git walks its links.
      const tip = type === 'commit' ? oid : put('commit', enc(`tree ${type === 'tree' ? oid : goodTreeOid}\nauthor ${ID}\ncommitter ${ID}\n\nm\n`));
      // Written as files: update-ref itself would refuse some of these objects first.
      writeFileSync(join(repo, 'refs', 'heads', 'main'), `${tip}\n`);
      if (type === 'tag') writeFileSync(join(repo, 'refs', 'tags', 't'), `${oid}\n`);
      execFileSync('git', ['fsck', '--strict', '--no-dangling'], { cwd: repo, env: GIT_ENV, stdio: 'pipe' });
      return true;
    } catch (e) {
      // Only git fsck may fail here, and with something to say about a link or a type.
      expect((e as { stderr?: Buffer }).stderr?.toString() ?? '').toMatch(
        /broken link|wrong object type|is a (blob|tree|commit|tag), not a|could not be parsed/,
      );
      return false;
    } finally {
      t.cleanup();
    }
  }
});
