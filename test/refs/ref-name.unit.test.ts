/**
 * Ref names (src/refs/ref-name.ts) against a model written from git's check-ref-format
 * documentation, and the ref-policy patterns (src/access/ref-policy.ts) against the same rule.
 * The differential against the git binary itself is in test/api/api-edge-cases.test.ts (full tier).
 */
import fc from 'fast-check';
import { MemoryLevel } from 'memory-level';
import { describe, expect, it } from 'vitest';
import { refPatternProblem } from '../../src/access/ref-policy.js';
import { InvalidRefNameError } from '../../src/errors.js';
import { openEngine } from '../../src/index.js';
import { branchRef, isRefName, MAX_REF_NAME_LENGTH, parseRefName, refNameProblem, tagRef } from '../../src/refs/ref-name.js';
import { AUTHOR } from '../engine/helpers.js';

/** True when `s` has no lone surrogate (it has a UTF-8 form). */
const wellFormed = (s: string) => new TextDecoder().decode(new TextEncoder().encode(s)) === s;

/** git check-ref-format's rules, one per line of its documentation (no --allow-onelevel, no --normalize). */
function gitAccepts(name: string): boolean {
  const comps = name.split('/');
  if (comps.some((c) => c.startsWith('.') || c.endsWith('.lock'))) return false; // rule 1
  if (name.includes('..')) return false; // rule 3
  if ([...name].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f || ' ~^:'.includes(ch))) return false; // rule 4
  if (/[?*[]/.test(name)) return false; // rule 5
  if (name.startsWith('/') || name.endsWith('/') || name.includes('//')) return false; // rule 6
  if (name.endsWith('.')) return false; // rule 7
  if (name.includes('@{')) return false; // rule 8
  if (name === '@') return false; // rule 9
  if (name.includes('\\')) return false; // rule 10
  if (!wellFormed(name)) return false; // level-git stores names as UTF-8: no lone surrogates
  return name.length > 0;
}

/** What level-git adds: a full name under refs/ with at least three components, bounded length. */
const levelGitAccepts = (name: string) => gitAccepts(name) && name.startsWith('refs/') && name.split('/').length >= 3 && name.length <= MAX_REF_NAME_LENGTH;

// Strings built from the characters the rules are about, so most runs hit an edge.
const TRICKY = [
  'a',
  'b',
  'x',
  '.',
  '.',
  '/',
  '/',
  '@',
  '{',
  '}',
  '-',
  'l',
  'o',
  'c',
  'k',
  '.lock',
  '~',
  '^',
  ':',
  '?',
  '*',
  '[',
  '\\',
  ' ',
  '\t',
  '\x00',
  '\x7f',
  'ü',
  'ß',
  '\ud83d\ude00',
  '\ud800',
  '\udc00',
];
const tricky = fc.array(fc.constantFrom(...TRICKY), { maxLength: 12 }).map((a) => a.join(''));
const candidate = fc.oneof(
  tricky,
  tricky.map((s) => `refs/heads/${s}`),
  tricky.map((s) => `refs/${s}`),
);
// Names that are valid: components of safe characters (a trailing '.' or a leading '.' is never produced).
const component = fc
  .stringMatching(/^[a-zA-Z0-9_+=,@-][a-zA-Z0-9_+=,@.-]{0,10}[a-zA-Z0-9_+=,@-]?$/)
  .filter((c) => !c.includes('..') && !c.includes('@{') && !c.endsWith('.lock'));
const validName = fc
  .tuple(fc.constantFrom('refs/heads', 'refs/tags', 'refs/notes', 'refs'), fc.array(component, { minLength: 1, maxLength: 4 }))
  .map(([root, cs]) => [root, ...cs].join('/'))
  .filter(levelGitAccepts);

const PROPS = { seed: 8_007, numRuns: 1000 } as const;

