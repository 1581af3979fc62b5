/**
 * Random file trees for the diff and merge differentials: a tree is a map path → file (bytes,
 * mode), derived from another by random edits (line edits, adds, deletes, renames with or
 * without edits, mode changes, file ↔ symlink, file ↔ directory, binary files, CRLF, missing
 * final newlines). `buildCommits` commits many through one `git fast-import`; `importRepo` stores
 * a git repository's objects in an engine repository through `indexPack`.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { MemoryLevel } from 'memory-level';
import { enableReview, openEngine, type Repository } from '../../src/index.js';
import { git } from '../helpers/git.js';

enableReview(); // the package root leaves the review services to the app (docs/browser.md)

/** One file: content and mode. */
export interface File {
  content: Uint8Array;
  mode: '100644' | '100755' | '120000';
}
/** A tree: path → file. */
export type Tree = Map<string, File>;

const LINES = ['a', 'b', 'c', 'd', '', '{', '}', '  x = 1;', '\tfoo();', 'int main() {', '    return 0;', 'end', '_init:', '$var', '# head', '  ', 'zz'];
const PATHS = ['a.txt', 'b.txt', 'src/a.txt', 'src/b.c', 'src/lib/u.c', 'docs/r.md', 'd', 'd/x', 'e/f/g.txt', 'bin.dat', 'z'];

const enc = new TextEncoder();

/** Random text: lines from a small vocabulary (many repeats: ambiguous diffs), maybe CRLF, maybe no final newline. */
export const textArb = fc
  .record({
    lines: fc.array(fc.constantFrom(...LINES), { minLength: 0, maxLength: 30 }),
    crlf: fc.boolean(),
    finalNewline: fc.boolean(),
  })
  .map(({ lines, crlf, finalNewline }) => {
    const nl = crlf ? '\r\n' : '\n';
    let s = lines.join(nl);
    if (lines.length > 0 && finalNewline) s += nl;
    return enc.encode(s);
  });

const binaryArb = fc.uint8Array({ minLength: 1, maxLength: 40 }).map((b) => {
  const out = new Uint8Array(b.length + 1);
  out.set(b);
  out[Math.floor(b.length / 2)] = 0;
  return out;
});

const fileArb: fc.Arbitrary<File> = fc.oneof(
  { weight: 6, arbitrary: textArb.map((content) => ({ content, mode: '100644' as const })) },
  { weight: 1, arbitrary: textArb.map((content) => ({ content, mode: '100755' as const })) },
  { weight: 1, arbitrary: binaryArb.map((content) => ({ content, mode: '100644' as const })) },
  { weight: 1, arbitrary: fc.constantFrom('a.txt', '../b', 'x/y').map((t) => ({ content: enc.encode(t), mode: '120000' as const })) },
);

/** Drops paths that collide with a directory of another path (`d` and `d/x`: keeps the first seen). */
function consistent(t: Tree): Tree {
  const out: Tree = new Map();
  const taken = new Set<string>();
  for (const [p, f] of t) {
    const parts = p.split('/');
    const dirs = parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('/'));
    if (dirs.some((d) => out.has(d)) || taken.has(p)) continue;
    out.set(p, f);
    for (const d of dirs) taken.add(d);
  }
  return out;
}

/** A random tree. */
export const treeArb: fc.Arbitrary<Tree> = fc
  .array(fc.tuple(fc.constantFrom(...PATHS), fileArb), { minLength: 0, maxLength: 8 })
  .map((entries) => consistent(new Map(entries)));

type Edit =
  | { e: 'mvdir'; to: string }
  | { e: 'lines'; at: number; del: number; ins: Uint8Array }
  | { e: 'rm' }
  | { e: 'mv'; to: string; edit: boolean }
  | { e: 'chmod' }
  | { e: 'replace'; file: File }
  | { e: 'add'; path: string; file: File };

const editArb: fc.Arbitrary<Edit> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ e: fc.constant('lines' as const), at: fc.nat(30), del: fc.nat(3), ins: textArb }) },
  { weight: 1, arbitrary: fc.constant({ e: 'rm' as const }) },
  { weight: 2, arbitrary: fc.record({ e: fc.constant('mv' as const), to: fc.constantFrom(...PATHS, 'moved/a.txt', 'n.txt'), edit: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ e: 'chmod' as const }) },
  { weight: 1, arbitrary: fileArb.map((file) => ({ e: 'replace' as const, file })) },
  { weight: 2, arbitrary: fc.record({ e: fc.constant('add' as const), path: fc.constantFrom(...PATHS), file: fileArb }) },
);

function splice(content: Uint8Array, at: number, del: number, ins: Uint8Array): Uint8Array {
  const text = Buffer.from(content).toString('latin1');
  const lines = text.split(/(?<=\n)/);
  const i = Math.min(at, lines.length);
  lines.splice(i, del, ...(ins.length ? [Buffer.from(ins).toString('latin1')] : []));
  return new Uint8Array(Buffer.from(lines.join(''), 'latin1'));
}

