/**
 * The `history` fixture: a deterministic generated history (seeded PRNG, fixed dates and
 * authors) written as a `git fast-import` stream, so tens of thousands of commits take
 * seconds to build. What it models: a ~5,000-file source tree in nested folders; commits that
 * change a few files by a few lines (so deltas matter), now and then add, delete or rename a
 * file; topic branches forked from main, worked on while main moves, merged back with a merge
 * commit. Built once per parameter set and cached under bench/.cache/repos (git-ignored),
 * then repacked as a served repository would be (`git repack -adf`).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gitEnv, gitOk } from '../../shared/exec.js';
import type { Fixture } from '../fixtures/fixtures.js';
import { REPO_CACHE } from '../fixtures/fixtures.js';

/** Bump when the generator changes, so cached histories are rebuilt. */
const GENERATOR_VERSION = 2;

/** What decides the generated history (the cache key). */
export interface HistoryParams {
  commits: number;
  files: number;
  seed: number;
}

/** mulberry32: a small, fast, seedable PRNG (the history must be the same on every machine). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  'value index count result buffer stream handle parse render update state config option ' +
  'request response client server session token cache entry record item node tree list map ' +
  'queue limit offset length source target error reason message format encode decode check'
).split(' ');
const AUTHORS = Array.from({ length: 24 }, (_, i) => `Dev${String.fromCharCode(65 + (i % 26))}${i} <dev${i}@example.com>`);
const EXTS = ['ts', 'ts', 'ts', 'js', 'md', 'json'];

/** One file's state; `mark` is its blob's fast-import mark (0: not written yet). */
interface FileState {
  lines: string[];
  mark: number;
}

type Tree = Map<string, FileState>;

interface Topic {
  ref: string;
  tree: Tree;
  /** Paths the topic added, changed, deleted or renamed (what its merge carries over). */
  touched: Set<string>;
  tip: number;
  /** Whether the topic's slot ref points at its tip yet (its first commit names its parent). */
  started: boolean;
  left: number;
  focus: string;
  name: string;
}

