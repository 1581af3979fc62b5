/**
 * The `scale` workload (`--db postgres`): 1, 2 and 4 level-git processes behind one port
 * (Node's cluster: the primary hands each new connection to the next worker), each an engine
 * over the same PostgreSQL database with `PostgresRefLock`, loaded by concurrent clients:
 * stock `git clone --depth 1` (clones/s) and API commits of 10 files on several branches
 * (commits/s; every request on a new connection, so the cluster spreads them). Each phase is
 * bounded in count and in time. The single on-disk (LevelDB) process of the suite is measured
 * the same way, for reference. Besides throughput: the machine's CPU busy share, the CPU the
 * level-git processes and the PostgreSQL backends spent per operation.
 */
import { readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { git } from '../../shared/exec.js';
import { summarize, type Summary } from '../../shared/stats.js';
import type { BenchPostgres } from '../../shared/postgres.js';
import type { BenchServer } from '../../shared/server-types.js';
import type { Fixture } from '../fixtures/fixtures.js';
import { BENCH_API_KEY, startLevelGit } from '../servers/level-git.js';

/** One throughput measurement. */
export interface ScaleRow {
  engine: 'postgres' | 'leveldb';
  processes: number;
  op: 'clone' | 'commit';
  fixture: string;
  clients: number;
  ops: number;
  errors: number;
  firstError?: string;
  seconds: number;
  perSecond: number;
  latency: Summary;
  /** Share of both cores busy during the phase (all processes of the machine), 0..1. */
  machineBusy: number;
  /** CPU of the level-git processes per operation, ms. */
  serverCpuMsPerOp: number | null;
  /** CPU of the PostgreSQL server (postmaster and backends) per operation, ms (null for LevelDB). */
  postgresCpuMsPerOp: number | null;
}

type Log = (line: string) => void;

/** Bounds of one phase. */
interface Bounds {
  clients: number;
  maxOps: number;
  maxMs: number;
}

/** Busy and total jiffies of the whole machine (/proc/stat's first line). */
function machineTicks(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  return { busy: total - idle, total };
}

/** Runs `op` from `clients` concurrent loops until maxOps were started or maxMs passed. */
async function phase(
  bounds: Bounds,
  op: (i: number) => Promise<{ ms: number; ok: boolean; error?: string }>,
  server: BenchServer,
  engine: ScaleRow['engine'],
  pg: BenchPostgres,
): Promise<Omit<ScaleRow, 'engine' | 'processes' | 'op' | 'fixture'>> {
  const lat: number[] = [];
  let started = 0;
  let errors = 0;
  let firstError: string | undefined;
  const m0 = machineTicks();
  const c0 = server.cpuMs();
  const p0 = engine === 'postgres' ? pg.cpuMs() : 0;
  const t0 = performance.now();
  const loop = async (): Promise<void> => {
    while (started < bounds.maxOps && performance.now() - t0 < bounds.maxMs) {
      const r = await op(started++);
      if (r.ok) lat.push(r.ms);
      else {
        errors++;
        firstError ??= r.error;
      }
    }
  };
  await Promise.all(Array.from({ length: bounds.clients }, loop));
  const seconds = (performance.now() - t0) / 1000;
  const m1 = machineTicks();
  const c1 = server.cpuMs();
  const p1 = engine === 'postgres' ? pg.cpuMs() : 0;
  const ops = lat.length;
  return {
    clients: bounds.clients,
    ops,
    errors,
    ...(firstError !== undefined ? { firstError } : {}),
    seconds,
    perSecond: ops / seconds,
    latency: summarize(lat),
    machineBusy: (m1.busy - m0.busy) / Math.max(1, m1.total - m0.total),
    serverCpuMsPerOp: c0 === null || c1 === null || ops === 0 ? null : (c1 - c0) / ops,
    postgresCpuMsPerOp: engine === 'postgres' && ops > 0 ? (p1 - p0) / ops : null,
  };
}

/** One API commit of `files` files on `branch`, on a new connection (so the cluster spreads them). */
function apiCommit(origin: string, repo: string, branch: string, files: number, step: number): Promise<{ ms: number; ok: boolean; error?: string }> {
  const body = JSON.stringify({
    branch,
    baseBranch: 'main',
    message: `scale step ${step}`,
    author: { name: 'Bench', email: 'bench@example.com' },
    changes: Array.from({ length: files }, (_, k) => ({ path: `scale/f${k}.ts`, content: `export const step${k} = ${step};\n` })),
  });
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = request(
      `${origin}/api/v1/repos/${encodeURIComponent(repo)}/commits`,
      { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'x-api-key': BENCH_API_KEY, 'content-length': Buffer.byteLength(body) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const ok = res.statusCode === 201;
          resolve({ ms: performance.now() - t0, ok, ...(ok ? {} : { error: `${res.statusCode} ${Buffer.concat(chunks).toString().slice(0, 300)}` }) });
        });
      },
    );
    req.on('error', (e) => resolve({ ms: performance.now() - t0, ok: false, error: String(e) }));
    req.end(body);
  });
}