/** Applies edits (each to the n-th file, cyclically) to a copy of a tree. */
export function applyEdits(t: Tree, edits: readonly { target: number; edit: Edit }[]): Tree {
  const out: Tree = new Map(t);
  for (const { target, edit } of edits) {
    const keys = [...out.keys()];
    if (edit.e === 'add') {
      out.set(edit.path, edit.file);
      continue;
    }
    if (keys.length === 0) continue;
    const p = keys[target % keys.length]!;
    const f = out.get(p)!;
    if (edit.e === 'mvdir') {
      // The whole directory of the target file moves (into another, maybe existing, one).
      const dir = p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '';
      if (dir === '' || edit.to === dir || edit.to.startsWith(dir + '/')) continue;
      for (const k of keys) {
        if (!k.startsWith(dir + '/')) continue;
        const moved = out.get(k)!;
        out.delete(k);
        out.set(edit.to + k.slice(dir.length), moved);
      }
      continue;
    }
    if (edit.e === 'lines' && f.mode !== '120000') out.set(p, { ...f, content: splice(f.content, edit.at, edit.del, edit.ins) });
    else if (edit.e === 'rm') out.delete(p);
    else if (edit.e === 'mv') {
      out.delete(p);
      out.set(edit.to, edit.edit && f.mode !== '120000' ? { ...f, content: splice(f.content, 1, 1, enc.encode('moved\n')) } : f);
    } else if (edit.e === 'chmod' && f.mode !== '120000') out.set(p, { ...f, mode: f.mode === '100644' ? '100755' : '100644' });
    else if (edit.e === 'replace') out.set(p, edit.file);
  }
  return consistent(out);
}

/** Random edits. */
export const editsArb = fc.array(fc.record({ target: fc.nat(20), edit: editArb }), { minLength: 1, maxLength: 5 });

/** Files added into existing directories (which the other side of a merge may rename). */
const DIR_ADDS = ['src/new.txt', 'src/lib/n.c', 'docs/n.md', 'e/f/h.txt', 'e/n.txt', 'moved/x.txt'];

/** Random edits for merges: those of `editsArb`, plus whole-directory renames and additions into directories. */
export const mergeEditsArb = fc.array(
  fc.record({
    target: fc.nat(20),
    edit: fc.oneof(
      { weight: 4, arbitrary: editArb },
      { weight: 2, arbitrary: fc.record({ e: fc.constant('mvdir' as const), to: fc.constantFrom('lib2', 'source', 'src2/deep', 'docs', 'moved', 'e/g') }) },
      { weight: 2, arbitrary: fc.record({ e: fc.constant('add' as const), path: fc.constantFrom(...DIR_ADDS), file: fileArb }) },
    ),
  }),
  { minLength: 1, maxLength: 5 },
);

/** One commit to build: its tree and the index of its parent commit in the same list (or none), and of a second parent. */
export interface CommitSpec {
  tree: Tree;
  parent?: number;
  merge?: number;
}

/**
 * Builds every commit of `specs` in the bare repository at `dir` with one `git fast-import`
 * (one process for a whole suite of cases); returns the commit ids in order.
 */
export function buildCommits(dir: string, specs: readonly CommitSpec[]): string[] {
  const parts: Buffer[] = [];
  const add = (s: string | Uint8Array) => parts.push(typeof s === 'string' ? Buffer.from(s, 'utf8') : Buffer.from(s));
  specs.forEach((c, i) => {
    add(`commit refs/heads/c${i}\nmark :${i + 1}\ncommitter T <t@example.com> ${1_700_000_000 + i} +0000\ndata 2\nc\n`);
    if (c.parent !== undefined) add(`from :${c.parent + 1}\n`);
    if (c.merge !== undefined) add(`merge :${c.merge + 1}\n`);
    add('deleteall\n');
    for (const [p, f] of c.tree) {
      add(`M ${f.mode} inline ${p}\ndata ${f.content.length}\n`);
      add(f.content);
      add('\n');
    }
    add('\n');
  });
  const marks = `${dir}/marks`;
  git(dir, ['fast-import', '--quiet', `--export-marks=${marks}`], Buffer.concat(parts));
  const byMark = new Map(
    readFileSync(marks, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(' ') as [string, string]),
  );
  return specs.map((_, i) => byMark.get(`:${i + 1}`)!);
}

/** A fresh bare repository. */
export function initRepo(dir: string): void {
  git(dir, ['init', '-q', '--bare', '-b', 'main']);
}

/** Stores every object of the git repository at `dir` in `repo`. */
export async function importRepo(dir: string, repo: Repository): Promise<void> {
  const list = git(dir, ['rev-list', '--objects', '--all']);
  const pack = git(dir, ['pack-objects', '--stdout', '-q'], list);
  await repo.indexPack([new Uint8Array(pack)]);
}

/** What a differential test works with: the bare git repository, the commit ids of the specs, and an engine repository holding the same objects. */
export interface Fixture {
  dir: string;
  shas: string[];
  repo: Repository;
}

/**
 * The differential tests' setup: commits `specs` in a fresh bare repository under `dirs`, imports
 * its objects into an in-memory engine's repository, runs `fn`, and closes the engine.
 */
export async function withFixture<T>(dirs: { make(prefix: string): string }, specs: readonly CommitSpec[], fn: (f: Fixture) => Promise<T>): Promise<T> {
  const dir = dirs.make('diff-fixture-');
  initRepo(dir);
  const shas = buildCommits(dir, specs);
  const db = new MemoryLevel();
  const engine = await openEngine({ db });
  try {
    const repo = await engine.createRepo('r');
    await importRepo(dir, repo);
    return await fn({ dir, shas, repo });
  } finally {
    await engine.close();
    await db.close();
  }
}

/** A test case's data as readable JSON (bytes as latin1 text, maps as entry lists). */
export function describeCase(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v instanceof Map ? [...v] : v));
}
