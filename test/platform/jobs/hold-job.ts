/**
 * A worker-pool job for test/platform/worker-pool.test.ts: on `{ hold: n }` it allocates n MiB
 * of buffers, kept until the job is closed (then garbage the idle thread never collects), and
 * answers with its thread's id.
 */
import { threadId } from 'node:worker_threads';
import type { JobPort } from '../../../src/platform/index.js';

export function serveJob(port: JobPort): void {
  const held: ArrayBuffer[] = [];
  port.onMessage((m) => {
    if (m === null) return;
    const { hold } = m as { hold: number };
    for (let i = 0; i < hold; i++) held.push(new Uint8Array(1024 * 1024).fill(1).buffer);
    port.post({ threadId, held: held.length });
  });
}