describe('refNameProblem / parseRefName', () => {
  it('agrees with the check-ref-format model on tricky strings', () => {
    fc.assert(
      fc.property(candidate, (name) => {
        expect(refNameProblem(name) === null, JSON.stringify(name)).toBe(gitAccepts(name) && name.length <= MAX_REF_NAME_LENGTH);
        expect(isRefName(name), JSON.stringify(name)).toBe(levelGitAccepts(name));
      }),
      PROPS,
    );
  });

  it('accepts known good names and refuses each known bad form', () => {
    const good = [
      'refs/heads/\ud83d\ude00',
      'refs/heads/main',
      'refs/heads/a/b/c',
      'refs/heads/ü-ß',
      'refs/heads/-dash',
      'refs/heads/@',
      'refs/heads/a@b',
      'refs/heads/x.y',
      'refs/tags/v1.0',
      'refs/heads/a.locks',
      'refs/heads/lock',
      'refs/heads/{x}',
    ];
    for (const n of good) expect(parseRefName(n)).toBe(n);
    const bad = [
      '',
      '@',
      'refs/heads/a..b',
      'refs/heads/a.lock',
      'refs/heads/a/b.lock/c',
      'refs/heads/.a',
      'refs/heads/a/.b',
      'refs/heads/a b',
      'refs/heads/a~1',
      'refs/heads/a^',
      'refs/heads/a:b',
      'refs/heads/a?',
      'refs/heads/a*',
      'refs/heads/a[',
      'refs/heads/a\\b',
      'refs/heads/a/',
      'refs/heads//a',
      '/refs/heads/a',
      'refs/heads/a.',
      'refs/heads/a@{1}',
      'refs/heads/a\tb',
      'refs/heads/a\u007fb',
      'refs/heads/a\u0000b',
      'refs/heads/a\nb',
      'refs/heads/a\ud800',
      'refs/heads/\udc00a',
      'refs/heads/\ude00\ud83d',
    ];
    for (const n of bad) {
      expect(refNameProblem(n), JSON.stringify(n)).not.toBeNull();
      expect(() => parseRefName(n), JSON.stringify(n)).toThrow(InvalidRefNameError);
    }
  });

  it('requires a full name under refs/ with at least three components', () => {
    for (const n of ['HEAD', 'main', 'heads/main', 'refs/heads', 'refs/main', 'tags/v1']) {
      expect(refNameProblem(n), n).toBeNull(); // well-formed for git...
      expect(isRefName(n), n).toBe(false); // ...but not a full name
      expect(() => parseRefName(n), n).toThrow(InvalidRefNameError);
    }
    for (const v of [undefined, null, 1, {}, ['refs/heads/a']]) {
      expect(isRefName(v)).toBe(false);
      expect(() => parseRefName(v)).toThrow(InvalidRefNameError);
    }
  });

  it('bounds the length', () => {
    const at = 'refs/heads/' + 'a'.repeat(MAX_REF_NAME_LENGTH - 'refs/heads/'.length);
    expect(parseRefName(at)).toBe(at);
    expect(() => parseRefName(at + 'a')).toThrow(InvalidRefNameError);
  });

  it('every accepted name round-trips unchanged, and a forbidden character anywhere refuses it', () => {
    fc.assert(
      fc.property(validName, fc.nat(), fc.constantFrom(' ', '~', '^', ':', '?', '*', '[', '\\', '\x01', '\x7f'), (name, at, bad) => {
        expect(parseRefName(name)).toBe(name);
        expect(isRefName(name)).toBe(true);
        const i = 5 + (at % (name.length - 4)); // after "refs/"
        expect(refNameProblem(name.slice(0, i) + bad + name.slice(i))).not.toBeNull();
      }),
      PROPS,
    );
  });

  it('the error carries the refused name', () => {
    try {
      parseRefName('refs/heads/a..b');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidRefNameError);
      expect((e as InvalidRefNameError).details).toEqual({ ref: 'refs/heads/a..b' });
    }
  });
});

