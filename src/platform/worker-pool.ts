/**
 * A pool of Node worker threads for CPU-heavy jobs (reading a push's pack): as many threads as
 * the machine has cores, started on first need, each serving several jobs over their own
 * MessageChannel; a job goes to the least busy thread. Threads are unref'd while idle (they
 * never keep a process alive) and end after a minute without jobs. Built from the
 * `worker_threads` and `os` modules it is handed, like node-impl.ts: no `node:` import here.
 * The threads run worker-thread.ts, which imports each job's module by URL.
 */
import type * as NodeWorkerThreads from 'node:worker_threads';
import type * as NodeOs from 'node:os';
import type { JobPort, WorkerHost } from './types.js';

const IDLE_MS = 60_000;

interface Slot {
  worker: NodeWorkerThreads.Worker;
  jobs: Set<Job>;
  idle: ReturnType<typeof setTimeout> | undefined;
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
export function createWorkerPool(wt: typeof NodeWorkerThreads, os: typeof NodeOs): WorkerHost {
  // Sources run through tsx (tests, benchmarks) load the .ts worker with tsx; a build loads .js.
  const here = import.meta.url;
  const ext: 'js' | 'ts' = here.endsWith('.ts') ? 'ts' : 'js';
  const size = Math.max(1, typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);
  const slots: Slot[] = [];

  const spawn = (): Slot => {
    const entry = new URL(`worker-thread.${ext}`, here);
    // From sources, the thread first registers tsx's loader (a worker's --import runs too late
    // on Node 20 for its own entry file).
    const worker =
      ext === 'ts'
        ? new wt.Worker(`import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(entry.href)}); });`, { eval: true })
        : new wt.Worker(entry);
    const slot: Slot = { worker, jobs: new Set(), idle: undefined };
    const die = (err: Error) => {
      const i = slots.indexOf(slot);
      if (i >= 0) slots.splice(i, 1);
      if (slot.idle !== undefined) clearTimeout(slot.idle);
      for (const job of [...slot.jobs]) job.fail(err);
    };
    worker.on('error', die);
    worker.on('exit', (code) => die(new Error(`pack worker thread exited with code ${code}`)));
    worker.unref();
    slots.push(slot);
    return slot;
  };

  return {
    ext,
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
        s.worker.unref();
        s.idle = setTimeout(() => {
          const i = slots.indexOf(s);
          if (i >= 0) slots.splice(i, 1);
          void s.worker.terminate();
        }, IDLE_MS);
        s.idle.unref();
      });
      s.jobs.add(job);
      s.worker.ref();
      s.worker.postMessage({ module, port: port2 }, [port2]);
      return job;
    },
  };
}
