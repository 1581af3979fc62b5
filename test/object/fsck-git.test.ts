/**
 * Differential test of the fsck checks against git's own: every corpus object (and a
 * fast-check sample of tree names around the dangerous spellings) is written as a loose
 * object into a bare repository, `git fsck --no-dangling` runs over it (strict, non-strict,
 * and with `fsck.<msg-id>` overrides), and the message ids and levels git prints for each
 * object must be exactly those of our report. Objects git cannot parse at all (it says
 * "object could not be parsed", with no message id) must be refused by our checks too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { FsckSession, checkObject, type FsckOptions } from '../../src/object/fsck.js';
import { hashObject, objectHeader, type ObjectType, type Oid } from '../../src/object/oid.js';
import { GIT_ENV, tempDir } from '../pack/git-helpers.js';
import { buildCorpus, rawTree, type CorpusObject } from './fsck-corpus.js';

function writeLoose(repo: string, type: ObjectType, body: Uint8Array): Oid {
  const oid = hashObject(type, body);
  const dir = join(repo, 'objects', oid.slice(0, 2));
  const file = join(dir, oid.slice(2));
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, deflateSync(Buffer.concat([objectHeader(type, body.length), body])));
  }
  return oid;
}

interface GitVerdict {
  /** "error:id" / "warning:id" lines per object, sorted. */
  findings: Map<string, string[]>;
  /** Objects git could not parse (refused without an id). */
  unparsable: Set<string>;
}

function runFsck(repo: string, config: string[], strict: boolean): GitVerdict {
  const args = [...config.flatMap((c) => ['-c', c]), 'fsck', '--no-dangling', '--no-progress', ...(strict ? ['--strict'] : [])];
  let out: string;
  try {
    out = execFileSync('git', args, { cwd: repo, env: GIT_ENV, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 26 }).toString('latin1');
  } catch (e) {
    const err = e as { stdout: Buffer; stderr: Buffer };
    out = err.stdout.toString('latin1') + err.stderr.toString('latin1');
  }
  const findings = new Map<string, string[]>();
  const unparsable = new Set<string>();
  for (const line of out.split('\n')) {
    const m = /^(error|warning) in \w+ ([0-9a-f]{40}): (\w+): /.exec(line);
    if (m !== null) {
      const list = findings.get(m[2]!) ?? [];
      list.push(`${m[1] === 'error' ? 'error' : 'warn'}:${m[3]}`);
      findings.set(m[2]!, list);
      continue;
    }
    const u = /^error: ([0-9a-f]{40}): object could not be parsed/.exec(line);
    if (u !== null) unparsable.add(u[1]!);
  }
  for (const list of findings.values()) list.sort();
  return { findings, unparsable };
}

/** Our findings per object over the whole set, with named blobs resolved from the set. */
function ourFindings(objects: readonly CorpusObject[], options: FsckOptions): Map<string, { list: string[]; ok: boolean }> {
  const session = new FsckSession(options);
  const byOid = new Map<Oid, CorpusObject>();
  const result = new Map<string, { list: string[]; ok: boolean }>();
  const addReport = (oid: Oid, report: { ok: boolean; problems: readonly { id: string; severity: string }[] }) => {
    const r = result.get(oid) ?? { list: [], ok: true };
    for (const p of report.problems) r.list.push(`${p.severity}:${p.id}`);
    r.ok &&= report.ok;
    result.set(oid, r);
  };
  for (const o of objects) {
    const oid = hashObject(o.type, o.body);
    byOid.set(oid, o);
    addReport(oid, session.check(oid, o.type, o.body));
  }
  for (const p of session.pending()) {
    const o = byOid.get(p.oid);
    addReport(p.oid, session.checkPending(p.oid, p.kind, o && { type: o.type, body: o.body }));
  }
  for (const r of result.values()) r.list.sort();
  return result;
}

