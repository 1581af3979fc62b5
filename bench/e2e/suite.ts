/**
 * The end-to-end suite: prepares fixtures, starts the servers (level-git, C git as pushed,
 * C git after gc, the replay floor, optionally a remote), pushes every fixture to level-git
 * and C git, runs the selected workloads with runs alternating between servers, and returns
 * everything as one report object (see report.ts for tables, JSON and the chart).
 */
import { cpus, tmpdir } from 'node:os';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { wants, type BenchOptions } from '../shared/args.js';
import { cloneRoot, git, gitOk, run } from '../shared/exec.js';
import { alternate, alternateUnits, measure, rotation, toResult, type OpResult, type Result, type Sample } from '../shared/measure.js';
import { summarize, type Summary } from '../shared/stats.js';
import { ensurePrevBranch, historyFixture, RECIPES, sweepFixture, treeFixture, type Fixture } from './fixtures/fixtures.js';
import { PROJECT_ROOT } from './servers/control.js';
import { serverFrom, type ServerFrom } from './servers/build.js';
import { startHttpBackend } from './servers/http-backend.js';
import { BENCH_API_KEY, startLevelGit } from './servers/level-git.js';
import { startReplay, type ReplayServer } from './servers/replay.js';
import { runHistory, type HistoryReport } from './history/workload.js';
import type { BenchServer } from '../shared/server-types.js';
import { startBenchPostgres, type BenchPostgres } from '../shared/postgres.js';
import { runScale, type ScaleRow } from './postgres/scale.js';

/** Many clones at once against one server. */
export interface ConcurrencyResult {
  server: string;
  fixture: string;
  concurrency: number;
  rounds: number;
  clones: number;
  errors: number;
  /** Clones per second, median over rounds. */
  throughput: number;
  /** Latency of every single clone. */
  latency: Summary;
  cpuPerCloneMs: number | null;
}

/** Everything one suite run measured. */
export interface SuiteReport {
  meta: {
    date: string;
    git: string;
    node: string;
    cpus: number;
    cpuModel: string;
    runs: number;
    quick: boolean;
    checkout: boolean;
    floorSource: string;
    commit: string;
    remote: string | null;
    servers: string[];
    /** How level-git's server ran: compiled (the default), or from sources through tsx (absent in older results: sources). */
    serverFrom?: ServerFrom;
  };
  fixtures: Fixture[];
  results: Result[];
  concurrency: ConcurrencyResult[];
  notes: string[];
  /** The `history` workload (issue 9's history scale), when it ran. */
  history?: HistoryReport;
  /** With `--db postgres`: the server, the trees' depths and the scale workload. */
  postgres?: PostgresReport;
}

/** What `--db postgres` adds to a report. */
export interface PostgresReport {
  version: string;
  /** Directory levels of each tree fixture's tip (the root is level 1). */
  treeLevels: Record<string, number>;
  scale: ScaleRow[];
}

type Log = (line: string) => void;

/** Origin (scheme://host:port) of a server's URLs. */
function originOf(s: BenchServer): string {
  return new URL(s.url('x')).origin;
}

function fail(r: { code: number | null; stderr: string }): string {
  return `exit ${r.code}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`;
}

/** Pushes a fixture to a server: one push of main, or for a history one push per commit. */
async function pushFixture(s: BenchServer, repo: string, f: Fixture, create = true): Promise<number> {
  if (create) await s.createRepo(repo);
  const start = performance.now();
  if (f.kind === 'history') {
    const commits = (await gitOk(['rev-list', '--reverse', 'main'], f.dir)).split('\n');
    for (const c of commits) {
      const r = await git(['push', '--quiet', s.url(repo), `${c}:refs/heads/main`], f.dir);
      if (r.code !== 0) throw new Error(`push of ${f.id} ${c} to ${s.name}: ${fail(r)}`);
    }
  } else {
    const r = await git(['push', '--quiet', s.url(repo), 'main:refs/heads/main'], f.dir);
    if (r.code !== 0) throw new Error(`push of ${f.id} to ${s.name}: ${fail(r)}`);
  }
  return performance.now() - start;
}

