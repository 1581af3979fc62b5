/**
 * Big blobs in chunks (object/chunked.ts): a blob of a push from STREAM_BLOBS_OVER on is
 * streamed into `B` chunks (its `O` value a marker), read back whole by the APIs that return
 * bytes and chunk by chunk by pack writing; a failed push leaves no chunk behind, and deleting
 * the object or the repository deletes its chunks. A delta against a streamed blob in the same
 * pack resolves. In-process (memory database), worker threads as in a real push.
 */
import { describe, expect, it } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { randomBytes } from 'node:crypto';
import { openEngine } from '../../src/index.js';
import { internalsOf } from '../../src/repo/internals.js';
import { encodePackEntry } from '../../src/pack/entry.js';
import { writePackSync } from '../../src/pack/pack-writer.js';
import { readPackBytes } from '../../src/pack/pack-reader.js';
import { createDelta } from '../../src/pack/delta.js';
import { encodeRefDelta } from '../../src/object/packed.js';
import { encodeTree } from '../../src/object/tree.js';
import { encodeCommit } from '../../src/object/commit.js';
import { hashObject, oidToBytes, type Oid } from '../../src/object/oid.js';
import { isChunked } from '../../src/object/chunked.js';
import { TAG, objectKey } from '../../src/storage/keys.js';
import { equal } from '../../src/platform/bytes.js';

const MiB = 1024 * 1024;
const who = { name: 'A', email: 'a@example.com', timestamp: 1_700_000_000, timezone: '+0000' };

function chunks(b: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < b.length; i += size) out.push(b.subarray(i, i + size));
  return out;
}

async function countChunkKeys(db: MemoryLevel): Promise<number> {
  let n = 0;
  for await (const _ of db.keys({ gte: new Uint8Array([TAG.chunk]), lt: new Uint8Array([TAG.chunk + 1]), keyEncoding: 'view' })) n++;
  return n;
}

/** A pack: a big random blob, a second blob as a ref-delta against it, their tree and a commit. */
function bigPack(size: number) {
  const big = new Uint8Array(randomBytes(size));
  const edited = big.slice();
  edited.set(new TextEncoder().encode('edited'), 1000);
  const bigOid = hashObject('blob', big);
  const editedOid = hashObject('blob', edited);
  const tree = encodeTree([
    { mode: '100644', name: 'big.bin', oid: bigOid },
    { mode: '100644', name: 'edited.bin', oid: editedOid },
  ]);
  const treeOid = hashObject('tree', tree);
  const commit = encodeCommit({ tree: treeOid, parents: [], author: who, committer: who, message: 'big\n' });
  const commitOid = hashObject('commit', commit);
  const pack = writePackSync([
    encodePackEntry('blob', big),
    encodeRefDelta(oidToBytes(bigOid), createDelta(big, edited)),
    encodePackEntry('tree', tree),
    encodePackEntry('commit', commit),
  ]);
  return { pack, big, edited, bigOid, editedOid, commitOid };
}

describe('big blobs stored in chunks', () => {
  it('streams a big blob of a push into chunks, reads it back, packs it and deletes its chunks', async () => {
    const db = new MemoryLevel();
    const engine = await openEngine({ db, packCache: { maxBytes: 0 } });
    const repo = await engine.createRepo('big');
    const p = bigPack(6 * MiB);
    for (const worker of ['worker', 'inline'] as const) {
      const r = await repo.indexPack(chunks(p.pack, 64 * 1024), { worker });
      expect(r.oids).toContain(p.bigOid);
      expect(r.oids).toContain(p.editedOid);
    }
    const objects = internalsOf(repo).objects;
    const marker = await objects.kv.get(objectKey(objects.repoId, oidToBytes(p.bigOid)));
    expect(isChunked(marker!)).toBe(true);
    // Six 1 MiB chunks and a short last one: the pack entry of the blob, as it arrived, and its
    // owner record; the edited blob, a 6 MiB delta result, is streamed into chunks the same way.
    expect(await countChunkKeys(db)).toBe(16);
    expect(equal((await repo.readObject(p.bigOid)).body, p.big)).toBe(true);
    expect(equal((await repo.readObject(p.editedOid)).body, p.edited)).toBe(true);
    expect((await objects.info([p.bigOid]))[0]).toEqual({ type: 'blob', size: p.big.length });

    // Pack writing streams the chunks: the pack read back holds the same blob.
    const parts: Uint8Array[] = [];
    for await (const c of repo.packObjects({ wants: [p.commitOid] })) parts.push(c);
    const total = parts.reduce((n, c) => n + c.length, 0);
    const out = new Uint8Array(total);
    let at = 0;
    for (const c of parts) {
      out.set(c, at);
      at += c.length;
    }
    const read = await readPackBytes(out);
    const blob = read.find((o) => o.oid === p.bigOid);
    expect(blob !== undefined && equal(blob.body, p.big)).toBe(true);

    // The sweep's delete of the object takes its chunks with it.
    await objects.delete([p.bigOid as Oid, p.editedOid as Oid]);
    expect(await countChunkKeys(db)).toBe(0);
    await engine.close();
  }, 120_000);

  it('leaves no chunk behind when a push fails, and deleting the repository clears its chunks', async () => {
    const db = new MemoryLevel();
    const engine = await openEngine({ db, packCache: { maxBytes: 0 } });
    const repo = await engine.createRepo('big');
    const p = bigPack(5 * MiB);
    const broken = p.pack.slice();
    broken[broken.length - 1]! ^= 0xff; // a bad trailer: found after every chunk was written
    await expect(repo.indexPack(chunks(broken, 256 * 1024))).rejects.toThrow(/checksum/);
    expect(await countChunkKeys(db)).toBe(0);
    await repo.indexPack(chunks(p.pack, 256 * 1024));
    expect(await countChunkKeys(db)).toBeGreaterThan(0);
    await engine.deleteRepo('big');
    expect(await countChunkKeys(db)).toBe(0);
    await engine.close();
  }, 120_000);
});
