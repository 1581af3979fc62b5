/**
 * `repo.indexPack` of a ~20 MB pack made by `git pack-objects` from a real repository (every
 * source file in node_modules, three native binaries, and a few commits of edits so the pack
 * has ofs-deltas) against `git index-pack --strict` of the same pack into an empty bare
 * repository (git checks object names, fsck rules and connectivity with --strict, which is
 * the work level-git always does). Every sample starts from an empty repository.
 * Run: node --import tsx bench/engine/index-pack.ts
 *
 * With `--pack <file> [--runs n]` (e.g. the generated history's pack under
 * bench/.cache/repos/history-gen-...; objects/pack): that pack instead, each run in a fresh
 * process per side, printing wall time AND CPU time (all threads: the reader's worker too;
 * git's threads through `times`) of level-git's indexPack on memory-level against
 * `git index-pack --strict`; on this shared machine CPU time is the steadier figure.
 * `--disk`: level-git on disk (classic-level in a temporary directory) instead of memory-level.
 * On Linux each run also prints its CPU by thread (from /proc/self/task, sampled every 250 ms:
 * a thread that ended counts what it had used at its last sample): `main`, `reader` (the pack
 * worker: the thread that used the most CPU besides main) and `other` (V8's GC helpers, libuv
 * and LevelDB threads). Under tsx the worker compiles TypeScript on its first job
 * (~0.5-1 s of `reader` CPU that the built package does not pay).
 * A repository's pack on disk is not what `git push` sends: its objects come in another order,
 * with many more delta bases far back (git's history: 79,000 deltas with a base over 16 MB
 * back against 21,000), which costs the reader rebuilt bases. To read what a push sends:
 * `echo <branch> | git -C <repo> pack-objects --revs --stdout --thin --delta-base-offset -q > push.pack`.
 * `--child <pack> auto|inline [--disk]` runs one read in this process and prints
 * `wall cpu rss main reader other` (ms, MiB).
 */
import { copyFileSync, existsSync, mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Bench } from 'tinybench';
import { MemoryLevel } from 'memory-level';
import { openEngine, type Engine, type Repository } from '../../src/index.js';
import { git, median, printRatios, realSourceFiles, samples } from './common.js';

const packArg = process.argv.indexOf('--pack');
const onDisk = process.argv.includes('--disk');
if (process.argv[2] === '--child') await child(process.argv[3]!, process.argv[4] as 'auto' | 'inline');
else if (packArg > 0) await givenPack(process.argv[packArg + 1]!);
else await generated();

/** CPU ms of each thread of this process (Linux; empty elsewhere). */
function threadCpu(): Map<string, number> {
  const out = new Map<string, number>();
  if (!existsSync('/proc/self/task')) return out;
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(tid, (Number(f[11]) + Number(f[12])) * 10); // utime + stime, in clock ticks of 10 ms
    } catch {
      // A thread that ended meanwhile.
    }
  }
  return out;
}

/** One indexPack of `file` in this process: prints `wall cpu rss main reader other` (ms, MiB). */
async function child(file: string, mode: 'auto' | 'inline'): Promise<void> {
  const pack = new Uint8Array(readFileSync(file));
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < pack.length; i += 65536) chunks.push(pack.subarray(i, i + 65536));
  const dir = onDisk ? mkdtempSync(join(tmpdir(), 'level-git-bench-index-db-')) : undefined;
  const where = dir === undefined ? { db: new MemoryLevel() } : { path: join(dir, 'db') };
  const engine = await openEngine({ ...where, packCache: { maxBytes: 0 }, ingest: { worker: mode } });
  const repo = await engine.createRepo('in');
  const before = threadCpu();
  // Sampled while the read runs: the pack worker is retired after a big read, and a thread
  // that ended is gone from /proc (its last sample stands for it, at most 250 ms short).
  const seen = new Map(before);
  const sample = () => {
    for (const [tid, ms] of threadCpu()) seen.set(tid, ms);
  };
  const sampling = setInterval(sample, 250);
  const t = performance.now();
  const c = process.cpuUsage();
  await repo.indexPack(chunks);
  const used = process.cpuUsage(c);
  const wall = performance.now() - t;
  clearInterval(sampling);
  sample();
  const spent = [...seen].map(([tid, ms]) => [tid, ms - (before.get(tid) ?? 0)] as const);
  const main = spent.find(([tid]) => tid === String(process.pid))?.[1] ?? 0;
  const others = spent.filter(([tid]) => tid !== String(process.pid)).map(([, ms]) => ms);
  const reader = mode === 'auto' && others.length > 0 ? Math.max(...others) : 0;
  const other = others.reduce((a, b) => a + b, 0) - reader;
  const rss = process.memoryUsage().rss / 2 ** 20;
  console.log([wall, (used.user + used.system) / 1000, rss, main, reader, other].map((n) => n.toFixed(0)).join(' '));
  await engine.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
}