/** Options of `runScale`. */
export interface ScaleOptions {
  pg: BenchPostgres;
  /** The tree to clone (pushed once into the scale database). */
  fixture: Fixture;
  processes: readonly number[];
  quick: boolean;
  /** Where clones go (tmpfs). */
  clones: string;
  /** A scratch directory for the servers. */
  work: string;
  /** The suite's single on-disk level-git (which has the fixture), measured the same way. */
  leveldb: BenchServer | null;
}

/** Runs the scale workload; returns one row per (engine, processes, operation). */
export async function runScale(o: ScaleOptions, log: Log): Promise<ScaleRow[]> {
  const rows: ScaleRow[] = [];
  const f = o.fixture;
  const cloneBounds: Bounds = o.quick ? { clients: 4, maxOps: 16, maxMs: 20_000 } : { clients: 8, maxOps: 64, maxMs: 60_000 };
  const commitBounds: Bounds = o.quick ? { clients: 4, maxOps: 40, maxMs: 20_000 } : { clients: 8, maxOps: 240, maxMs: 60_000 };
  const branches = 4;
  let seq = 0;
  const clone = (s: BenchServer) => async (): Promise<{ ms: number; ok: boolean; error?: string }> => {
    const dest = join(o.clones, `scale-${seq++}`);
    const r = await git(['clone', '--quiet', '--depth', '1', '--single-branch', '--no-checkout', s.url(f.id), dest]);
    rmSync(dest, { recursive: true, force: true });
    return { ms: r.ms, ok: r.code === 0, ...(r.code !== 0 ? { error: r.stderr.trim().split('\n').slice(-2).join(' | ') } : {}) };
  };
  const measureServer = async (s: BenchServer, engine: ScaleRow['engine'], processes: number, prefix: string): Promise<void> => {
    const origin = new URL(s.url('x')).origin;
    // Warm-up: every worker serves a clone and a commit (pack cache, object cache, connections).
    for (let i = 0; i < 2 * processes; i++) {
      await clone(s)();
      await apiCommit(origin, f.id, `${prefix}-b${i % branches}`, 10, -1 - i);
    }
    log(`  ${engine} × ${processes}: depth-1 clones of ${f.id}, ${cloneBounds.clients} clients`);
    const c = await phase(cloneBounds, clone(s), s, engine, o.pg);
    rows.push({ engine, processes, op: 'clone', fixture: f.id, ...c });
    log(
      `    ${c.perSecond.toFixed(2)} clones/s, p50 ${c.latency.median.toFixed(0)} ms, busy ${(c.machineBusy * 100).toFixed(0)}%${c.errors ? ` (${c.errors} failed: ${c.firstError})` : ''}`,
    );
    log(`  ${engine} × ${processes}: API commits of 10 files on ${branches} branches, ${commitBounds.clients} clients`);
    const m = await phase(commitBounds, (i) => apiCommit(origin, f.id, `${prefix}-b${i % branches}`, 10, i), s, engine, o.pg);
    rows.push({ engine, processes, op: 'commit', fixture: f.id, ...m });
    log(
      `    ${m.perSecond.toFixed(1)} commits/s, p50 ${m.latency.median.toFixed(0)} ms, busy ${(m.machineBusy * 100).toFixed(0)}%${m.errors ? ` (${m.errors} failed: ${m.firstError})` : ''}`,
    );
  };

  const url = o.pg.createDatabase('level_git_scale');
  let pushed = false;
  for (const n of o.processes) {
    const s = await startLevelGit(join(o.work, `scale-${n}`), `level-git-pg×${n}`, ['--db', url, '--workers', String(n)]);
    try {
      if (!pushed) {
        await s.createRepo(f.id);
        const r = await git(['push', '--quiet', s.url(f.id), 'main:refs/heads/main'], f.dir);
        if (r.code !== 0) throw new Error(`push of ${f.id} to the scale database: ${r.stderr}`);
        pushed = true;
      }
      await measureServer(s, 'postgres', n, `scale-pg${n}`);
    } finally {
      await s.stop();
    }
  }
  if (o.leveldb !== null) await measureServer(o.leveldb, 'leveldb', 1, 'scale-ldb');
  return rows;
}
