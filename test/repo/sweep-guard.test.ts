/**
 * The sweep against the repository's own traffic. A pack being streamed pins its objects: the
 * ref the clone started from is deleted mid-stream, yet they stay until the stream ends, while
 * other garbage is still collected. A write in flight holds the object phase back until it
 * ends (or past `waitMs`, the repository is reported busy and nothing is deleted).
 */
import { internalsOf } from '../../src/repo/internals.js';
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

    await repo.commit({ branch: 'other', message: 'other', author, changes: [{ path: 'o.txt', content: 'other garbage' }] });

    const it = repo.packObjects({ wants: [doomed.sha] })[Symbol.asyncIterator]();
    const chunks: Uint8Array[] = [(await it.next()).value as Uint8Array];
    await repo.deleteBranch('doomed');
    await repo.deleteBranch('other');
    // The streaming pack does not hold the sweep back: the other branch's commit and blob go
    // (its root tree is shared with nothing else either: three objects), the pinned ones stay.
    expect(await repo.sweep()).toEqual({ refs: 0, objects: 3 });
    for (let n = await it.next(); !n.done; n = await it.next()) chunks.push(n.value);
    const objects = await readPackBytes(concat(chunks));
    expect(objects.length).toBe(1 + 1 + 30 + 1500);

    const after = await repo.sweep();
    expect(after.objects).toBe(objects.length);
    await engine.close();
  });

  it('waits for a write in flight, then collects', async () => {
    const engine = await openEngine({ db: new MemoryLevel() });
    const repo = await engine.createRepo('w');
    const author = { name: 'A', email: 'a@example.com' };
    await repo.commit({ branch: 'main', message: 'keep', author, changes: [{ path: 'keep.txt', content: 'keep' }] });
    await repo.commit({ branch: 'tmp', message: 'tmp', author, changes: [{ path: 'tmp.txt', content: 'tmp' }] });
    await repo.deleteBranch('tmp');

    let finish!: () => void;
    const write = internalsOf(repo).withWrite(() => new Promise<void>((r) => (finish = r)));
    let done = false;
    const sweep = repo.sweep({ waitMs: 5000 }).then((r) => ((done = true), r));
    await new Promise((r) => setTimeout(r, 50));
    expect(done).toBe(false);
    finish();
    await write;
    expect(await sweep).toEqual({ refs: 0, objects: 3 });
    await engine.close();
  });

  it('reports a repository busy past waitMs and deletes nothing', async () => {
    const engine = await openEngine({ db: new MemoryLevel() });
    const repo = await engine.createRepo('b');
    const author = { name: 'A', email: 'a@example.com' };
    await repo.commit({ branch: 'tmp', message: 'tmp', author, changes: [{ path: 'tmp.txt', content: 'tmp' }] });
    await repo.deleteBranch('tmp');

    let finish!: () => void;
    const write = internalsOf(repo).withWrite(() => new Promise<void>((r) => (finish = r)));
    expect(await repo.sweep({ waitMs: 30 })).toEqual({ refs: 0, objects: 0, busy: true });
    expect(await engine.sweep({ waitMs: 30 })).toEqual({ refs: 0, objects: 0, busy: 1 });
    finish();
    await write;
    expect(await engine.sweep()).toEqual({ refs: 0, objects: 3 });
    await engine.close();
  });
});