function compare(objects: readonly CorpusObject[], git: GitVerdict, ours: Map<string, { list: string[]; ok: boolean }>): string[] {
  const mismatches: string[] = [];
  const labels = new Map<string, string>();
  for (const o of objects) labels.set(hashObject(o.type, o.body), o.label);
  const oids = new Set([...labels.keys(), ...git.findings.keys(), ...ours.keys()]);
  for (const oid of oids) {
    const label = labels.get(oid) ?? '(not in corpus)';
    const mine = ours.get(oid) ?? { list: [], ok: true };
    if (git.unparsable.has(oid)) {
      if (mine.ok) mismatches.push(`${label} ${oid}: git cannot parse it, we pass it`);
      continue;
    }
    const theirs = git.findings.get(oid) ?? [];
    if (theirs.join(' ') !== mine.list.join(' ')) mismatches.push(`${label} ${oid}: git [${theirs.join(' ')}] ours [${mine.list.join(' ')}]`);
  }
  return mismatches;
}

// Overrides for the third run: some downgraded, some raised, some ignored.
const OVERRIDES: Record<string, 'error' | 'warn' | 'ignore'> = {
  badTimezone: 'warn',
  zeroPaddedDate: 'warn',
  missingSpaceBeforeEmail: 'warn',
  hasDotgit: 'ignore',
  missingTaggerEntry: 'error',
  extraHeaderEntry: 'error',
  gitmodulesUrl: 'warn',
  gitmodulesName: 'ignore',
  badFilemode: 'error',
  treeNotSorted: 'warn',
  badTagName: 'ignore',
  badTreeSha1: 'warn',
};