/** `--pack`: level-git (worker and inline reads) against git index-pack --strict, wall and CPU. */
async function givenPack(file: string): Promise<void> {
  const runsArg = process.argv.indexOf('--runs');
  const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 3;
  const tmp = mkdtempSync(join(tmpdir(), 'level-git-bench-index-'));
  const bare = join(tmp, 'bare.git');
  const rows: Record<string, { wall: number[]; cpu: number[]; threads: number[][] }> = {};
  const add = (name: string, wall: number, cpu: number, threads: number[] = []) => {
    const r = (rows[name] ??= { wall: [], cpu: [], threads: [] });
    r.wall.push(wall);
    r.cpu.push(cpu);
    r.threads.push(threads);
  };
  const self = new URL(import.meta.url).pathname;
  for (let i = 0; i < runs; i++) {
    for (const mode of ['auto', 'inline'] as const) {
      const args = ['--import', 'tsx', self, '--child', file, mode, ...(onDisk ? ['--disk'] : [])];
      const out = execFileSync(process.execPath, args, { encoding: 'utf8' }).trim().split('\n').pop()!;
      const [wall, cpu, , ...threads] = out.split(' ').map(Number);
      add(`level-git indexPack (${onDisk ? 'disk' : 'memory-level'}, ${mode === 'auto' ? 'worker' : 'inline'})`, wall!, cpu!, threads);
    }
    rmSync(bare, { recursive: true, force: true });
    git(tmp, ['init', '-q', '--bare', bare]);
    // bash's `times` prints the children's user and system CPU (git's threads included).
    const t = performance.now();
    const out = execFileSync('bash', ['-c', 'git -C "$1" index-pack --strict --stdin < "$2" > /dev/null; times', 'bench', bare, file], { encoding: 'utf8' });
    const wall = performance.now() - t;
    const [, children] = out.trim().split('\n');
    const secs = [...children!.matchAll(/(\d+)m([\d.]+)s/g)].reduce((a, m) => a + Number(m[1]) * 60 + Number(m[2]), 0);
    add('C git index-pack --strict', wall, secs * 1000);
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  // Median of one thread's CPU over the runs, in seconds.
  const s = (runs: number[][], i: number) => (med(runs.map((t) => t[i]!)) / 1000).toFixed(2);
  const gitRow = rows['C git index-pack --strict']!;
  console.log(`${file}: ${runs} runs each, medians`);
  for (const [name, r] of Object.entries(rows)) {
    const ratio = name.startsWith('C git') ? '' : `  (${(med(r.wall) / med(gitRow.wall)).toFixed(2)}x wall, ${(med(r.cpu) / med(gitRow.cpu)).toFixed(2)}x CPU)`;
    const split = r.threads[0]?.length === 3 ? `  [main ${s(r.threads, 0)}, reader ${s(r.threads, 1)}, other ${s(r.threads, 2)}]` : '';
    console.log(`${name.padEnd(46)} wall ${(med(r.wall) / 1000).toFixed(2)} s  CPU ${(med(r.cpu) / 1000).toFixed(2)} s${ratio}${split}`);
  }
  rmSync(tmp, { recursive: true, force: true });
}

/** The default run: a pack of real source files, through tinybench. */
async function generated(): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'level-git-bench-index-'));
  const work = join(tmp, 'work');
  git(tmp, ['init', '-q', '-b', 'main', work]);
  const files = realSourceFiles(100_000);
  for (const f of files) {
    mkdirSync(dirname(join(work, f.path)), { recursive: true });
    writeFileSync(join(work, f.path), f.content);
  }
  const binaries = [
    'node_modules/@esbuild/linux-x64/bin/esbuild',
    'node_modules/lightningcss-linux-x64-gnu/lightningcss.linux-x64-gnu.node',
    'node_modules/@rolldown/binding-linux-x64-gnu/rolldown-binding.linux-x64-gnu.node',
  ];
  for (const b of binaries) {
    try {
      mkdirSync(join(work, 'bin'), { recursive: true });
      copyFileSync(b, join(work, 'bin', b.split('/').pop()!));
    } catch {
      // A missing optional binary only makes the pack smaller.
    }
  }
  const commitAll = (msg: string) => {
    git(work, ['add', '-A']);
    git(work, ['-c', 'user.name=Bench', '-c', 'user.email=bench@example.com', 'commit', '-q', '-m', msg]);
  };
  commitAll('import');
  for (let c = 1; c <= 3; c++) {
    for (let i = c; i < files.length; i += 11) {
      const f = files[i]!;
      const t = new TextDecoder().decode(f.content).split('\n');
      t.splice(Math.min(5 * c, t.length), 0, `// edit ${c}`);
      writeFileSync(join(work, f.path), t.join('\n'));
    }
    commitAll(`edit ${c}`);
  }
  const pack = new Uint8Array(git(work, ['pack-objects', '--revs', '--stdout', '-q', '--delta-base-offset'], 'main\n'));
  const objects = Number(new DataView(pack.buffer, pack.byteOffset).getUint32(8));
  console.log(`pack: ${(pack.length / 1e6).toFixed(1)} MB, ${objects} objects`);

  const chunks: Uint8Array[] = [];
  for (let i = 0; i < pack.length; i += 65536) chunks.push(pack.subarray(i, i + 65536));

  let engine: Engine;
  let repo: Repository;
  let disk: Engine;
  let diskRepo: Repository;
  let n = 0;
  const bare = join(tmp, 'bare.git');
  disk = await openEngine({ path: join(tmp, 'db'), packCache: { maxBytes: 0 } });

  const bench = new Bench({ time: 4_000, iterations: 5, warmupIterations: 1 });
  bench
    .add('level-git indexPack (memory-level)', async () => void (await repo.indexPack(chunks)), {
      beforeEach: async () => {
        engine = await openEngine({ db: new MemoryLevel(), packCache: { maxBytes: 0 } });
        repo = await engine.createRepo('in');
      },
      afterEach: async () => engine.close(),
    })
    .add('level-git indexPack (on-disk classic-level)', async () => void (await diskRepo.indexPack(chunks)), {
      beforeEach: async () => void (diskRepo = await disk.createRepo(`in${n++}`)),
      afterEach: async () => disk.deleteRepo(diskRepo.name),
    })
    .add('C git index-pack --strict', () => void git(bare, ['index-pack', '--strict', '--stdin'], pack), {
      beforeEach: () => {
        rmSync(bare, { recursive: true, force: true });
        git(tmp, ['init', '-q', '--bare', bare]);
      },
    })
    .add('C git index-pack', () => void git(bare, ['index-pack', '--stdin'], pack), {
      beforeEach: () => {
        rmSync(bare, { recursive: true, force: true });
        git(tmp, ['init', '-q', '--bare', bare]);
      },
    });
  await bench.run();
  console.table(bench.table());

  const strict = median(bench, 'C git index-pack --strict');
  const plain = median(bench, 'C git index-pack');
  const mem = median(bench, 'level-git indexPack (memory-level)');
  const dsk = median(bench, 'level-git indexPack (on-disk classic-level)');
  const what = `${(pack.length / 1e6).toFixed(1)} MB pack, ${objects} objects`;
  printRatios(`indexPack of a ${what}`, [
    {
      op: 'indexPack, memory-level vs index-pack --strict',
      ours: mem,
      git: strict,
      note: `${samples(bench, 'level-git indexPack (memory-level)')} samples; git index-pack uses threads (2 cores)`,
    },
    { op: 'indexPack, on-disk vs index-pack --strict', ours: dsk, git: strict, note: '' },
    { op: 'indexPack, memory-level vs index-pack (no --strict)', ours: mem, git: plain, note: '' },
  ]);
  await disk.close();
  rmSync(tmp, { recursive: true, force: true });
}
