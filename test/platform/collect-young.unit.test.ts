/**
 * The Node platform's minor collection on demand (`collectYoung`): buffers nobody holds any more
 * are freed when it is called, not once 32 MiB of them wait (what kept an NDJSON commit of a big
 * file 30 MiB above its memory target), and V8's `gc` function it uses stays out of the contexts
 * the embedder makes.
 */
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { nodePlatform } from '../../src/platform/node.js';

const MiB = 1024 * 1024;

describe('collectYoung on Node', () => {
  it('frees dropped buffers at once', async () => {
    const collect = nodePlatform.collectYoung!;
    expect(collect).toBeTypeOf('function');
    let held: Uint8Array[] | undefined = Array.from({ length: 16 }, () => new Uint8Array(MiB));
    expect(held.length).toBe(16);
    const holding = process.memoryUsage().arrayBuffers;
    held = undefined;
    collect();
    // The freeing itself may finish on a V8 thread: polled, not timed.
    for (let i = 0; i < 100 && holding - process.memoryUsage().arrayBuffers < 12 * MiB; i++) await new Promise((r) => setTimeout(r, 10));
    expect(holding - process.memoryUsage().arrayBuffers).toBeGreaterThanOrEqual(12 * MiB);
  });

  it('leaves no gc function in contexts made afterwards', () => {
    nodePlatform.collectYoung!();
    const exposed = typeof (globalThis as { gc?: unknown }).gc === 'function';
    expect(runInNewContext('typeof gc')).toBe(exposed ? 'function' : 'undefined');
  });
});
