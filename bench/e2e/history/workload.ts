/**
 * The `history` workload (issue 9): a long generated history (generate.ts) pushed whole into
 * an empty repository on level-git and on C git's `git http-backend`, then stored bytes, full
 * clones, an incremental fetch of the 10 newest commits, depth-1 clones warm and cold (a fresh
 * server process: empty pack cache) and one sweep of the stored history, each beside C git as
 * pushed and after `git gc`, in the same run. Every step is bounded (the client is killed past
 * `--history-timeout`, the level-git server runs under a V8 heap limit), and a failure is
 * recorded as one, with what the server said, never a hang.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchOptions } from '../../shared/args.js';
import { gitEnv, gitOk, run, type RunResult } from '../../shared/exec.js';
import { rotation, toResult, type OpResult, type Result, type Sample } from '../../shared/measure.js';
import { readPeakRssKb } from '../../shared/proc.js';
import type { BenchServer } from '../../shared/server-types.js';
import { historyFixture, type Fixture } from '../fixtures/fixtures.js';
import { localHistory } from './local.js';
import { PROJECT_ROOT } from '../servers/control.js';
import { startHttpBackend } from '../servers/http-backend.js';
import { startLevelGit, type LevelGitServer } from '../servers/level-git.js';
import { generatedHistory } from './generate.js';

/** Seed of the generated history: fixed, so every run and machine pushes the same commits. */
const SEED = 1;
/** A server whose runs of one step already took this long is not run again in that step. */
const STEP_BUDGET_MS = 180_000;
/** How many of the newest commits the incremental fetch brings. */
const FETCH_COMMITS = 10;
/**
 * Runs of the fetch at least, whatever `--history-runs` says: a fetch is cheap at any history
 * size, and its first run after the full clones (a request path not taken yet in that process,
 * reported on its own row) is not what a server that has been serving fetches answers.
 */
export const FETCH_RUNS = 3;

/** One bounded process run: its result, and whether the bound ended it. */
export interface BoundedRun extends RunResult {
  timedOut: boolean;
}

/** The sweep of the stored history (level-git) and C git's walk of every reachable object. */
export interface SweepCost {
  ok: boolean;
  ms: number | null;
  cpuMs: number | null;
  peakRssKb: number | null;
  objects?: number;
  /** The next sweep, after an ephemeral commit expired (sweep-main.ts). */
  again?: { ms: number; cpuMs: number; refs: number; objects: number };
  /** The first full clone after the sweep, in its process (sweep-main.ts): from the mark record, and planned from nothing. */
  firstClone?: { fromMark: { ms: number; cpuMs: number; fromMark: boolean }; planned: { ms: number; cpuMs: number; fromMark: boolean } };
  error?: string;
}

/** Everything the history workload measured. */
export interface HistoryReport {
  fixture: Fixture;
  params: { commits: number; files: number; seed: number; runs: number; timeoutS: number; heapMb: number; fullPacks?: boolean };
  /** Workloads: push, full, fetch, depth1, depth1-cold; servers: level-git, cgit, cgit-gc. */
  results: Result[];
  /** Bytes on disk per server: level-git's database folder, the bare repository as pushed, after gc. */
  storedBytes: Record<string, number | null>;
  gcMs: number | null;
  /**
   * level-git's server CPU from the end of the push step to the start of the full clone step:
   * its work after the push (the tips' depth-1 objects, plans and warmed packs) and the database's
   * compactions, where C git's nearest is `git gc` (`gcMs`).
   */
  afterPushCpuMs?: number | null;
  /** level-git's `engine.sweep()` over the database after the push. */
  sweep: SweepCost | null;
  /** C git's nearest work, for scale: `git rev-list --objects --all` (the mark phase of gc). */
  walk: SweepCost | null;
  notes: string[];
}

type Log = (line: string) => void;

/** Runs a command in its own process group; past timeoutMs the whole group is killed. */
export function runBounded(cmd: string, args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs: number }): Promise<BoundedRun> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => {
      err.push(b);
      if (err.length > 400) err.splice(0, 200);
    });
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, opts.timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), ms: performance.now() - start, timedOut });
    });
  });
}

