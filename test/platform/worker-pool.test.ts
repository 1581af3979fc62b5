/**
 * The Node worker pool (src/platform/worker-pool.ts): a thread is reused for job after job
 * while it holds little, and replaced by a fresh one once a job left it holding more than
 * `retireBytes` (a long history's push leaves hundreds of MiB of garbage that an idle thread
 * would keep for a minute), also when the job was open while the thread asked to retire.
 * `prepare` readies a thread with a job's module imported before the job opens.
 */
import { describe, expect, it } from 'vitest';
import * as os from 'node:os';
import * as wt from 'node:worker_threads';
import { createWorkerPool } from '../../src/platform/worker-pool.js';
import type { WorkerHost } from '../../src/platform/index.js';

const JOB = new URL('./jobs/hold-job.ts', import.meta.url).href;

/** Runs one job that holds `mib` MiB; resolves with the thread that ran it once the job is closed. */
async function run(pool: WorkerHost, mib: number): Promise<number> {
  const job = pool.open(JOB);
  const answer = await new Promise<{ threadId: number }>((resolve, reject) => {
    job.onMessage((m) => resolve(m as { threadId: number }));
    job.onFailure(reject);
    job.post({ hold: mib });
  });
  job.close();
  return answer.threadId;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The threads that imported the job module, as they say so (hold-job.ts). */
function loads(): { threads: number[]; next(): Promise<number>; close(): void } {
  const threads: number[] = [];
  const waiting: ((id: number) => void)[] = [];
  const channel = new wt.BroadcastChannel('hold-job-loaded');
  channel.onmessage = (e) => {
    const id = (e as { data: number }).data;
    threads.push(id);
    waiting.shift()?.(id);
  };
  let seen = 0;
  return {
    threads,
    next: () => (seen < threads.length ? Promise.resolve(threads[seen++]!) : new Promise<number>((r) => waiting.push((id) => (seen++, r(id))))),
    close: () => channel.close(),
  };
}

describe('worker pool', () => {
  it('reuses a thread that holds little, and replaces one a job left holding more than retireBytes', async () => {
    const pool = createWorkerPool(wt, os, { retireBytes: 160 * 1024 * 1024 });
    const first = await run(pool, 1);
    await pause(50);
    expect(await run(pool, 1)).toBe(first);
    await pause(50);
    expect(await run(pool, 1)).toBe(first);
    // A job that leaves 192 MiB behind: the thread asks to retire when the job ends.
    expect(await run(pool, 192)).toBe(first);
    let next = first;
    for (let i = 0; i < 100 && next === first; i++) {
      await pause(20);
      next = await run(pool, 1);
    }
    expect(next).not.toBe(first);
    // The fresh thread is reused in turn.
    await pause(50);
    expect(await run(pool, 1)).toBe(next);
  }, 60_000);

  it('without a bound (retireBytes Infinity) keeps the thread', async () => {
    const pool = createWorkerPool(wt, os, { retireBytes: Number.POSITIVE_INFINITY });
    const first = await run(pool, 192);
    for (let i = 0; i < 5; i++) {
      await pause(20);
      expect(await run(pool, 1)).toBe(first);
    }
  }, 60_000);

  it('prepare imports the job module in a thread before the job opens; the job then runs there', async () => {
    const pool = createWorkerPool(wt, os, { retireBytes: Number.POSITIVE_INFINITY });
    const seen = loads();
    try {
      pool.prepare!(JOB);
      const prepared = await seen.next();
      // Prepared again while that thread is idle: nothing new is started or imported.
      pool.prepare!(JOB);
      expect(await run(pool, 1)).toBe(prepared);
      await pause(100);
      expect(seen.threads).toEqual([prepared]);
      // With its only thread busy, prepare starts another (the pool has a thread per core).
      const busy = pool.open(JOB);
      pool.prepare!(JOB);
      if (os.availableParallelism() > 1) expect(await seen.next()).not.toBe(prepared);
      busy.close();
    } finally {
      seen.close();
    }
  }, 60_000);
});