describe('branchRef / tagRef', () => {
  it('qualify a short name once: qualifying is idempotent', () => {
    fc.assert(
      fc.property(candidate, (name) => {
        for (const [qualify, prefix] of [
          [branchRef, 'refs/heads/'],
          [tagRef, 'refs/tags/'],
        ] as const) {
          let full: string;
          try {
            full = qualify(name);
          } catch (e) {
            expect(e).toBeInstanceOf(InvalidRefNameError);
            continue;
          }
          expect(full.startsWith(prefix)).toBe(true);
          expect(full === name || full === prefix + name).toBe(true);
          expect(qualify(full)).toBe(full);
          expect(isRefName(full)).toBe(true);
        }
      }),
      PROPS,
    );
  });

  it('accept short and full forms alike and refuse non-strings', () => {
    expect(branchRef('main')).toBe('refs/heads/main');
    expect(branchRef('refs/heads/main')).toBe('refs/heads/main');
    expect(branchRef('feature/x')).toBe('refs/heads/feature/x');
    expect(tagRef('v1')).toBe('refs/tags/v1');
    expect(tagRef('refs/tags/v1')).toBe('refs/tags/v1');
    // A full name of the other kind is a short name here, nested under the prefix.
    expect(branchRef('refs/tags/v1')).toBe('refs/heads/refs/tags/v1');
    for (const bad of ['', 'a..b', '-/x/', 'x.lock', 'a b']) {
      expect(() => branchRef(bad), bad).toThrow(InvalidRefNameError);
      expect(() => tagRef(bad), bad).toThrow(InvalidRefNameError);
    }
    expect(() => branchRef(3)).toThrow(InvalidRefNameError);
    expect(() => tagRef(undefined)).toThrow(InvalidRefNameError);
  });
});

describe('ref policy patterns follow the same rule', () => {
  /** A pattern is `refname` or `refdir/*`, starting with refs/ (or exactly `refs/*`), at most 256 characters. */
  const patternAccepted = (p: string) => {
    if (p.length === 0 || p.length > 256) return false;
    const glob = p.endsWith('/*');
    const base = glob ? p.slice(0, -2) : p;
    if (glob && base === 'refs') return true;
    return base.startsWith('refs/') && gitAccepts(base);
  };

  it('accepts exactly the well-formed names under refs/, with an optional /* suffix', () => {
    const pattern = fc.oneof(
      candidate,
      candidate.map((s) => `${s}/*`),
      fc.constantFrom('refs/*', 'refs', '/*', '*', 'refs/heads/*', 'refs/heads/a*', 'refs/*/x'),
    );
    fc.assert(
      fc.property(pattern, (p) => {
        expect(refPatternProblem(p) === null, JSON.stringify(p)).toBe(patternAccepted(p));
      }),
      PROPS,
    );
  });

  it('every valid ref name is a valid pattern', () => {
    fc.assert(
      fc.property(
        validName.filter((n) => n.length <= 254),
        (n) => {
          expect(refPatternProblem(n)).toBeNull();
          expect(refPatternProblem(`${n}/*`)).toBeNull();
        },
      ),
      PROPS,
    );
  });
});

describe('names the store could not keep apart', () => {
  // Ref keys are UTF-8: "x\ud800" was stored as "x\ufffd", listed under another name, and
  // shared its key with the branch really named "x\ufffd".
  it('a branch named with a lone surrogate is refused, not stored under U+FFFD', async () => {
    const db = new MemoryLevel();
    const engine = await openEngine({ db });
    try {
      const repo = await engine.createRepo('r');
      const { sha } = await repo.commit({ branch: 'main', message: 'm', author: AUTHOR, changes: [{ path: 'a', content: 'a' }] });
      await expect(repo.createBranch('x\ud800', sha)).rejects.toThrow(InvalidRefNameError);
      await repo.createBranch('x\ufffd', sha);
      expect((await repo.listBranches()).map((b) => b.name).sort()).toEqual(['main', 'x\ufffd']);
    } finally {
      await engine.close();
      await db.close();
    }
  });
});