/** Writes the fast-import stream of the history to `out`; returns commits and merges made. */
export async function generate(p: HistoryParams, write: (s: string) => Promise<void>): Promise<{ commits: number; merges: number }> {
  const rand = prng(p.seed);
  const int = (n: number): number => Math.floor(rand() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const word = (): string => pick(WORDS);
  const line = (): string => {
    switch (int(6)) {
      case 0:
        return `// ${word()} ${word()} ${word()} ${word()}`;
      case 1:
        return `export function ${word()}${int(1000)}(${word()}: number): number {`;
      case 2:
        return `  return ${word()} + ${int(100_000)};`;
      case 3:
        return '}';
      case 4:
        return `const ${word()}${int(1000)} = '${word()}-${word()}-${int(10_000)}';`;
      default:
        return `  if (${word()} > ${int(1000)}) ${word()}(${word()}, ${int(100)});`;
    }
  };
  // Folders: 12 packages × 8 subfolders × a few leaves, ~50 files per leaf at 5,000 files.
  const dirs: string[] = [];
  for (let a = 0; a < 12; a++) for (let b = 0; b < 8; b++) dirs.push(b < 2 ? `pkg${a}/src${b}` : `pkg${a}/src${b % 2}/part${b}`);
  let nextFile = 0;
  const newPath = (dir: string): string => `${dir}/${pick(WORDS)}-${nextFile++}.${pick(EXTS)}`;
  const newFile = (): FileState => {
    // Mostly small files, some large ones (where a one-line change is a tiny delta of a big blob).
    const n = rand() < 0.05 ? 400 + int(800) : 10 + int(90);
    return { lines: Array.from({ length: n }, line), mark: 0 };
  };

  let mark = 0;
  let date = 1_150_000_000; // mid-2006: ~20 years of history at a few commits a day
  const out: string[] = [];
  let pending = 0;
  const emit = async (s: string): Promise<void> => {
    out.push(s);
    pending += s.length;
    if (pending > 1 << 20) {
      await write(out.join(''));
      out.length = 0;
      pending = 0;
    }
  };
  const blob = async (f: FileState): Promise<void> => {
    const data = `${f.lines.join('\n')}\n`;
    f.mark = ++mark;
    await emit(`blob\nmark :${f.mark}\ndata ${Buffer.byteLength(data)}\n${data}\n`);
  };
  const header = async (ref: string, msg: string, from: number | null, merge: number | null): Promise<number> => {
    date += 600 + int(61_000);
    const who = pick(AUTHORS);
    const m = ++mark;
    let s = `commit ${ref}\nmark :${m}\nauthor ${who} ${date} +0000\ncommitter ${who} ${date} +0000\ndata ${Buffer.byteLength(msg)}\n${msg}\n`;
    if (from !== null) s += `from :${from}\n`;
    if (merge !== null) s += `merge :${merge}\n`;
    await emit(s);
    return m;
  };

  // The initial tree, in one commit.
  const main: Tree = new Map();
  const mainRef = 'refs/heads/main';
  for (let i = 0; i < p.files; i++) main.set(newPath(pick(dirs)), newFile());
  for (const f of main.values()) await blob(f);
  let mainTip = await header(mainRef, 'Initial import\n', null, null);
  {
    const ms: string[] = [];
    for (const [path, f] of main) ms.push(`M 100644 :${f.mark} ${path}\n`);
    await emit(`${ms.join('')}\n`);
  }
  let commits = 1;
  let merges = 0;

  /** One ordinary commit on a tree: 1–6 files, mostly a few changed lines. */
  const work = async (tree: Tree, ref: string, from: number | null, focus: string | null, touched: Set<string> | null, name: string): Promise<number> => {
    const ops: string[] = [];
    const n = 1 + Math.min(5, Math.floor(-Math.log(1 - rand()) * 1.6));
    const paths = [...tree.keys()];
    const inFocus = focus === null ? paths : paths.filter((x) => x.startsWith(`${focus}/`));
    const changed = new Set<string>();
    const subjects: string[] = [];
    for (let k = 0; k < n; k++) {
      const r = rand();
      if (r < 0.03 || tree.size < p.files / 2) {
        const path = newPath(focus ?? pick(dirs));
        const f = newFile();
        await blob(f);
        tree.set(path, f);
        ops.push(`M 100644 :${f.mark} ${path}\n`);
        touched?.add(path);
        subjects.push(`add ${path.slice(path.lastIndexOf('/') + 1)}`);
        continue;
      }
      const from0 = pick(inFocus.length > 0 && rand() < 0.8 ? inFocus : paths);
      if (changed.has(from0) || !tree.has(from0)) continue;
      changed.add(from0);
      if (r < 0.045) {
        tree.delete(from0);
        ops.push(`D ${from0}\n`);
        touched?.add(from0);
        subjects.push(`remove ${from0.slice(from0.lastIndexOf('/') + 1)}`);
      } else if (r < 0.06) {
        const to = newPath(from0.slice(0, from0.lastIndexOf('/')));
        const f = tree.get(from0)!;
        tree.delete(from0);
        tree.set(to, f);
        ops.push(`R ${from0} ${to}\n`);
        touched?.add(from0);
        touched?.add(to);
        changed.add(to);
        subjects.push(`rename ${from0.slice(from0.lastIndexOf('/') + 1)}`);
      } else {
        const old = tree.get(from0)!;
        const lines = old.lines.slice();
        // Hunks: mostly a line replaced, added or removed; now and then a block (a new
        // function, a removed one), so commits change a few to a few dozen lines.
        const edits = 1 + int(3);
        for (let e = 0; e < edits; e++) {
          const at = int(lines.length);
          const r = rand();
          const kind = lines.length > 1200 ? 4 : lines.length < 8 ? 3 : r < 0.4 ? 0 : r < 0.6 ? 1 : r < 0.8 ? 2 : r < 0.9 ? 3 : 4;
          if (kind === 0) lines[at] = line();
          else if (kind === 1) lines.splice(at, 0, line());
          else if (kind === 2) lines.splice(at, 1);
          else if (kind === 3) lines.splice(at, 0, ...Array.from({ length: 5 + int(26) }, line));
          else lines.splice(at, 3 + int(18));
        }
        const f: FileState = { lines, mark: 0 };
        await blob(f);
        tree.set(from0, f);
        ops.push(`M 100644 :${f.mark} ${from0}\n`);
        touched?.add(from0);
        subjects.push(`${pick(['fix', 'update', 'tweak', 'refactor', 'handle'])} ${word()} in ${from0.slice(from0.lastIndexOf('/') + 1)}`);
      }
    }
    if (ops.length === 0) {
      // Every pick collided: change one line of one file anyway (no empty commits).
      const path = pick(paths);
      const f: FileState = { lines: [...tree.get(path)!.lines.slice(1), line()], mark: 0 };
      await blob(f);
      tree.set(path, f);
      ops.push(`M 100644 :${f.mark} ${path}\n`);
      touched?.add(path);
      subjects.push(`rotate ${path.slice(path.lastIndexOf('/') + 1)}`);
    }
    const body = rand() < 0.3 ? `\n${Array.from({ length: 1 + int(4) }, () => `${word()} ${word()} ${word()} ${word()} ${word()}`).join('\n')}\n` : '';
    const m = await header(ref, `${name}${subjects.join(', ')}\n${body}`, from, null);
    await emit(`${ops.join('')}\n`);
    return m;
  };

  const topics: Topic[] = [];
  let topicSeq = 0;
  const slots = ['refs/heads/topic-a', 'refs/heads/topic-b', 'refs/heads/topic-c', 'refs/heads/topic-d'];
  const merge = async (t: Topic): Promise<void> => {
    const ops: string[] = [];
    for (const path of t.touched) {
      const theirs = t.tree.get(path);
      const ours = main.get(path);
      if (theirs === undefined) {
        if (ours !== undefined) {
          main.delete(path);
          ops.push(`D ${path}\n`);
        }
      } else if (ours !== theirs) {
        // A path changed on both sides resolves to the topic's version.
        main.set(path, theirs);
        ops.push(`M 100644 :${theirs.mark} ${path}\n`);
      }
    }
    mainTip = await header(mainRef, `Merge branch '${t.name}'\n`, mainTip, t.tip);
    await emit(`${ops.join('')}\n`);
    topics.splice(topics.indexOf(t), 1);
    commits++;
    merges++;
  };

  while (commits < p.commits) {
    const remaining = p.commits - commits;
    if (remaining <= topics.length) {
      await merge(topics[0]!);
      continue;
    }
    const done = topics.find((t) => t.left === 0);
    if (done !== undefined) {
      await merge(done);
      continue;
    }
    const free = slots.filter((s) => !topics.some((t) => t.ref === s));
    if (free.length > 0 && remaining > 40 && rand() < 0.04) {
      const name = `topic/${pick(WORDS)}-${topicSeq++}`;
      topics.push({ ref: free[0]!, tree: new Map(main), touched: new Set(), tip: mainTip, started: false, left: 2 + int(25), focus: pick(dirs), name });
      continue;
    }
    const t = topics.length > 0 && rand() < 0.55 ? pick(topics) : null;
    if (t === null) {
      mainTip = await work(main, mainRef, null, null, null, '');
    } else {
      t.tip = await work(t.tree, t.ref, t.started ? null : t.tip, t.focus, t.touched, '');
      t.started = true;
      t.left--;
    }
    commits++;
  }
  await write(out.join(''));
  return { commits, merges };
}

/** Runs `git fast-import` on a fresh repository and streams the generated history into it. */
async function importHistory(dir: string, p: HistoryParams): Promise<{ commits: number; merges: number }> {
  // glibc's malloc otherwise gives memory back and takes it again on every object (75,000 brk
  // calls for 2,000 commits, 13× slower): keep a generous top pad.
  const env = gitEnv({ MALLOC_TOP_PAD_: String(256 << 20), MALLOC_TRIM_THRESHOLD_: String(1 << 30) });
  const child = spawn('git', ['fast-import', '--quiet', '--done'], { cwd: dir, env, stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  let broken: Error | null = null;
  child.stdin.on('error', (e) => (broken = e));
  const write = async (s: string): Promise<void> => {
    if (broken !== null) throw new Error(`git fast-import stopped reading (${String(broken)}): ${stderr.slice(-2000)}`);
    if (!child.stdin.write(s)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          child.stdin.off('drain', done).off('close', done);
          resolve();
        };
        child.stdin.on('drain', done).on('close', done);
      });
    }
  };
  const made = await generate(p, write).catch(async (e: unknown) => {
    child.kill();
    await exited;
    throw new Error(`${String(e)}\n${stderr.slice(-2000)}`);
  });
  child.stdin.end('done\n');
  const code = await exited;
  if (code !== 0) throw new Error(`git fast-import failed (${code}): ${stderr.slice(-2000)}`);
  return made;
}

