/**
 * Shared runner of the tinybench micro-benchmarks: runs one Bench and prints its table with
 * each task's throughput relative to the group's first (baseline) task. Never asserts.
 */
import { Bench } from 'tinybench';

/** One comparable variant. */
export interface Variant {
  name: string;
  fn: () => unknown | Promise<unknown>;
}

/** Runs a group of variants of one operation and prints ops/s and the ratio to the first. */
export async function compare(title: string, variants: readonly Variant[], timeMs = Number(process.env.MICRO_TIME_MS ?? 500)): Promise<void> {
  const bench = new Bench({ name: title, time: timeMs, warmupTime: Math.min(200, timeMs) });
  for (const v of variants) bench.add(v.name, v.fn);
  await bench.run();
  const rows = bench.tasks.map((t) => {
    const r = t.result as { state?: string; throughput?: { mean?: number }; latency?: { mean?: number; p99?: number } } | undefined;
    return { name: t.name, hz: r?.throughput?.mean ?? NaN, meanUs: (r?.latency?.mean ?? NaN) * 1000, p99Us: (r?.latency?.p99 ?? NaN) * 1000 };
  });
  const base = rows[0]?.hz ?? NaN;
  console.log(`\n${title}`);
  console.table(
    rows.map((r) => ({
      variant: r.name,
      'ops/s': Number.isFinite(r.hz) ? Math.round(r.hz).toLocaleString('en-US') : 'failed',
      'mean µs': r.meanUs.toFixed(2),
      'p99 µs': r.p99Us.toFixed(2),
      '× first': (r.hz / base).toFixed(2),
    })),
  );
}