describe('fsck checks against git fsck', () => {
  let tmp: ReturnType<typeof tempDir>;
  let repo: string;
  const corpus = buildCorpus();

  beforeAll(() => {
    tmp = tempDir('level-git-fsck-');
    repo = join(tmp.dir, 'corpus.git');
    execFileSync('git', ['init', '-q', '--bare', repo], { env: GIT_ENV });
    for (const o of corpus) writeLoose(repo, o.type, o.body);
  });
  afterAll(() => tmp?.cleanup());

  it('has no two corpus entries with the same bytes', () => {
    const seen = new Map<string, string>();
    for (const o of corpus) {
      const oid = hashObject(o.type, o.body);
      expect(seen.get(oid), `${o.label} repeats ${seen.get(oid)}`).toBeUndefined();
      seen.set(oid, o.label);
    }
  });

  it('reports what git fsck --strict reports (receive.fsckObjects levels)', () => {
    const git = runFsck(repo, [], true);
    expect(compare(corpus, git, ourFindings(corpus, {}))).toEqual([]);
    // The corpus does exercise both sides: refusals, warnings and clean objects.
    expect([...git.findings.values()].flat().filter((f) => f.startsWith('error:')).length).toBeGreaterThan(100);
    expect([...git.findings.values()].flat().some((f) => f.startsWith('warn:'))).toBe(true);
  });

  it('reports what git fsck reports without --strict', () => {
    expect(compare(corpus, runFsck(repo, [], false), ourFindings(corpus, { strict: false }))).toEqual([]);
  });

  it('follows fsck.<msg-id> overrides as git does', () => {
    const config = Object.entries(OVERRIDES).map(([id, level]) => `fsck.${id}=${level}`);
    expect(compare(corpus, runFsck(repo, config, true), ourFindings(corpus, { severities: OVERRIDES }))).toEqual([]);
  });

  it('agrees with git on generated tree names around .git, .gitmodules and friends', () => {
    // A core name (or its short form), case changed, an HFS-ignorable code point or other
    // byte slipped in somewhere, NTFS-style tails, and sometimes a backslash-separated prefix.
    const cores = [
      '.git',
      'git~1',
      '.gitmodules',
      'gitmod~1',
      'gi7eba~1',
      'gi7eba~9',
      '.gitattributes',
      'gitatt~2',
      '.gitignore',
      '.mailmap',
      'maba30~1',
      'x',
      '..',
      '.',
    ];
    const inserts = ['\u200c', '\u200d', '\u200e', '\u202a', '\u206f', '\ufeff', '\u00e9', '\u2000', 'x', '.', ' '];
    const tails = [' ', '.', '. .', ':', '::$INDEX_ALLOCATION', ':$DATA', '/x', '\\x', '~1', 'x', '\u200c'];
    // Each change is absent most of the time, so that many names stay dangerous.
    const sometimes = (values: string[]) => fc.oneof({ arbitrary: fc.constant(''), weight: 2 }, { arbitrary: fc.constantFrom(...values), weight: 1 });
    const nameArb = fc
      .record({
        core: fc.constantFrom(...cores),
        upper: fc.boolean(),
        insert: sometimes(inserts),
        at: fc.nat(),
        tail: sometimes(tails),
        prefix: sometimes(['a\\', '\\', '\u200c']),
      })
      .map(({ core, upper, insert, at, tail, prefix }) => {
        const c = upper ? core.toUpperCase() : core;
        const i = at % (c.length + 1);
        return prefix + c.slice(0, i) + insert + c.slice(i) + tail;
      });
    const samples = fc.sample(fc.tuple(nameArb, fc.constantFrom('100644', '120000', '40000')), { numRuns: 400, seed: 20260101 });
    const unique = new Map<string, CorpusObject>();
    for (const [name, mode] of samples) {
      const body = rawTree([[mode, name]]);
      unique.set(hashObject('tree', body), { label: `generated ${mode} ${JSON.stringify(name)}`, type: 'tree', body });
    }
    const objects = [...unique.values()];
    const dir = join(tmp.dir, 'generated.git');
    execFileSync('git', ['init', '-q', '--bare', dir], { env: GIT_ENV });
    for (const o of objects) writeLoose(dir, o.type, o.body);
    const git = runFsck(dir, [], true);
    // Named .gitmodules blobs are absent here: git says gitmodulesMissing, so do we.
    expect(compare(objects, git, ourFindings(objects, {}))).toEqual([]);
    // The names do land on both sides of git's rules.
    const flagged = objects.filter((o) => git.findings.has(hashObject(o.type, o.body))).length;
    const named = objects.filter((o) => checkObject('tree', o.body).gitmodules.length > 0).length;
    expect(objects.length).toBeGreaterThan(300);
    expect(flagged).toBeGreaterThan(objects.length / 8);
    expect(flagged).toBeLessThan(objects.length);
    expect(named).toBeGreaterThan(objects.length / 20);
  });
  it('agrees with git on generated identities and tag names', () => {
    const identTokens = [
      'A',
      ' ',
      ' ',
      '<',
      '>',
      'a@b',
      '0',
      '1',
      '01',
      '17',
      '-',
      '+',
      '0000',
      '0130',
      '\t',
      'x',
      '9223372036854775808',
      '18446744073709551616',
    ];
    const ident = fc.array(fc.constantFrom(...identTokens), { minLength: 1, maxLength: 10 }).map((t) => t.join(''));
    const wellFormed = fc
      .tuple(
        fc.constantFrom('A', '', 'A B'),
        fc.constantFrom(' ', ''),
        fc.constantFrom('a@b', ''),
        fc.constantFrom(' ', '  ', ''),
        fc.constantFrom('0', '1', '01', '-1', 'x', '', '9223372036854775807'),
        fc.constantFrom(' ', ''),
        fc.constantFrom('+0000', '-1230', '+000', '+00000', '0000', '+00x0', ''),
      )
      .map(([n, s1, e, s2, d, s3, z]) => `${n}${s1}<${e}>${s2}${d}${s3}${z}`);
    const nameTokens = ['a', 'b', '.', '/', '@', '{', '.lock', '*', ' ', '~', '\u00e9', '-', '..', ':'];
    const tagName = fc.array(fc.constantFrom(...nameTokens), { minLength: 0, maxLength: 5 }).map((t) => t.join(''));
    const unique = new Map<string, CorpusObject>();
    const put = (label: string, type: ObjectType, text: string) => {
      const body = new Uint8Array(Buffer.from(text, 'utf8'));
      unique.set(hashObject(type, body), { label, type, body });
    };
    for (const [a, c] of fc.sample(fc.tuple(fc.oneof(ident, wellFormed), fc.oneof(ident, wellFormed)), { numRuns: 400, seed: 424242 })) {
      put(`commit ${JSON.stringify(a)} / ${JSON.stringify(c)}`, 'commit', `tree ${'2'.repeat(40)}\nauthor ${a}\ncommitter ${c}\n\nm\n`);
    }
    for (const [name, who] of fc.sample(fc.tuple(tagName, fc.option(fc.oneof(ident, wellFormed))), { numRuns: 300, seed: 434343 })) {
      put(`tag ${JSON.stringify(name)}`, 'tag', `object ${'3'.repeat(40)}\ntype commit\ntag ${name}\n${who === null ? '' : `tagger ${who}\n`}\nm\n`);
    }
    const objects = [...unique.values()];
    const dir = join(tmp.dir, 'idents.git');
    execFileSync('git', ['init', '-q', '--bare', dir], { env: GIT_ENV });
    for (const o of objects) writeLoose(dir, o.type, o.body);
    expect(compare(objects, runFsck(dir, [], true), ourFindings(objects, {}))).toEqual([]);
    expect(
      compare(
        objects,
        runFsck(dir, ['fsck.badTimezone=warn', 'fsck.badDate=warn', 'fsck.missingSpaceBeforeDate=ignore'], true),
        ourFindings(objects, { severities: { badTimezone: 'warn', badDate: 'warn', missingSpaceBeforeDate: 'ignore' } }),
      ),
    ).toEqual([]);
  });
  it('agrees with git on generated .gitmodules files', () => {
    const risky = [
      'x',
      '..',
      '.',
      '/',
      '\\',
      '-',
      '!',
      '%0a',
      '%00',
      '../',
      './',
      ':',
      '@',
      'https://',
      'http::',
      'git://',
      'h',
      ' ',
      '"',
      '#',
      ';',
      '\\n',
      '\\"',
      '\\q',
      '\t',
      '\xe9',
      '\xff',
    ];
    const plain = ['x', '..', '/', '-', '!', '%0a', '../', './', ':', '@', 'https://', 'http::', 'git://', 'h', '\\\\'];
    const text = (max: number) =>
      fc
        .oneof(
          { arbitrary: fc.array(fc.constantFrom(...plain), { maxLength: max }), weight: 4 },
          { arbitrary: fc.array(fc.constantFrom(...risky), { maxLength: max }), weight: 1 },
        )
        .map((t) => t.join(''));
    const header = fc.oneof(
      text(4).map((n) => `[submodule "${n}"]`),
      text(3).map((n) => `[submodule.${n}]`),
      fc.constantFrom('[submodule]', '[core]', '[SubModule "a"]', '[submodule "a"', '[ submodule "a" ]', '[submodule "a"]x'),
    );
    const entry = fc
      .tuple(
        fc.constantFrom('url', 'path', 'update', 'URL', 'branch', 'url ', '-url'),
        fc.constantFrom(' = ', '=', '', ' '),
        text(5),
        fc.constantFrom('\n', '\n', '\n', '\r\n', '\\\n', ' ; c\n', '\r'),
      )
      .map(([k, eq, v, end]) => `\t${k}${eq}${v}${end}`);
    const section = fc.tuple(header, fc.constantFrom('\n', '\r\n', ' # c\n', ''), fc.array(entry, { maxLength: 3 })).map(([h, nl, es]) => h + nl + es.join(''));
    const file = fc.array(section, { minLength: 1, maxLength: 3 }).map((ss) => ss.join(''));
    const objects: CorpusObject[] = [];
    const seen = new Set<string>();
    for (const t of fc.sample(file, { numRuns: 400, seed: 515151 })) {
      const body = new Uint8Array(Buffer.from(t, 'latin1'));
      const oid = hashObject('blob', body);
      if (seen.has(oid)) continue;
      seen.add(oid);
      objects.push({ label: `.gitmodules ${JSON.stringify(t)}`, type: 'blob', body });
      objects.push({ label: `tree naming ${oid}`, type: 'tree', body: rawTree([['100644', '.gitmodules', oid]]) });
    }
    const dir = join(tmp.dir, 'modules.git');
    execFileSync('git', ['init', '-q', '--bare', dir], { env: GIT_ENV });
    for (const o of objects) writeLoose(dir, o.type, o.body);
    const git = runFsck(dir, [], true);
    expect(compare(objects, git, ourFindings(objects, {}))).toEqual([]);
    const kinds = new Set([...git.findings.values()].flat());
    for (const id of ['error:gitmodulesName', 'error:gitmodulesUrl', 'error:gitmodulesPath', 'error:gitmodulesUpdate', 'warn:gitmodulesParse'])
      expect(kinds).toContain(id);
  });
});
