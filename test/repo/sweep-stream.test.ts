/**
 * A sweep while a pack is streaming: the ref the clone started from is deleted mid-stream, yet
 * the objects stay until the stream ends; the next sweep collects them.
 */
import { describe, expect, it } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { openEngine } from '../../src/index.js';
import { readPackBytes } from '../../src/pack/pack-reader.js';
import { concat } from '../../src/platform/bytes.js';

describe('sweep and streaming packs', () => {
  it('does not collect objects of a pack being sent', async () => {
    const engine = await openEngine({ db: new MemoryLevel(), packCache: { maxBytes: 0 } });
    const repo = await engine.createRepo('s');
    const author = { name: 'A', email: 'a@example.com' };
    await repo.commit({ branch: 'main', message: 'keep', author, changes: [{ path: 'keep.txt', content: 'keep' }] });
    const changes = Array.from({ length: 1500 }, (_, i) => ({ path: `d${i % 30}/f${i}.txt`, content: `file ${i}\n`.repeat(20) }));
    const doomed = await repo.commit({ branch: 'doomed', message: 'doomed', author, changes });

    const it = repo.packObjects({ wants: [doomed.sha] })[Symbol.asyncIterator]();
    const chunks: Uint8Array[] = [(await it.next()).value as Uint8Array];
    await repo.deleteBranch('doomed');
    expect((await repo.sweep()).objects).toBe(0);
    for (let n = await it.next(); !n.done; n = await it.next()) chunks.push(n.value);
    const objects = await readPackBytes(concat(chunks));
    expect(objects.length).toBe(1 + 1 + 30 + 1500);

    const after = await repo.sweep();
    expect(after.objects).toBe(objects.length);
    await engine.close();
  });
});
