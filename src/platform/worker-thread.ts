/**
 * The entry of each pooled worker thread (worker-pool.ts): for every job it is sent a module
 * URL and a MessagePort, imports the module (once; Node caches it) and calls its
 * `serveJob(port)` with the port wrapped as a JobPort. Never imported, only started by URL.
 *
 * When its last open job ends, a thread that holds more than `retireBytes` (workerData; its
 * heap and buffers: a long history's pack leaves hundreds of MiB of garbage that an idle thread
 * never collects) asks the pool to retire it: the memory goes back at once, and the next job
 * starts a fresh thread (tens of milliseconds against a job that inflated that much).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import type { JobPort } from './types.js';

/** What a job module exports. */
interface JobModule {
  serveJob(port: JobPort): void;
}

function wrap(port: MessagePort): JobPort {
  return {
    post: (message, transfer) => port.postMessage(message, transfer === undefined ? [] : [...transfer]),
    // `null` once the main thread closed the channel (it gave up on the job).
    onMessage: (handler) => port.on('message', handler).on('close', () => handler(null)),
    onFailure: () => undefined,
    close: () => port.close(),
  };
}

const retireBytes = (workerData as { retireBytes?: number } | null)?.retireBytes ?? Number.POSITIVE_INFINITY;
let open = 0;

parentPort?.on('message', (m: { module: string; port?: MessagePort }) => {
  // Without a port: only import the module, for a job expected soon (WorkerHost.prepare). A
  // module that fails to load is reported to the job that needs it.
  if (m.port === undefined) {
    import(m.module).catch(() => undefined);
    return;
  }
  const port = m.port;
  open++;
  port.on('close', () => {
    if (--open > 0) return;
    const used = process.memoryUsage();
    if (used.heapTotal + used.external > retireBytes) parentPort?.postMessage({ t: 'retire' });
  });
  import(m.module).then(
    (mod: JobModule) => mod.serveJob(wrap(port)),
    (err: unknown) => {
      port.postMessage({ t: 'error', error: { name: 'Error', message: `cannot load ${m.module}: ${(err as Error).message}` } });
      port.close();
    },
  );
});
