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
import { FsckSession, type FsckOptions } from '../../src/object/fsck.js';
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
    const pieces = ['.', '.git', 'git', 'GIT', '.gitmodules', 'gitmod', 'gi7eba', '~1', '~4', '~5', '~9', ' ', '.', ':', '::$DATA', '\\', '/', 'x', '\u200c', '\u200d', '\ufeff', '\u206f', '\u00e9', '.mailmap', '.gitignore', '.gitattributes', 'mailma'];
    const nameArb = fc
      .array(fc.constantFrom(...pieces), { minLength: 1, maxLength: 4 })
      .map((parts) => parts.join(''))
      .filter((n) => n !== '' && !n.includes('\0'));
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
  });
});
