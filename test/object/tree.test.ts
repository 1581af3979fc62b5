/**
 * Tree, commit and tag codecs and path rules: fast-check round trips, git's own ids for the
 * same trees and commits (`git mktree`, `git hash-object`), and random bytes that must give
 * InvalidObjectError or a value, never another error.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { encodeTree, decodeTree, compareEntries, nameFromBytes, nameToBytes, type TreeEntry, type FileMode } from '../../src/object/tree.js';
import { encodeCommit, decodeCommit, encodeTag, decodeTag, type Commit } from '../../src/object/commit.js';
import { entryNameProblem, splitPath } from '../../src/object/path.js';
import { hashObject, type Oid } from '../../src/object/oid.js';
import { InvalidObjectError, InvalidPathError } from '../../src/errors.js';
import { git, tempDir } from '../pack/git-helpers.js';

const oidArb = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => Buffer.from(b).toString('hex') as Oid);
const nameArb = fc
  .oneof(fc.string({ minLength: 1, maxLength: 12 }), fc.constantFrom('a', 'a.b', 'a-b', 'a_b', 'a0', 'A', 'é', '日本', 'x y', '.gitignore', '.github'))
  .filter((n) => entryNameProblem(n) === null);
const modeArb = fc.constantFrom<FileMode>('100644', '100755', '120000', '40000', '160000');
const entriesArb = fc.uniqueArray(fc.record({ name: nameArb, mode: modeArb, oid: oidArb }), { maxLength: 30, selector: (e) => e.name });

describe('tree codec', () => {
  it('round-trips any valid entries into git order', () => {
    fc.assert(
      fc.property(entriesArb, (entries) => {
        const body = encodeTree(entries as TreeEntry[]);
        const back = decodeTree(body, true);
        expect(back).toEqual([...entries].sort(compareEntries));
        expect(encodeTree(back)).toEqual(body);
      }),
    );
  });

  it('gives the ids git mktree gives for the same entries', () => {
    const samples = fc.sample(
      entriesArb.filter((e) => e.length > 0),
      { numRuns: 40, seed: 7 },
    );
    const t = tempDir('level-git-tree-');
    try {
      git(undefined, ['init', '-q', '--bare', t.dir]);
      for (const entries of samples) {
        const input = entries
          .map(
            (e) => `${e.mode === '40000' ? '040000' : e.mode} ${e.mode === '40000' ? 'tree' : e.mode === '160000' ? 'commit' : 'blob'} ${e.oid}\t${e.name}\0`,
          )
          .join('');
        // -z: NUL-terminated records, names taken verbatim (no C quoting).
        const gitId = git(t.dir, ['mktree', '-z', '--missing'], input).toString().trim();
        expect(hashObject('tree', encodeTree(entries as TreeEntry[]))).toBe(gitId);
      }
    } finally {
      t.cleanup();
    }
  });

  it('keeps names that are not UTF-8 byte-exact (Latin-1 names of old histories)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 12 }).filter((b) => !b.includes(0) && !b.includes(0x2f)),
        (bytes) => {
          expect(nameToBytes(nameFromBytes(bytes))).toEqual(bytes);
        },
      ),
      { numRuns: 1000 },
    );
    // Git's order is byte order: "caf\xe8" < "caf\xe9" < "cafe", both kept apart.
    const oid = 'cd'.repeat(20);
    const entry = (name: Uint8Array) => Buffer.concat([Buffer.from('100644 '), name, Buffer.from([0]), Buffer.from(oid, 'hex')]);
    const body = new Uint8Array(
      Buffer.concat(
        [entry(Buffer.from('cafe')), entry(Buffer.from([0x63, 0x61, 0x66, 0xe8])), entry(Buffer.from([0x63, 0x61, 0x66, 0xe9]))].sort(Buffer.compare),
      ),
    );
    const entries = decodeTree(body, true);
    expect(entries.length).toBe(3);
    expect(encodeTree(entries)).toEqual(body);
    expect(new Set(entries.map((e) => e.name)).size).toBe(3);
  });

  it('refuses hostile names, bad modes, unsorted and duplicate entries', () => {
    const oid = 'ab'.repeat(20) as Oid;
    const raw = (...lines: [string, string][]) => Buffer.concat(lines.map(([m, n]) => Buffer.concat([Buffer.from(`${m} ${n}\0`), Buffer.from(oid, 'hex')])));
    for (const bad of ['.git', '.GIT', '.Git.', '.git ', 'GIT~1', '..', '.', '', 'a/b', 'a\0b']) {
      expect(() => decodeTree(raw(['100644', bad])), JSON.stringify(bad)).toThrow(InvalidObjectError);
      expect(() => encodeTree([{ name: bad, mode: '100644', oid }]), JSON.stringify(bad)).toThrow(InvalidObjectError);
    }
    expect(() => decodeTree(raw(['100666', 'a']))).toThrow(InvalidObjectError);
    expect(() => decodeTree(raw(['100644', 'b'], ['100644', 'a']))).toThrow(InvalidObjectError);
    expect(() => decodeTree(raw(['100644', 'a'], ['100644', 'a']))).toThrow(InvalidObjectError);
    expect(() => decodeTree(raw(['40000', 'a'], ['100644', 'a']))).toThrow(InvalidObjectError);
    expect(() => decodeTree(raw(['100644', 'a']).subarray(0, 20))).toThrow(InvalidObjectError);
    // Legacy modes from old histories read as their modern form.
    expect(decodeTree(raw(['100664', 'a']))[0]!.mode).toBe('100644');
  });

  it('random bytes: a value or InvalidObjectError, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          decodeTree(bytes, true);
        } catch (err) {
          expect(err).toBeInstanceOf(InvalidObjectError);
        }
      }),
      { numRuns: 500 },
    );
  });
});

const identArb = fc.record({
  name: fc.string({ minLength: 1, maxLength: 20 }).filter((s) => !/[<>\n\0]/.test(s) && s.trim() === s && s.length > 0),
  email: fc.string({ maxLength: 20 }).filter((s) => !/[<>\n\0]/.test(s)),
  timestamp: fc.integer({ min: 0, max: 4_000_000_000 }),
  timezone: fc.constantFrom('+0000', '-0700', '+0530', '+1400'),
});

describe('commit and tag codecs', () => {
  it('round-trip commits (parents, extra headers with continuation lines, any message)', () => {
    fc.assert(
      fc.property(
        oidArb,
        fc.array(oidArb, { maxLength: 3 }),
        identArb,
        identArb,
        fc.string({ maxLength: 60 }),
        fc.option(
          fc.string({ maxLength: 40 }).filter((s) => !s.includes('\n\n') && !s.startsWith('\n') && !s.endsWith('\n')),
          { nil: undefined },
        ),
        (tree, parents, author, committer, message, sig) => {
          const c: Commit = { tree, parents, author, committer, message };
          if (sig !== undefined) c.extraHeaders = [['gpgsig', `-----BEGIN-----\n${sig}\n-----END-----`]];
          const back = decodeCommit(encodeCommit(c));
          expect(back).toEqual(c);
        },
      ),
    );
  });

  it('gives the ids git gives for the same commit and tag bytes, and git fsck accepts them', () => {
    const t = tempDir('level-git-commit-');
    try {
      git(undefined, ['init', '-q', t.dir]);
      const emptyTree = git(t.dir, ['mktree'], '').toString().trim() as Oid;
      const author = { name: 'Ann Example', email: 'ann@example.com', timestamp: 1_700_000_000, timezone: '+0200' };
      const body = encodeCommit({ tree: emptyTree, parents: [], author, committer: author, message: 'subject\n\nbody ünïcode\n' });
      const id = git(t.dir, ['hash-object', '-t', 'commit', '-w', '--stdin'], body).toString().trim();
      expect(hashObject('commit', body)).toBe(id);
      const tag = encodeTag({ object: id as Oid, type: 'commit', tag: 'v1', tagger: author, message: 'release\n' });
      const tagId = git(t.dir, ['hash-object', '-t', 'tag', '-w', '--stdin'], tag).toString().trim();
      expect(hashObject('tag', tag)).toBe(tagId);
      expect(decodeTag(tag)).toEqual({ object: id, type: 'commit', tag: 'v1', tagger: author, message: 'release\n' });
      git(t.dir, ['fsck', '--strict', '--no-dangling']);
      expect(git(t.dir, ['log', '--format=%an|%ae|%at|%ai', id]).toString().trim()).toBe('Ann Example|ann@example.com|1700000000|2023-11-15 00:13:20 +0200');
    } finally {
      t.cleanup();
    }
  });

  it('random bytes: a value or InvalidObjectError, nothing else', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }),
          fc.string({ maxLength: 200 }).map((s) => new TextEncoder().encode(s)),
        ),
        (bytes) => {
          for (const decode of [decodeCommit, decodeTag]) {
            try {
              decode(bytes);
            } catch (err) {
              expect(err).toBeInstanceOf(InvalidObjectError);
            }
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('paths', () => {
  it('splits good paths and refuses every unsafe one', () => {
    expect(splitPath('a/b c/ü.txt')).toEqual(['a', 'b c', 'ü.txt']);
    expect(splitPath('.github/workflows/ci.yml')).toEqual(['.github', 'workflows', 'ci.yml']);
    for (const bad of ['', '/a', 'a/', 'a//b', '..', 'a/../b', './a', '.git', 'x/.GIT/y', 'git~1', 'a\\b', 'a\0b', '.git./x']) {
      expect(() => splitPath(bad), JSON.stringify(bad)).toThrow(InvalidPathError);
    }
    expect(() => splitPath(5)).toThrow(InvalidPathError);
  });
});