/** Runs the suite. */
export async function runSuite(o: BenchOptions, log: Log): Promise<SuiteReport> {
  const notes: string[] = [];
  const work = mkdtempSync(join(tmpdir(), 'level-git-bench-run-'));
  const clones = cloneRoot();
  const results: Result[] = [];
  const concurrency: ConcurrencyResult[] = [];
  const stops: (() => Promise<void>)[] = [];
  let historyReport: HistoryReport | undefined;
  let postgres: PostgresReport | undefined;
  try {
    // ---- servers
    const cgitRoot = join(work, 'cgit');
    const gcRoot = join(work, 'cgit-gc');
    mkdirSync(cgitRoot);
    mkdirSync(gcRoot);
    const cgit = await startHttpBackend(cgitRoot, 'cgit');
    stops.push(() => cgit.stop());
    const cgitGc = await startHttpBackend(gcRoot, 'cgit-gc');
    stops.push(() => cgitGc.stop());
    let levelGit: BenchServer | null = null;
    let levelGitCold: BenchServer | null = null;
    if (!o.noLevelGit) {
      try {
        levelGit = await startLevelGit(join(work, 'level-git-data'));
        const lg = levelGit;
        stops.push(() => lg.stop());
        const idleRss = await lg.peakRssKb();
        if (idleRss !== null) notes.push(`level-git's peak RSS includes its Node process's own baseline: ${(idleRss / 1024).toFixed(0)} MB right after start`);
        if (o.cold) {
          levelGitCold = await startLevelGit(join(work, 'level-git-cold-data'), 'level-git-cold', ['--no-pack-cache']);
          const cold = levelGitCold;
          stops.push(() => cold.stop());
          notes.push('level-git-cold: the same engine with its cache of finished packs disabled (every clone builds its pack)');
        }
      } catch (e) {
        notes.push(`level-git not measured: ${(e as Error).message.split('\n')[0]}`);
        log(`! level-git unavailable: ${(e as Error).message.split('\n')[0]}`);
      }
    }
    // ---- level-git over PostgreSQL (--db postgres): its own throwaway server
    let pg: BenchPostgres | null = null;
    const pgServers: BenchServer[] = [];
    if (o.db === 'postgres' && levelGit !== null) {
      const server = await startBenchPostgres();
      pg = server;
      stops.push(async () => server.stop());
      postgres = { version: server.version, treeLevels: {}, scale: [] };
      // Server CPU of these two: the level-git process plus the PostgreSQL server (operations run one at a time).
      const withPg = (s: BenchServer): BenchServer => ({ ...s, cpuMs: () => (s.cpuMs() ?? 0) + server.cpuMs() });
      const lgPg = withPg(await startLevelGit(join(work, 'level-git-pg-unused'), 'level-git-pg', ['--db', server.createDatabase('level_git_warm')]));
      stops.push(() => lgPg.stop());
      pgServers.push(lgPg);
      if (o.cold) {
        const lgPgCold = withPg(
          await startLevelGit(join(work, 'level-git-pg-unused'), 'level-git-pg-cold', ['--db', server.createDatabase('level_git_cold'), '--no-pack-cache']),
        );
        stops.push(() => lgPgCold.stop());
        pgServers.push(lgPgCold);
      }
      notes.push(
        `level-git-pg${o.cold ? ' and level-git-pg-cold' : ''}: the same engine over PostgreSQL ${server.version} (createPostgresLevel + PostgresRefLock, one database each) on 127.0.0.1; their server CPU is the level-git process's plus the PostgreSQL server's (postmaster and backends)`,
      );
    }
    const floor = await startReplay('floor');
    stops.push(() => floor.stop());
    const floorSource: BenchServer = levelGit !== null && o.floorSource === 'level-git' ? levelGit : cgitGc;
    if (floorSource !== levelGit && o.floorSource === 'level-git') notes.push('the floor replays cgit-gc responses (level-git unavailable)');
    const pushTargets: BenchServer[] = [...(levelGit ? [levelGit] : []), ...(levelGitCold ? [levelGitCold] : []), ...pgServers, cgit];

    let remote: BenchServer | null = null;
    if (o.remote !== null) {
      const url = o.remote;
      remote = {
        name: 'remote',
        url: () => url,
        cpuMs: () => null,
        peakRssKb: async () => null,
        resetPeak: async () => {},
        createRepo: async () => {},
        stats: async () => ({ requests: 0, uploadPackBytes: 0, receivePackBytes: 0, childPeakRssKb: null, misses: 0 }),
        resetStats: async () => {},
        idle: async () => {},
        stop: async () => {},
      };
    }

    // ---- fixtures
    const fixtures: Fixture[] = [];
    const prepared = new Set<string>();
    const prepare = async (f: Fixture): Promise<void> => {
      if (prepared.has(f.id)) return;
      prepared.add(f.id);
      fixtures.push(f);
      for (const s of pushTargets) {
        const ms = await pushFixture(s, f.id, f);
        log(`  pushed ${f.id} to ${s.name} in ${(ms / 1000).toFixed(1)} s`);
        if (f.kind === 'history') {
          await s.idle();
          results.push(toResult('ingest-history', f.id, s.name, [{ ms, cpuMs: null, bytes: 0, peakRssKb: null, ok: true }], { pushes: f.commits }));
        }
      }
      const gcStart = performance.now();
      const r = await run('cp', ['-a', join(cgitRoot, `${f.id}.git`), join(gcRoot, `${f.id}.git`)]);
      if (r.code !== 0) throw new Error(`copy for gc: ${r.stderr}`);
      await gitOk(['gc', '--quiet'], join(gcRoot, `${f.id}.git`));
      log(`  gc'd copy of ${f.id} in ${((performance.now() - gcStart) / 1000).toFixed(1)} s`);
    };

    const recipe = o.quick ? RECIPES.quick : RECIPES.full;
    const needTrees = wants(o, 'depth1') || wants(o, 'push') || wants(o, 'concurrent') || wants(o, 'sweep') || wants(o, 'api');
    const trees: Fixture[] = [];
    let history: Fixture | null = null;
    const sweeps: Fixture[] = [];
    if (o.remote !== null) {
      log(`cloning ${o.remote} once for its content`);
      const dir = join(work, 'remote-src');
      const r = await git(['clone', '--quiet', '--no-checkout', '--single-branch', o.remote, dir]);
      if (r.code !== 0) throw new Error(`clone of ${o.remote}: ${fail(r)}`);
      const head = await gitOk(['symbolic-ref', '--short', 'HEAD'], dir);
      if (head !== 'main') await gitOk(['branch', '--force', 'main', 'HEAD'], dir);
      const files = (await gitOk(['ls-tree', '-r', '--name-only', 'main'], dir)).split('\n').filter(Boolean).length;
      const commits = Number(await gitOk(['rev-list', '--count', 'main'], dir));
      const f: Fixture = { id: 'remote', kind: 'remote', label: o.remote, dir, files, bytes: 0, commits };
      log(`preparing remote content (${files} files, ${commits} commits)`);
      await prepare(f);
      trees.push(f);
    } else {
      log('building fixtures (cached under bench/.cache)');
      if (needTrees || wants(o, 'full')) {
        for (const t of recipe.trees) {
          const f = await treeFixture(t.id, t.packages);
          log(`  ${f.id}: ${f.files} files, ${(f.bytes / 1e6).toFixed(1)} MB (${f.label})`);
          trees.push(f);
        }
      }
      if (wants(o, 'depth1') || wants(o, 'full') || wants(o, 'fetch')) {
        history = await historyFixture(recipe.history.id, recipe.history.name, recipe.history.count);
        log(`  ${history.id}: ${history.commits} commits, tip ${history.files} files`);
      }
      if (wants(o, 'sweep') || wants(o, 'full')) {
        const base = trees.find((t) => t.id === recipe.sweep.base)!;
        for (const n of [recipe.sweep.shallow, recipe.sweep.deep]) {
          const f = await sweepFixture(`sweep-${n}`, base, n);
          log(`  ${f.id}: ${f.commits} commits, tip ${f.files} files`);
          sweeps.push(f);
        }
      }
      for (const f of [...trees, ...(history ? [history] : []), ...sweeps]) {
        log(`preparing ${f.id} on the servers`);
        await prepare(f);
      }
    }

    const servers: BenchServer[] = [
      ...(remote ? [remote] : []),
      ...(levelGit ? [levelGit] : []),
      ...(levelGitCold ? [levelGitCold] : []),
      ...pgServers,
      cgit,
      cgitGc,
      floor,
    ];
    if (postgres !== undefined) {
      for (const t of trees) {
        const paths = (await gitOk(['ls-tree', '-r', '--name-only', 'main'], t.dir)).split('\n').filter(Boolean);
        postgres.treeLevels[t.id] = Math.max(...paths.map((p) => p.split('/').length));
      }
    }
    let cloneSeq = 0;
    const clone =
      (f: Fixture, depth1: boolean) =>
      async (s: BenchServer): Promise<OpResult> => {
        const dest = join(clones, `c${cloneSeq++}`);
        const args = ['clone', '--quiet'];
        if (depth1) args.push('--depth', '1', '--single-branch');
        if (!o.checkout) args.push('--no-checkout');
        const r = await git([...args, s.url(f.id), dest]);
        rmSync(dest, { recursive: true, force: true });
        return { ms: r.ms, ok: r.code === 0, ...(r.code !== 0 ? { error: fail(r) } : {}) };
      };

    /** Records the floor through floorSource with `op`, then warms every server up once. */
    const warmUp = async (op: (s: BenchServer) => Promise<OpResult>, list: readonly BenchServer[]): Promise<void> => {
      if (list.includes(floor)) {
        (floor as ReplayServer).record(originOf(floorSource));
        const r = await op(floor);
        (floor as ReplayServer).replay();
        if (!r.ok) log(`  ! recording the floor from ${floorSource.name} failed: ${r.error}`);
      }
      for (const s of list) {
        if (s === floorSource && list.includes(floor)) continue; // just served the recording
        const r = await op(s);
        if (!r.ok) log(`  ! warm-up on ${s.name} failed: ${r.error}`);
      }
    };

    const report = (workload: string, f: Fixture, samples: Map<string, Sample[]>, extra?: (name: string, r: Result) => Record<string, number>): void => {
      for (const [name, ss] of samples) {
        const r = toResult(workload, f.id, name, ss);
        if (extra) r.extra = extra(name, r);
        results.push(r);
        const cpu = r.cpuMeanMs === null ? '' : ` cpu ${r.cpuMeanMs.toFixed(0)} ms`;
        const err = r.errors > 0 ? ` (${r.errors} failed: ${r.firstError})` : '';
        log(`    ${name.padEnd(9)} median ${r.time.median.toFixed(0).padStart(6)} ms  p95 ${r.time.p95.toFixed(0).padStart(6)} ms${cpu}${err}`);
      }
    };

    const cloneWorkload = async (workload: string, f: Fixture, depth1: boolean): Promise<void> => {
      log(`${workload}: ${f.id} (${depth1 ? 'depth 1' : 'full'}), ${o.runs} runs`);
      const op = clone(f, depth1);
      await warmUp(op, servers);
      report(workload, f, await alternate(servers, o.runs, op));
    };

    /** Depth-1 clones of several fixtures, interleaved run by run (their ratio is the point). */
    const interleavedClones = async (workload: string, fs: readonly Fixture[], runs: number): Promise<void> => {
      log(`${workload}: ${fs.map((f) => f.id).join(' and ')} interleaved (depth 1), ${runs} runs`);
      const units = [];
      for (const f of fs) {
        const op = clone(f, true);
        await warmUp(op, servers);
        for (const s of servers) units.push({ label: `${f.id}\u0000${s.name}`, server: s, op: () => op(s) });
      }
      const samples = await alternateUnits(units, runs);
      for (const f of fs) {
        const mine = new Map<string, Sample[]>();
        for (const s of servers) mine.set(s.name, samples.get(`${f.id}\u0000${s.name}`)!);
        log(`  ${f.id}`);
        report(workload, f, mine);
      }
    };

    // ---- workloads
    if (o.remote !== null) {
      await cloneWorkload('depth1', trees[0]!, true);
      await cloneWorkload('full', trees[0]!, false);
    } else {
      if (wants(o, 'depth1')) for (const f of [...trees, ...(history ? [history] : [])]) await cloneWorkload('depth1', f, true);
      // The sweep compares two fixtures whose clones differ by a few percent at most: twice the
      // runs, so client-side jitter (±20% on a 2-core machine) does not decide the ratio.
      if (wants(o, 'sweep') && sweeps.length > 0) await interleavedClones('sweep', sweeps, o.runs * 2);
      if (wants(o, 'full')) for (const f of [...(history ? [history] : []), ...sweeps.slice(-1)]) await cloneWorkload('full', f, false);
      if (wants(o, 'fetch') && history) await fetchWorkload(history);
      if (wants(o, 'push') && trees[0]) await pushWorkload(trees[0]);
      if (wants(o, 'concurrent') && trees[0]) await concurrentWorkload(trees[0]);
      if (wants(o, 'api') && trees[0]) await apiWorkload(trees[0]);
      if (wants(o, 'review')) await reviewWorkload();
      if (wants(o, 'scale') && pg !== null && postgres !== undefined && trees[0]) {
        log(`scale: ${o.processes.join(', ')} level-git processes over one PostgreSQL behind one port`);
        postgres.scale = await runScale({ pg, fixture: trees[0], processes: o.processes, quick: o.quick, clones, work, leveldb: levelGit }, log);
      }
      // Its own servers (level-git under a heap limit, C git as pushed and after gc): last.
      if (wants(o, 'history')) historyReport = await runHistory(o, log, work, clones);
    }

    /**
     * An agent's step: change one file and commit it to a branch, one commit after another.
     * level-git through its JSON API (POST /api/v1/repos/:name/commits, no clone needed),
     * against the usual way with a local clone (`git commit -a` + `git push`) to level-git
     * and to C git. Each run commits on top of the previous one.
     */
    async function apiWorkload(f: Fixture): Promise<void> {
      if (levelGit === null) {
        notes.push('api: not measured (level-git unavailable)');
        return;
      }
      const lg = levelGit;
      const origin = originOf(lg);
      const sizes = o.quick ? [1, 10] : [1, 10, 100, 1000];
      const files = (n: number, i: number) => Array.from({ length: n }, (_, k) => ({ path: `agent/f${k}.ts`, content: `export const step${k} = ${i};\n` }));
      const apiCommit =
        (n: number, at = origin) =>
        async (i: number): Promise<OpResult> => {
          const t0 = performance.now();
          try {
            const res = await fetch(`${at}/api/v1/repos/${encodeURIComponent(f.id)}/commits`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', 'x-api-key': BENCH_API_KEY },
              body: JSON.stringify({
                branch: `agent-api-${n}`,
                baseBranch: 'main',
                message: `agent step ${i}`,
                author: { name: 'Bench', email: 'bench@example.com' },
                changes: files(n, i),
              }),
            });
            const text = await res.text();
            return { ms: performance.now() - t0, ok: res.status === 201, ...(res.status !== 201 ? { error: `${res.status} ${text.slice(0, 300)}` } : {}) };
          } catch (e) {
            return { ms: performance.now() - t0, ok: false, error: String(e) };
          }
        };
      const probe = await apiCommit(1)(-1);
      if (!probe.ok) {
        notes.push(`api: not measured, the JSON API answered ${probe.error?.split('\n')[0]}`);
        log(`  ! JSON API unavailable: ${probe.error}`);
        return;
      }
      const clientFor = async (s: BenchServer): Promise<string> => {
        const dir = join(clones, `agent-${s.name}`);
        await gitOk(['clone', '--quiet', s.url(f.id), dir]);
        return dir;
      };
      const gitCommitPush =
        (dir: string, n: number) =>
        async (i: number): Promise<OpResult> => {
          mkdirSync(join(dir, 'agent'), { recursive: true });
          for (const c of files(n, i)) writeFileSync(join(dir, c.path), c.content);
          const c = await git(['add', 'agent'], dir);
          const t = await git(['commit', '--quiet', '-m', `agent step ${i}`], dir);
          const p = await git(['push', '--quiet', 'origin', `HEAD:refs/heads/agent-git-${n}`], dir);
          const ok = c.code === 0 && t.code === 0 && p.code === 0;
          return { ms: c.ms + t.ms + p.ms, ok, ...(ok ? {} : { error: fail(p.code !== 0 ? p : t) }) };
        };
      const lgDir = await clientFor(lg);
      const cgDir = await clientFor(cgit);
      for (const n of sizes) {
        log(`api-commit: ${n} changed file(s) per commit on ${f.id}, ${o.runs} runs`);
        const api = apiCommit(n);
        const lgPush = gitCommitPush(lgDir, n);
        const cgPush = gitCommitPush(cgDir, n);
        await api(-1);
        await lgPush(-1);
        await cgPush(-1);
        let run = 0;
        const pgApi = pgServers[0] === undefined ? null : { server: pgServers[0], op: apiCommit(n, originOf(pgServers[0])) };
        if (pgApi) await pgApi.op(-1);
        const units = [
          ...(pgApi ? [{ label: 'level-git-pg JSON API', server: pgApi.server, op: () => pgApi.op(run) }] : []),
          { label: 'level-git JSON API', server: lg, op: () => api(run) },
          { label: 'level-git git push', server: lg, op: () => lgPush(run) },
          { label: 'cgit git push', server: cgit as BenchServer, op: () => cgPush(run) },
        ];
        const samples = new Map<string, Sample[]>(units.map((u) => [u.label, []]));
        for (let i = 0; i < o.runs; i++) {
          run = i;
          for (const u of rotation(units, i)) samples.get(u.label)!.push(await measure(u.server, u.op, 'receive'));
        }
        report(`api-commit-${n}`, f, samples);
      }
    }

    /**
     * Issue 12's review benchmark: compare and merge through the JSON API on a large tree vs C git
     * in a bare repository (bench/engine/merge.ts, in its own process: it builds its own fixture).
     */
    async function reviewWorkload(): Promise<void> {
      const files = process.env.BENCH_FILES ?? (o.quick ? '2000' : '20000');
      log(`review: compare and merge on a ${Number(files).toLocaleString('en')}-file tree (bench/engine/merge.ts)`);
      const r = await run(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'bench', 'engine', 'merge.ts')], {
        cwd: PROJECT_ROOT,
        env: { ...process.env, BENCH_FILES: files, BENCH_REVIEW_JSON: '1' },
      });
      const line = r.stdout.split('\n').find((l) => l.startsWith('review-json '));
      if (r.code !== 0 || line === undefined) {
        notes.push(`review: not measured (${fail(r)})`);
        log(`  ! review failed: ${fail(r)}`);
        return;
      }
      const m = JSON.parse(line.slice('review-json '.length)) as {
        files: number;
        compare: number;
        gitCompare: number;
        merge: number;
        gitMerge: number;
        cloneMergePush: number;
      };
      const rows = [
        { what: 'compare (API) vs git diff --numstat A...B', ours: m.compare, git: m.gitCompare, target: 0.5 },
        { what: 'merge (API) vs merge-tree + commit-tree + update-ref', ours: m.merge, git: m.gitMerge, target: 1.0 },
        { what: 'merge (API) vs clone + git merge + push', ours: m.merge, git: m.cloneMergePush, target: 1.0 },
      ];
      for (const x of rows) {
        const ratio = x.ours / x.git;
        const line = `review, ${m.files.toLocaleString('en')}-file tree: ${x.what}: ${x.ours.toFixed(1)} ms / ${x.git.toFixed(1)} ms = ${ratio.toFixed(2)}× (target ≤ ${x.target.toFixed(1)}×${ratio <= x.target ? ', met' : ', missed'})`;
        log(`    ${line}`);
        notes.push(line);
      }
    }

    async function fetchWorkload(f: Fixture): Promise<void> {
      log(`fetch: one new commit on ${f.id}, ${o.runs} runs`);
      await ensurePrevBranch(f);
      const template = join(clones, 'fetch-template');
      await gitOk(['clone', '--quiet', '--no-checkout', '--single-branch', '--branch', 'prev', `file://${f.dir}`, template]);
      let seq = 0;
      const op = async (s: BenchServer): Promise<OpResult> => {
        const dest = join(clones, `f${seq++}`);
        const cp = await run('cp', ['-a', template, dest]);
        if (cp.code !== 0) return { ms: 0, ok: false, error: cp.stderr };
        const r = await git(['fetch', '--quiet', s.url(f.id), '+refs/heads/main:refs/remotes/origin/main'], dest);
        rmSync(dest, { recursive: true, force: true });
        return { ms: r.ms, ok: r.code === 0, ...(r.code !== 0 ? { error: fail(r) } : {}) };
      };
      await warmUp(op, servers);
      report('fetch', f, await alternate(servers, o.runs, op));
      rmSync(template, { recursive: true, force: true });
    }

    async function pushWorkload(f: Fixture): Promise<void> {
      log(`push: ${f.files}-file tree into an empty repository, ${o.runs} runs`);
      const targets = pushTargets;
      const op = async (s: BenchServer, repo: string): Promise<OpResult> => {
        const r = await git(['push', '--quiet', s.url(repo), 'main:refs/heads/main'], f.dir);
        return { ms: r.ms, ok: r.code === 0, ...(r.code !== 0 ? { error: fail(r) } : {}) };
      };
      // Warm-up into a throwaway repository, then one fresh repository per run.
      for (const s of targets) {
        await s.createRepo('push-warmup');
        const r = await op(s, 'push-warmup');
        if (!r.ok) log(`  ! warm-up push to ${s.name}: ${r.error}`);
      }
      const samples = await alternate(targets, o.runs, (s, i) => op(s, `push-${i}`), { kind: 'receive', prepare: (s, i) => s.createRepo(`push-${i}`) });
      report('push', f, samples, (_name, r) => ({
        filesPerSecond: f.files / (r.time.median / 1000),
        megabytesPerSecond: (r.bytes ?? 0) / 1e6 / (r.time.median / 1000),
      }));
    }

    async function concurrentWorkload(f: Fixture): Promise<void> {
      const op = clone(f, true);
      await warmUp(op, servers);
      for (const n of o.concurrency) {
        const maxRounds = n === 1 ? o.runs : Math.max(2, Math.min(o.runs, Math.ceil(64 / n)));
        log(`concurrent: ${n} depth-1 clones of ${f.id} at once, up to ${maxRounds} rounds`);
        const per = new Map<string, { walls: number[]; lat: number[]; cpu: number; cpuKnown: boolean; errors: number; clones: number }>(
          servers.map((s) => [s.name, { walls: [], lat: [], cpu: 0, cpuKnown: true, errors: 0, clones: 0 }]),
        );
        const started = performance.now();
        for (let round = 0; round < maxRounds; round++) {
          if (round >= 2 && performance.now() - started > (o.quick ? 30_000 : 180_000)) break;
          for (const s of rotation(servers, round)) {
            const acc = per.get(s.name)!;
            await s.idle();
            await s.resetStats();
            const cpu0 = s.cpuMs();
            const t0 = performance.now();
            const rs = await Promise.all(Array.from({ length: n }, () => op(s)));
            const wall = performance.now() - t0;
            await s.idle();
            const cpu1 = s.cpuMs();
            const misses = (await s.stats()).misses;
            acc.walls.push(wall);
            for (const r of rs) {
              if (r.ok) acc.lat.push(r.ms);
              else acc.errors++;
            }
            acc.errors += misses;
            acc.clones += n;
            if (cpu0 === null || cpu1 === null) acc.cpuKnown = false;
            else acc.cpu += cpu1 - cpu0;
          }
        }
        for (const s of servers) {
          const acc = per.get(s.name)!;
          const c: ConcurrencyResult = {
            server: s.name,
            fixture: f.id,
            concurrency: n,
            rounds: acc.walls.length,
            clones: acc.clones,
            errors: acc.errors,
            throughput: summarize(acc.walls.map((w) => n / (w / 1000))).median,
            latency: summarize(acc.lat),
            cpuPerCloneMs: acc.cpuKnown && acc.clones > 0 ? acc.cpu / acc.clones : null,
          };
          concurrency.push(c);
          log(`    ${s.name.padEnd(9)} ${c.throughput.toFixed(2)} clones/s  p95 ${c.latency.p95.toFixed(0)} ms${c.errors ? ` (${c.errors} failed)` : ''}`);
        }
      }
    }

    const gitVersion = (await gitOk(['--version'])).replace('git version ', '');
    const commit = await git(['rev-parse', '--short', 'HEAD'], PROJECT_ROOT);
    return {
      meta: {
        date: new Date().toISOString(),
        git: gitVersion,
        node: process.version,
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model ?? 'unknown',
        runs: o.runs,
        quick: o.quick,
        checkout: o.checkout,
        floorSource: floorSource.name,
        commit: commit.stdout.trim(),
        remote: o.remote,
        servers: servers.map((s) => s.name),
        serverFrom: serverFrom(),
      },
      fixtures,
      results,
      concurrency,
      notes,
      ...(historyReport !== undefined ? { history: historyReport } : {}),
      ...(postgres !== undefined ? { postgres } : {}),
    };
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    rmSync(clones, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }
}
