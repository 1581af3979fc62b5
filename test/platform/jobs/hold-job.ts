/**
 * A worker-pool job for test/platform/worker-pool.test.ts: on `{ hold: n }` it allocates n MiB
 * of buffers, kept until the job is closed (then garbage the idle thread never collects), and
 * answers with its thread's id. When a thread imports it, it says so on the `hold-job-loaded`
 * broadcast channel (its thread's id).
 */
import { BroadcastChannel, threadId } from 'node:worker_threads';
import type { JobPort } from '../../../src/platform/index.js';

const loaded = new BroadcastChannel('hold-job-loaded');
loaded.postMessage(threadId);
loaded.close();

export function serveJob(port: JobPort): void {
  const held: ArrayBuffer[] = [];
  port.onMessage((m) => {
    if (m === null) return;
    const { hold } = m as { hold: number };
    for (let i = 0; i < hold; i++) held.push(new Uint8Array(1024 * 1024).fill(1).buffer);
    port.post({ threadId, held: held.length });
  });
}
