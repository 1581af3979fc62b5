/**
 * A pool of Node worker threads for CPU-heavy jobs (reading a push's pack): as many threads as
 * the machine has cores, started on first need, each serving several jobs over their own
 * MessageChannel; a job goes to the least busy thread. Threads are unref'd while idle (they
 * never keep a process alive) and end after a minute without jobs, or as soon as their jobs are
 * done once they hold more than `retireBytes` (worker-thread.ts asks). Built from the
 * `worker_threads` and `os` modules it is handed, like node-impl.ts: no `node:` import here.
 * The threads run worker-thread.ts, which imports each job's module by URL.
 */
import type * as NodeWorkerThreads from 'node:worker_threads';
import type * as NodeOs from 'node:os';
import type { JobPort, WorkerHost } from './types.js';

const IDLE_MS = 60_000;

/**
 * Heap and buffers a thread may keep past its jobs (`retireBytes`): a fresh one holds ~10 MiB; a
 * pack that filled the reader's caches (64 MiB of bodies, 32 MiB of entries) leaves more.
 */
export const RETIRE_BYTES = 64 * 1024 * 1024;

/** Options of `createWorkerPool`. */
export interface WorkerPoolOptions {
  /** Bytes of heap and buffers past which a thread ends once its jobs are done. Default RETIRE_BYTES. */
  retireBytes?: number;
}

interface Slot {
  worker: NodeWorkerThreads.Worker;
  jobs: Set<Job>;
  idle: ReturnType<typeof setTimeout> | undefined;
  /** Asked to end once its jobs are done (worker-thread.ts: it holds more than `retireBytes`). */
  retiring: boolean;
  /** The job modules it was sent (imported once each). */
  loaded: Set<string>;
}

/** The main-thread end of one job. */
class Job implements JobPort {
  readonly #port: NodeWorkerThreads.MessagePort;
  readonly #done: () => void;
  #failure: ((err: Error) => void) | undefined;
  #closed = false;

  constructor(port: NodeWorkerThreads.MessagePort, done: () => void) {
    this.#port = port;
    this.#done = done;
    port.on('close', () => {
      if (!this.#closed) this.fail(new Error('the worker thread closed the job'));
    });
  }

  post(message: unknown, transfer?: readonly ArrayBuffer[]): void {
    if (!this.#closed) this.#port.postMessage(message, transfer === undefined ? [] : [...transfer]);
  }

  onMessage(handler: (message: unknown) => void): void {
    this.#port.on('message', handler);
  }

  onFailure(handler: (err: Error) => void): void {
    this.#failure = handler;
  }

  /** The worker died: the job fails. */
  fail(err: Error): void {
    const f = this.#failure;
    this.close();
    f?.(err);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#port.close();
    this.#done();
  }
}

/** A WorkerHost over Node's `worker_threads` (see the module comment). */
export function createWorkerPool(wt: typeof NodeWorkerThreads, os: typeof NodeOs, options: WorkerPoolOptions = {}): WorkerHost {
  const workerData = { retireBytes: options.retireBytes ?? RETIRE_BYTES };
  // Sources run through tsx (tests, benchmarks) load the .ts worker with tsx; a build loads .js.
  const here = import.meta.url;
  const ext: 'js' | 'ts' = here.endsWith('.ts') ? 'ts' : 'js';
  const size = Math.max(1, typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);
  const slots: Slot[] = [];
  // A slot no new job goes to.
  const forget = (slot: Slot) => {
    const i = slots.indexOf(slot);
    if (i >= 0) slots.splice(i, 1);
    if (slot.idle !== undefined) clearTimeout(slot.idle);
  };
  const end = (slot: Slot) => {
    forget(slot);
    void slot.worker.terminate();
  };

  const spawn = (): Slot => {
    const entry = new URL(`worker-thread.${ext}`, here);
    // From sources, the thread first registers tsx's loader (a worker's --import runs too late
    // on Node 20 for its own entry file).
    const worker =
      ext === 'ts'
        ? new wt.Worker(`import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(entry.href)}); });`, { eval: true, workerData })
        : new wt.Worker(entry, { workerData });
    const slot: Slot = { worker, jobs: new Set(), idle: undefined, retiring: false, loaded: new Set() };
    const die = (err: Error) => {
      forget(slot);
      for (const job of [...slot.jobs]) job.fail(err);
    };
    worker.on('error', die);
    worker.on('message', (m: { t?: string } | null) => {
      if (m?.t !== 'retire') return;
      // No new job goes to it; it ends now, or when the jobs it still serves are done.
      forget(slot);
      slot.retiring = true;
      if (slot.jobs.size === 0) end(slot);
    });
    worker.on('exit', (code) => die(new Error(`pack worker thread exited with code ${code}`)));
    worker.unref();
    slots.push(slot);
    return slot;
  };

  const idle = (s: Slot) => {
    s.worker.unref();
    s.idle = setTimeout(() => end(s), IDLE_MS);
    s.idle.unref();
  };

  return {
    ext,
    prepare(module: string): void {
      let slot = slots.find((s) => s.jobs.size === 0);
      if (slot === undefined) {
        if (slots.length >= size) return;
        slot = spawn();
        idle(slot);
      }
      if (slot.loaded.has(module)) return;
      slot.loaded.add(module);
      slot.worker.postMessage({ module });
    },
    open(module: string): JobPort {
      let slot = slots.reduce<Slot | undefined>((best, s) => (best === undefined || s.jobs.size < best.jobs.size ? s : best), undefined);
      if (slot === undefined || (slot.jobs.size > 0 && slots.length < size)) slot = spawn();
      const s = slot;
      if (s.idle !== undefined) clearTimeout(s.idle);
      s.idle = undefined;
      const { port1, port2 } = new wt.MessageChannel();
      const job = new Job(port1, () => {
        s.jobs.delete(job);
        if (s.jobs.size > 0) return;
        if (s.retiring) return end(s);
        idle(s);
      });
      s.jobs.add(job);
      s.loaded.add(module);
      s.worker.ref();
      s.worker.postMessage({ module, port: port2 }, [port2]);
      return job;
    },
  };
}