function gitBounded(args: readonly string[], cwd: string | undefined, timeoutMs: number): Promise<BoundedRun> {
  return runBounded('git', args, { cwd, env: gitEnv(), timeoutMs });
}

function failure(r: BoundedRun, timeoutMs: number): string {
  if (r.timedOut) return `timed out after ${(timeoutMs / 1000).toFixed(0)} s (killed)`;
  return `exit ${r.code}: ${r.stderr.trim().split('\n').slice(-3).join(' | ').slice(-600)}`;
}

/** Resolves with the promise's value, or with 'timeout' after ms. */
async function within<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), ms)));
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

/** Bytes of every file under dir (`du -sb`), or null. */
async function diskBytes(dir: string): Promise<number | null> {
  const r = await run('du', ['-sb', dir]);
  const n = Number(r.stdout.split(/\s/)[0]);
  return r.code === 0 && Number.isFinite(n) ? n : null;
}

/**
 * Bytes under dir once they stop changing: the same size for 5 samples a second apart (bounded
 * by `timeoutMs`). LevelDB keeps a large batch in its write-ahead log until the next write, and
 * the compaction the engine schedules 2 s after a large write briefly holds input and output
 * tables; this is the size those transients settle to. A bare repository settles at once.
 */
async function settledBytes(dir: string, timeoutMs: number): Promise<number | null> {
  const end = Date.now() + timeoutMs;
  let last = await diskBytes(dir);
  let same = 0;
  while (same < 5 && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = await diskBytes(dir);
    same = now === last ? same + 1 : 0;
    last = now;
  }
  return last;
}

/**
 * level-git behind a stable name: the process can be replaced (a fresh one for cold clones,
 * a new one after a crash) while the table keeps one row per server.
 */
class LevelGitSlot implements BenchServer {
  readonly name = 'level-git';
  current: LevelGitServer | null = null;
  /** Highest VmHWM seen by the poller since the last resetPeak (survives a crash). */
  #peak = 0;
  #poll: NodeJS.Timeout | undefined;

  constructor(
    private readonly dataDir: string,
    private readonly heapMb: number,
    private readonly fullPacks = false,
  ) {}

  async start(): Promise<void> {
    await this.stop();
    // No Node request timeout: a push of the whole history is one request; the bench bounds it.
    this.current = await startLevelGit(
      this.dataDir,
      'level-git',
      ['--request-timeout', '0', ...(this.fullPacks ? ['--full-packs'] : [])],
      [`--max-old-space-size=${this.heapMb}`],
    );
    const pid = this.current.pid;
    this.#poll = setInterval(() => {
      const kb = readPeakRssKb(pid);
      if (kb !== null && kb > this.#peak) this.#peak = kb;
    }, 250);
    this.#poll.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#poll);
    const c = this.current;
    this.current = null;
    await c?.stop();
  }

  /** How the process ended, or null while it runs. */
  exited(): string | null {
    return this.current === null ? 'not running' : this.current.exited();
  }

  #s(): LevelGitServer {
    if (this.current === null) throw new Error('level-git is not running');
    return this.current;
  }

  url(repo: string): string {
    return this.#s().url(repo);
  }
  cpuMs(): number | null {
    return this.current?.cpuMs() ?? null;
  }
  async peakRssKb(): Promise<number | null> {
    const now = this.current === null ? null : await this.current.peakRssKb();
    const best = Math.max(this.#peak, now ?? 0);
    return best > 0 ? best : null;
  }
  async resetPeak(): Promise<void> {
    await this.#s().resetPeak();
    this.#peak = 0;
  }
  createRepo(name: string): Promise<void> {
    return this.#s().createRepo(name);
  }
  stats() {
    return this.#s().stats();
  }
  resetStats(): Promise<void> {
    return this.#s().resetStats();
  }
  idle(): Promise<void> {
    return this.#s().idle();
  }
}

/**
 * Measures one operation against one server, like measure() in shared/measure.ts, but bounded:
 * the operation bounds itself, waiting for the server to go quiet is bounded too, and a server
 * that died or stopped answering makes a failed sample with its reason.
 */