/**
 * The generated history for `p`, built on first use (seconds to a few minutes at 20,000
 * commits, most of it `git repack`) and cached. A bare repository, tip on `main`.
 */
/** Files and bytes of the tip tree of `main` in `dir`, and its count of commits. */
export async function tipStats(dir: string): Promise<{ files: number; bytes: number; commits: number }> {
  let files = 0;
  let bytes = 0;
  for (const l of (await gitOk(['ls-tree', '-r', '-l', 'main'], dir)).split('\n')) {
    const m = /^\d+ blob [0-9a-f]+\s+(\d+)\t/.exec(l);
    if (m) {
      files++;
      bytes += Number(m[1]);
    }
  }
  return { files, bytes, commits: Number(await gitOk(['rev-list', '--count', 'main'], dir)) };
}

export async function generatedHistory(p: HistoryParams, log: (line: string) => void = () => {}): Promise<Fixture> {
  const id = `history-${p.commits >= 1000 && p.commits % 1000 === 0 ? `${p.commits / 1000}k` : p.commits}`;
  const dir = join(REPO_CACHE, `history-gen-c${p.commits}-f${p.files}-s${p.seed}-v${GENERATOR_VERSION}`);
  const metaFile = join(dir, 'bench-fixture.json');
  if (existsSync(metaFile)) return { ...(JSON.parse(readFileSync(metaFile, 'utf8')) as Fixture), dir };
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  await gitOk(['init', '--quiet', '--bare', '--initial-branch=main', dir]);
  const t0 = performance.now();
  const made = await importHistory(dir, p);
  for (const ref of (await gitOk(['for-each-ref', '--format=%(refname)', 'refs/heads/topic-*'], dir)).split('\n').filter(Boolean)) {
    await gitOk(['update-ref', '-d', ref], dir);
  }
  log(`  generated ${made.commits} commits (${made.merges} merges) in ${((performance.now() - t0) / 1000).toFixed(1)} s; repacking`);
  const t1 = performance.now();
  await gitOk(['repack', '-adf', '--quiet'], dir);
  await gitOk(['prune-packed'], dir);
  log(`  repacked in ${((performance.now() - t1) / 1000).toFixed(1)} s`);
  const { files, bytes, commits } = await tipStats(dir);
  const fixture: Fixture = {
    id,
    kind: 'history',
    label: `generated: ${commits} commits (${made.merges} merges) over ~${p.files} files, seed ${p.seed}`,
    dir,
    files,
    bytes,
    commits,
  };
  writeFileSync(metaFile, JSON.stringify(fixture, null, 2));
  return fixture;
}
