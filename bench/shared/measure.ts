/**
 * Timing one client operation against one server, with the server's CPU, traffic and peak
 * memory around it, and alternating servers run by run (A B C, B C A, ...).
 */
import { summarize, type Summary } from './stats.js';
import type { BenchServer, DbCounts } from './server-types.js';

/** One timed operation. */
export interface Sample {
  ms: number;
  /** Server CPU ms spent during the operation (null when not measurable). */
  cpuMs: number | null;
  /** CPU ms of the server's separate HTTP front during the operation (BenchServer.frontCpuMs), when it has one. */
  frontCpuMs?: number | null;
  /** Bytes the server sent for upload-pack, or received for receive-pack. */
  bytes: number;
  peakRssKb: number | null;
  ok: boolean;
  error?: string;
  /** Database statements (level + lock) and their summed latency during the operation (PostgreSQL servers). */
  db?: DbCounts;
}

/** All samples of one (workload, fixture, server), summarized. */
export interface Result {
  workload: string;
  fixture: string;
  server: string;
  samples: Sample[];
  time: Summary;
  cpu: Summary;
  /** Total server CPU / successful samples: immune to the 10 ms tick quantization. */
  cpuMeanMs: number | null;
  /** Mean CPU of the separate HTTP front per successful sample, when the server has one. */
  frontCpuMeanMs?: number | null;
  bytes: number | null;
  peakRssKb: number | null;
  errors: number;
  firstError?: string;
  /** Extra numbers a workload reports (throughput etc.). */
  extra?: Record<string, number>;
  /** Database statements per operation, medians over the successful samples (PostgreSQL servers). */
  db?: DbCounts;
}

/** What an operation returns: its wall time and whether it worked. */
export interface OpResult {
  ms: number;
  ok: boolean;
  error?: string;
}

/** Runs op once against s and returns the sample. */
export async function measure(s: BenchServer, op: () => Promise<OpResult>, kind: 'upload' | 'receive' = 'upload'): Promise<Sample> {
  await s.idle();
  await s.resetStats();
  await s.resetPeak();
  const q0 = await s.queries?.();
  const cpu0 = s.cpuMs();
  const front0 = s.frontCpuMs?.() ?? null;
  const r = await op();
  await s.idle();
  const cpu1 = s.cpuMs();
  const front1 = s.frontCpuMs?.() ?? null;
  const q1 = await s.queries?.();
  const stats = await s.stats();
  return {
    ...(q0 && q1
      ? {
          db: {
            statements: q1.statements - q0.statements,
            lockStatements: q1.lockStatements - q0.lockStatements,
            statementMs: q1.statementMs - q0.statementMs,
          },
        }
      : {}),
    ms: r.ms,
    cpuMs: cpu0 === null || cpu1 === null ? null : cpu1 - cpu0,
    ...(s.frontCpuMs ? { frontCpuMs: front0 === null || front1 === null ? null : front1 - front0 } : {}),
    bytes: kind === 'upload' ? stats.uploadPackBytes : stats.receivePackBytes,
    peakRssKb: (await s.peakRssKb()) ?? stats.childPeakRssKb,
    ok: r.ok && stats.misses === 0,
    error: r.ok ? (stats.misses > 0 ? `${stats.misses} requests had no recording` : undefined) : r.error,
  };
}

/** Summarizes samples into a Result. */
export function toResult(workload: string, fixture: string, server: string, samples: Sample[], extra?: Record<string, number>): Result {
  const good = samples.filter((s) => s.ok);
  const cpus = good.map((s) => s.cpuMs).filter((c): c is number => c !== null);
  const fronts = good.map((s) => s.frontCpuMs).filter((c): c is number => typeof c === 'number');
  const bytes = good.map((s) => s.bytes).sort((a, b) => a - b);
  const rss = good.map((s) => s.peakRssKb).filter((r): r is number => r !== null);
  const bad = samples.find((s) => !s.ok);
  return {
    workload,
    fixture,
    server,
    samples,
    time: summarize(good.map((s) => s.ms)),
    cpu: summarize(cpus),
    cpuMeanMs: cpus.length === 0 ? null : cpus.reduce((a, b) => a + b, 0) / cpus.length,
    ...(fronts.length > 0 ? { frontCpuMeanMs: fronts.reduce((a, b) => a + b, 0) / fronts.length } : {}),
    bytes: bytes.length === 0 ? null : bytes[Math.floor(bytes.length / 2)]!,
    peakRssKb: rss.length === 0 ? null : Math.max(...rss),
    errors: samples.length - good.length,
    ...(good.length > 0 && good.every((s) => s.db !== undefined) ? { db: medianCounts(good.map((s) => s.db!)) } : {}),
    ...(bad?.error !== undefined ? { firstError: bad.error } : {}),
    ...(extra !== undefined ? { extra } : {}),
  };
}

function medianCounts(cs: DbCounts[]): DbCounts {
  const med = (xs: number[]): number => summarize(xs).median;
  return {
    statements: med(cs.map((c) => c.statements)),
    lockStatements: med(cs.map((c) => c.lockStatements)),
    statementMs: med(cs.map((c) => c.statementMs)),
  };
}

/** Server order of run i: rotated so no server is always first. */
export function rotation<T>(items: readonly T[], i: number): T[] {
  const k = items.length === 0 ? 0 : i % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

/**
 * Runs `runs` rounds; in each, every server once (rotated order). `prepare` (untimed) runs
 * before each op, `cleanup` (untimed) after it.
 */
export async function alternate(
  servers: readonly BenchServer[],
  runs: number,
  op: (s: BenchServer, run: number) => Promise<OpResult>,
  opts: {
    kind?: 'upload' | 'receive';
    prepare?: (s: BenchServer, run: number) => Promise<void>;
    cleanup?: (s: BenchServer, run: number) => Promise<void>;
  } = {},
): Promise<Map<string, Sample[]>> {
  const out = new Map<string, Sample[]>(servers.map((s) => [s.name, []]));
  for (let i = 0; i < runs; i++) {
    for (const s of rotation(servers, i)) {
      await opts.prepare?.(s, i);
      out.get(s.name)!.push(await measure(s, () => op(s, i), opts.kind));
      await opts.cleanup?.(s, i);
    }
  }
  return out;
}

/** One thing measured once per round: an operation against a server, under a label. */
export interface Unit {
  label: string;
  server: BenchServer;
  op: () => Promise<OpResult>;
}

/**
 * Like `alternate`, over arbitrary units (e.g. every server × two fixtures), so comparisons
 * across fixtures are not skewed by drift over time. Returns samples per unit label.
 */
export async function alternateUnits(units: readonly Unit[], runs: number): Promise<Map<string, Sample[]>> {
  const out = new Map<string, Sample[]>(units.map((u) => [u.label, []]));
  for (let i = 0; i < runs; i++) {
    for (const u of rotation(units, i)) out.get(u.label)!.push(await measure(u.server, u.op));
  }
  return out;
}