async function boundedSample(s: BenchServer, op: () => Promise<OpResult>, kind: 'upload' | 'receive', timeoutMs: number): Promise<Sample> {
  const dead = (): string | null => (s instanceof LevelGitSlot ? s.exited() : null);
  try {
    if ((await within(s.idle(), timeoutMs)) === 'timeout')
      return { ms: 0, cpuMs: null, bytes: 0, peakRssKb: null, ok: false, error: 'server still busy before the step' };
    await s.resetStats();
    await s.resetPeak();
    const cpu0 = s.cpuMs();
    const front0 = s.frontCpuMs?.() ?? null;
    const r = await op();
    // A server that crashed is reaped a moment after the client saw the connection drop.
    if (!r.ok) await new Promise((resolve) => setTimeout(resolve, 500));
    const gone = dead();
    if (gone !== null) return { ms: r.ms, cpuMs: null, bytes: 0, peakRssKb: await s.peakRssKb(), ok: false, error: `server died: ${gone}` };
    // After a failed client the server may still be working for nobody: wait less for it.
    const quiet = await within(s.idle(), r.ok ? timeoutMs : 30_000);
    const cpu1 = s.cpuMs();
    const front1 = s.frontCpuMs?.() ?? null;
    const stats = await s.stats();
    const peakRssKb = (await s.peakRssKb()) ?? stats.childPeakRssKb;
    const error = quiet === 'timeout' ? 'server still busy after the client finished' : r.error;
    return {
      ms: r.ms,
      cpuMs: cpu0 === null || cpu1 === null ? null : cpu1 - cpu0,
      ...(s.frontCpuMs ? { frontCpuMs: front0 === null || front1 === null ? null : front1 - front0 } : {}),
      bytes: kind === 'upload' ? stats.uploadPackBytes : stats.receivePackBytes,
      peakRssKb,
      ok: r.ok && quiet !== 'timeout',
      ...(error !== undefined ? { error } : {}),
    };
  } catch (e) {
    const gone = dead();
    return {
      ms: 0,
      cpuMs: null,
      bytes: 0,
      peakRssKb: await s.peakRssKb().catch(() => null),
      ok: false,
      error: gone !== null ? `server died: ${gone}` : String(e),
    };
  }
}

/** Runs the history workload and returns what it measured. */
export async function runHistory(o: BenchOptions, log: Log, work: string, clones: string): Promise<HistoryReport> {
  const h = o.history;
  const timeoutMs = h.timeoutS * 1000;
  const notes: string[] = [];
  const results: Result[] = [];
  let fixture: Fixture;
  if (h.repo !== null) {
    log(`history: branch ${h.repo.branch} of ${h.repo.path} (fetched once, cached under bench/.cache/repos)`);
    fixture = await localHistory(h.repo.path, h.repo.branch);
  } else if (h.npm !== null) {
    log(`history: ${h.npm.count} published versions of ${h.npm.name} (npm pack, cached under bench/.cache)`);
    fixture = await historyFixture(`history-npm-${h.npm.name.replace(/^@/, '').replace('/', '-')}-${h.npm.count}`, h.npm.name, h.npm.count);
  } else {
    log(`history: generating ${h.commits} commits over ${h.files} files (cached under bench/.cache/repos)`);
    fixture = await generatedHistory({ commits: h.commits, files: h.files, seed: SEED }, log);
  }
  log(`  ${fixture.id}: ${fixture.commits} commits, tip ${fixture.files} files, ${(fixture.bytes / 1e6).toFixed(1)} MB`);
  const report: HistoryReport = {
    fixture,
    params: { commits: fixture.commits, files: fixture.files, seed: SEED, runs: h.runs, timeoutS: h.timeoutS, heapMb: h.heapMb, fullPacks: h.fullPacks },
    results,
    storedBytes: {},
    gcMs: null,
    sweep: null,
    walk: null,
    notes,
  };
  const base = join(work, 'history');
  const cgitRoot = join(base, 'cgit');
  const gcRoot = join(base, 'cgit-gc');
  const lgData = join(base, 'level-git-data');
  mkdirSync(cgitRoot, { recursive: true });
  mkdirSync(gcRoot, { recursive: true });
  const repo = fixture.id;
  const stops: (() => Promise<void>)[] = [];
  try {
    const cgit = await startHttpBackend(cgitRoot, 'cgit');
    stops.push(() => cgit.stop());
    const cgitGc = await startHttpBackend(gcRoot, 'cgit-gc');
    stops.push(() => cgitGc.stop());
    const lg = new LevelGitSlot(lgData, h.heapMb, h.fullPacks);
    stops.push(() => lg.stop());
    let lgUsable = !o.noLevelGit;
    if (lgUsable) {
      try {
        await lg.start();
      } catch (e) {
        lgUsable = false;
        notes.push(`level-git not measured: ${(e as Error).message.split('\n')[0]}`);
      }
    }
    /** Restarts level-git after a failure, so the next step starts from a live server. */
    const revive = async (): Promise<void> => {
      if (!lgUsable) return;
      if (lg.exited() === null) {
        const quiet = await within(lg.idle(), 5_000).catch(() => 'timeout' as const);
        if (quiet !== 'timeout') return;
      }
      log('  restarting level-git');
      try {
        await lg.start();
      } catch (e) {
        lgUsable = false;
        notes.push(`level-git could not be restarted: ${(e as Error).message.split('\n')[0]}`);
      }
    };

    const record = (workload: string, server: string, samples: Sample[]): Result => {
      const r = toResult(workload, repo, server, samples);
      results.push(r);
      const cpu = r.cpuMeanMs === null ? '' : ` cpu ${(r.cpuMeanMs / 1000).toFixed(2)} s`;
      const rss = r.peakRssKb === null ? '' : ` peak ${(r.peakRssKb / 1024).toFixed(0)} MB`;
      const err = r.errors > 0 ? ` (${r.errors} failed: ${r.firstError})` : '';
      log(`    ${server.padEnd(9)} median ${(r.time.median / 1000).toFixed(2).padStart(8)} s${cpu}${rss}${err}`);
      return r;
    };

    /**
     * Runs `op` on each server `runs` times, rotating the order each round; a server whose
     * sample failed, or whose samples of this step took over STEP_BUDGET_MS, is not run again.
     */
    const rounds = async (
      workload: string,
      servers: BenchServer[],
      op: (s: BenchServer) => Promise<OpResult>,
      opts: { runs?: number; kind?: 'upload' | 'receive'; before?: (s: BenchServer) => Promise<void> } = {},
    ): Promise<void> => {
      log(`history ${workload}: ${fixture.id}, up to ${opts.runs ?? h.runs} runs`);
      const samples = new Map<string, Sample[]>(servers.map((s) => [s.name, []]));
      const spent = new Map<string, number>(servers.map((s) => [s.name, 0]));
      const done = new Set<string>();
      for (let i = 0; i < (opts.runs ?? h.runs); i++) {
        for (const s of rotation(servers, i)) {
          if (done.has(s.name)) continue;
          if (s === lg) {
            if (!lgUsable) {
              done.add(s.name);
              continue;
            }
            await revive();
          }
          await opts.before?.(s);
          const sample = await boundedSample(s, () => op(s), opts.kind ?? 'upload', timeoutMs);
          samples.get(s.name)!.push(sample);
          spent.set(s.name, spent.get(s.name)! + sample.ms);
          if (!sample.ok || spent.get(s.name)! > STEP_BUDGET_MS) done.add(s.name);
          if (!sample.ok) log(`    ${s.name}: failed: ${sample.error}`);
        }
      }
      for (const s of servers) if (samples.get(s.name)!.length > 0) record(workload, s.name, samples.get(s.name)!);
    };

    // ---- push of the whole history into an empty repository (one push, one pack)
    const pushOp = async (s: BenchServer): Promise<OpResult> => {
      const r = await gitBounded(['push', '--quiet', s.url(repo), 'main:refs/heads/main'], fixture.dir, timeoutMs);
      return { ms: r.ms, ok: r.code === 0, ...(r.code !== 0 ? { error: failure(r, timeoutMs) } : {}) };
    };
    const pushServers: BenchServer[] = [cgit, ...(lgUsable ? [lg] : [])];
    for (const s of pushServers) await s.createRepo(repo);
    await rounds('push', pushServers, pushOp, { runs: 1, kind: 'receive' });
    const lgPush = results.find((r) => r.workload === 'push' && r.server === 'level-git');
    if (lgUsable && (lgPush === undefined || lgPush.errors > 0)) {
      notes.push(`level-git: the push failed (${lgPush?.firstError ?? 'not run'}), so nothing after it was measured on level-git`);
      lgUsable = false;
      await lg.stop();
    }

    // ---- stored bytes, as pushed; then C git's copy after gc
    const pushedCpu = lgUsable ? lg.cpuMs() : null;
    if (lgUsable) {
      await within(lg.idle(), timeoutMs);
      report.storedBytes['level-git'] = await diskBytes(lgData);
      report.storedBytes['level-git settled'] = await settledBytes(lgData, timeoutMs);
    }
    report.storedBytes.cgit = await diskBytes(join(cgitRoot, `${repo}.git`));
    const cp = await run('cp', ['-a', join(cgitRoot, `${repo}.git`), join(gcRoot, `${repo}.git`)]);
    if (cp.code !== 0) throw new Error(`copy for gc: ${cp.stderr}`);
    const gc = await gitBounded(['gc', '--quiet'], join(gcRoot, `${repo}.git`), timeoutMs);
    if (gc.code !== 0) throw new Error(`git gc: ${failure(gc, timeoutMs)}`);
    report.gcMs = gc.ms;
    report.storedBytes['cgit-gc'] = await diskBytes(join(gcRoot, `${repo}.git`));
    const mb = (n: number | null | undefined): string => (n == null ? '–' : `${(n / 1e6).toFixed(1)} MB`);
    log(
      `  stored: level-git ${mb(report.storedBytes['level-git'])} (settled ${mb(report.storedBytes['level-git settled'])}), cgit ${mb(report.storedBytes.cgit)}, cgit-gc ${mb(report.storedBytes['cgit-gc'])} (gc ${(gc.ms / 1000).toFixed(1)} s)`,
    );

    const all: BenchServer[] = [lg, cgit, cgitGc];
    let seq = 0;
    const cloneOp =
      (depth1: boolean) =>
      async (s: BenchServer): Promise<OpResult> => {
        const dest = join(clones, `h${seq++}`);
        const args = ['clone', '--quiet'];
        if (depth1) args.push('--depth', '1', '--single-branch');
        if (!o.checkout) args.push('--no-checkout');
        const r = await gitBounded([...args, s.url(repo), dest], undefined, timeoutMs);
        rmSync(dest, { recursive: true, force: true });
        return { ms: r.ms, ok: r.code === 0, ...(r.code !== 0 ? { error: failure(r, timeoutMs) } : {}) };
      };

    // ---- full clone (the first run of each server is its first full clone)
    const cloneCpu = lgUsable ? lg.cpuMs() : null;
    if (pushedCpu !== null && cloneCpu !== null) report.afterPushCpuMs = cloneCpu - pushedCpu;
    await rounds('full', all, cloneOp(false));

    // ---- incremental fetch of the newest commits into a clone of main~10
    {
      const template = join(clones, 'history-fetch-template');
      // The clone a client of main~10 has: only what main~10 reaches (git sends just that over file://).
      const back = Math.min(FETCH_COMMITS, fixture.commits - 1);
      const prev = await gitOk(['rev-parse', `main~${back}`], fixture.dir);
      await gitOk(['update-ref', 'refs/heads/prev', prev], fixture.dir);
      const t = await gitBounded(
        ['clone', '--quiet', '--bare', '--single-branch', '--branch', 'prev', `file://${fixture.dir}`, template],
        undefined,
        timeoutMs,
      );
      if (t.code !== 0) throw new Error(`fetch template: ${failure(t, timeoutMs)}`);
      const news = await gitOk(['rev-list', '--count', `${prev}..main`], fixture.dir);
      notes.push(`fetch: main~${back}..main is ${news} commits (merged topic commits included)`);
      let fseq = 0;
      const fetchOp = async (s: BenchServer): Promise<OpResult> => {
        const dest = join(clones, `hf${fseq++}`);
        const c = await run('cp', ['-a', template, dest]);
        if (c.code !== 0) return { ms: 0, ok: false, error: c.stderr };
        const r = await gitBounded(['fetch', '--quiet', s.url(repo), '+refs/heads/main:refs/remotes/origin/main'], dest, timeoutMs);
        rmSync(dest, { recursive: true, force: true });
        return { ms: r.ms, ok: r.code === 0, ...(r.code !== 0 ? { error: failure(r, timeoutMs) } : {}) };
      };
      await rounds('fetch', all, fetchOp, { runs: Math.max(h.runs, FETCH_RUNS) });
      rmSync(template, { recursive: true, force: true });
    }

    // ---- depth-1 clone, warm: one untimed clone per server first (level-git: its pack cache)
    {
      const op = cloneOp(true);
      for (const s of all) {
        if (s === lg && !lgUsable) continue;
        if (s === lg) await revive();
        await boundedSample(s, () => op(s), 'upload', timeoutMs);
      }
      await rounds('depth1', all, op);
    }

    // ---- depth-1 clone, cold: a fresh level-git process before each run (empty pack cache)
    await rounds('depth1-cold', all, cloneOp(true), {
      before: async (s) => {
        if (s === lg && lgUsable) await lg.start();
      },
    });

    // ---- the sweep of the stored history, in its own bounded process
    if (lgUsable) {
      await lg.stop();
      report.storedBytes['level-git at rest'] = await diskBytes(lgData);
      log('history sweep: engine.sweep() over the database after the push');
      const r = await runBounded(
        process.execPath,
        [`--max-old-space-size=${h.heapMb}`, '--import', 'tsx', join(PROJECT_ROOT, 'bench/e2e/history/sweep-main.ts'), '--data', lgData],
        {
          cwd: PROJECT_ROOT,
          env: { ...process.env, NODE_ENV: 'production' },
          timeoutMs,
        },
      );
      const last = r.stdout.trim().split('\n').pop() ?? '';
      let parsed: {
        ms?: number;
        cpuMs?: number;
        peakRssKb?: number;
        objects?: number;
        again?: SweepCost['again'];
        firstClone?: SweepCost['firstClone'];
        error?: string;
      } = {};
      try {
        parsed = JSON.parse(last) as typeof parsed;
      } catch {
        parsed = { error: r.timedOut ? failure(r, timeoutMs) : `exit ${r.code}: ${r.stderr.trim().split('\n').slice(-2).join(' | ').slice(-400)}` };
      }
      if (r.timedOut) parsed.error = failure(r, timeoutMs);
      report.sweep = {
        ok: parsed.error === undefined && r.code === 0,
        ms: parsed.ms ?? (r.timedOut ? r.ms : null),
        cpuMs: parsed.cpuMs ?? null,
        peakRssKb: parsed.peakRssKb ?? null,
        ...(parsed.objects !== undefined ? { objects: parsed.objects } : {}),
        ...(parsed.again !== undefined ? { again: parsed.again } : {}),
        ...(parsed.firstClone !== undefined ? { firstClone: parsed.firstClone } : {}),
        ...(parsed.error !== undefined ? { error: parsed.error } : {}),
      };
      log(
        `    level-git sweep ${report.sweep.ms === null ? '–' : (report.sweep.ms / 1000).toFixed(2)} s, cpu ${report.sweep.cpuMs === null ? '–' : (report.sweep.cpuMs / 1000).toFixed(2)} s${report.sweep.error ? ` (failed: ${report.sweep.error})` : ''}`,
      );
    }
    {
      const TIME = '/usr/bin/time';
      const r = await runBounded(TIME, ['-f', '__T__ %U %S %M', 'git', 'rev-list', '--objects', '--all'], {
        cwd: join(cgitRoot, `${repo}.git`),
        env: gitEnv(),
        timeoutMs,
      }).catch(() => null);
      const m = r === null ? null : /__T__ ([\d.]+) ([\d.]+) (\d+)/.exec(r.stderr);
      report.walk =
        r !== null && r.code === 0 && m !== null
          ? { ok: true, ms: r.ms, cpuMs: (Number(m[1]) + Number(m[2])) * 1000, peakRssKb: Number(m[3]), objects: r.stdout.split('\n').filter(Boolean).length }
          : { ok: false, ms: null, cpuMs: null, peakRssKb: null, error: r === null ? `${TIME} unavailable` : failure(r, timeoutMs) };
      log(`    cgit rev-list --objects --all ${report.walk.ms === null ? '–' : (report.walk.ms / 1000).toFixed(2)} s`);
    }
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    rmSync(base, { recursive: true, force: true });
  }
  return report;
}
