/**
 * Big objects that arrive as deltas (issue 10, bounded ingest): a delta whose result is big is
 * applied as a stream into chunks, its base read back chunk by chunk when it is itself stored
 * in chunks, even when the delta came before its base or in an earlier push; a streamed blob
 * whose id is already stored with other content is refused; the sweep reclaims chunk streams
 * that no marker names and leaves an ingest in progress alone. In-process (memory database),
 * both in a worker thread and inline, with a small `streamBlobsOver` to keep the sizes small.
 */
import { describe, expect, it } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { randomBytes } from 'node:crypto';
import { openEngine } from '../../src/index.js';
import { internalsOf } from '../../src/repo/internals.js';
import { encodePackEntry } from '../../src/pack/entry.js';
import { writePackSync } from '../../src/pack/pack-writer.js';
import { createDelta } from '../../src/pack/delta.js';
import { encodePacked, encodeRefDelta } from '../../src/object/packed.js';
import { encodeTree } from '../../src/object/tree.js';
import { encodeCommit } from '../../src/object/commit.js';
import { hashObject, oidToBytes, type Oid } from '../../src/object/oid.js';
import { OWNER_SEQ, decodeChunked, isChunked } from '../../src/object/chunked.js';
import { TAG, chunkKey, chunkStreamPrefix, objectKey } from '../../src/storage/keys.js';
import { markSweepNeeded } from '../../src/repo/sweep-state.js';
import { equal } from '../../src/platform/bytes.js';
import { HashCollisionError } from '../../src/errors.js';
import { varint } from '../pack/crafted-packs.js';

const MiB = 1024 * 1024;
const who = { name: 'A', email: 'a@example.com', timestamp: 1_700_000_000, timezone: '+0000' };
const OPTS = { streamBlobsOver: 1 * MiB };

function chunks(b: Uint8Array, size = 256 * 1024): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < b.length; i += size) out.push(b.subarray(i, i + size));
  return out;
}

/** A delta copying `base` in 64 KiB blocks from its end back to its start, then inserting `tail`: reads the base backwards. */
function reversedDelta(base: Uint8Array, tail: Uint8Array): { delta: Uint8Array; result: Uint8Array } {
  const block = 0x10000;
  const n = Math.floor(base.length / block);
  const ops: number[] = [...varint(base.length), ...varint(n * block + tail.length)];
  const parts: Uint8Array[] = [];
  for (let i = n - 1; i >= 0; i--) {
    const off = i * block;
    const bytes = [off & 0xff, (off >> 8) & 0xff, (off >> 16) & 0xff, (off >> 24) & 0xff];
    let op = 0x80;
    const args: number[] = [];
    bytes.forEach((b, k) => {
      if (b !== 0) {
        op |= 1 << k;
        args.push(b);
      }
    });
    ops.push(op, ...args); // size bits none: 0x10000
    parts.push(base.subarray(off, off + block));
  }
  for (let i = 0; i < tail.length; i += 127) {
    const piece = tail.subarray(i, i + 127);
    ops.push(piece.length, ...piece);
  }
  parts.push(tail);
  const result = new Uint8Array(parts.reduce((k, p) => k + p.length, 0));
  let at = 0;
  for (const p of parts) {
    result.set(p, at);
    at += p.length;
  }
  return { delta: Uint8Array.from(ops), result };
}

/** A commit over a tree naming `blobs`, as pack entries. */
function commitEntries(blobs: Oid[]): { entries: Uint8Array[]; commit: Oid } {
  const tree = encodeTree(blobs.map((oid, i) => ({ mode: '100644', name: `f${i}.bin`, oid })));
  const treeOid = hashObject('tree', tree);
  const commit = encodeCommit({ tree: treeOid, parents: [], author: who, committer: who, message: 'big\n' });
  return { entries: [encodePackEntry('tree', tree), encodePackEntry('commit', commit)], commit: hashObject('commit', commit) };
}

async function keysUnder(db: MemoryLevel, tag: number): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const k of db.keys({ gte: new Uint8Array([tag]), lt: new Uint8Array([tag + 1]), keyEncoding: 'view' })) out.push(k);
  return out;
}

async function setup() {
  const db = new MemoryLevel();
  const engine = await openEngine({ db, packCache: { maxBytes: 0 } });
  const repo = await engine.createRepo('big');
  const objects = internalsOf(repo).objects;
  const marker = async (oid: Oid) => objects.kv.get(objectKey(objects.repoId, oidToBytes(oid)));
  return { db, engine, repo, objects, marker };
}

describe('big deltas', () => {
  for (const worker of ['worker', 'inline'] as const) {
    it(`streams a big delta result against a streamed base, sent after or before it (${worker})`, async () => {
      const base = new Uint8Array(randomBytes(3 * MiB + 12345));
      const edited = base.slice();
      edited.set(new TextEncoder().encode('edited'), 2 * MiB);
      const baseOid = hashObject('blob', base);
      const editedOid = hashObject('blob', edited);
      const { entries } = commitEntries([baseOid, editedOid]);
      const delta = encodeRefDelta(oidToBytes(baseOid), createDelta(base, edited));
      // After its base, and before it: both resolve, both streamed.
      for (const order of ['after', 'before'] as const) {
        const { engine, repo, marker } = await setup();
        const pack = writePackSync(order === 'after' ? [encodePackEntry('blob', base), delta, ...entries] : [delta, encodePackEntry('blob', base), ...entries]);
        const r = await repo.indexPack(chunks(pack), { ...OPTS, worker });
        expect(r.oids).toContain(editedOid);
        expect(isChunked((await marker(editedOid))!)).toBe(true);
        expect(equal((await repo.readObject(editedOid)).body, edited)).toBe(true);
        expect(equal((await repo.readObject(baseOid)).body, base)).toBe(true);
        await engine.close();
      }
    }, 120_000);
  }

  it('applies a delta of a later push against a stored big base read out of order, chunk by chunk', async () => {
    const { engine, repo, marker } = await setup();
    const base = new Uint8Array(randomBytes(4 * MiB));
    const baseOid = hashObject('blob', base);
    const first = commitEntries([baseOid]);
    await repo.indexPack(chunks(writePackSync([encodePackEntry('blob', base), ...first.entries])), OPTS);
    expect(isChunked((await marker(baseOid))!)).toBe(true);
    // Big result (streamed) and small result (collected whole, stored whole) from the stored base.
    const big = reversedDelta(base, new TextEncoder().encode('tail'));
    const smallDelta = Uint8Array.from([...varint(base.length), ...varint(0x10000), 0x80 | 0x04, 0x30]); // copy 64 KiB at 3 MiB
    const bigOid = hashObject('blob', big.result);
    const smallOid = hashObject('blob', base.subarray(3 * MiB, 3 * MiB + 0x10000));
    const second = commitEntries([bigOid, smallOid]);
    const thin = writePackSync([encodeRefDelta(oidToBytes(baseOid), big.delta), encodeRefDelta(oidToBytes(baseOid), smallDelta), ...second.entries]);
    const r = await repo.indexPack(chunks(thin), { ...OPTS, worker: 'worker' });
    expect(r.oids).toEqual(expect.arrayContaining([bigOid, smallOid]));
    expect(isChunked((await marker(bigOid))!)).toBe(true);
    expect(equal((await repo.readObject(bigOid)).body, big.result)).toBe(true);
    expect(equal((await repo.readObject(smallOid)).body, base.subarray(3 * MiB, 3 * MiB + 0x10000))).toBe(true);
    // The small one is stored whole, not as a delta against a big base.
    expect(await internalsOf(repo).objects.kv.get(objectKey(internalsOf(repo).objects.repoId, oidToBytes(smallOid)))).toBeDefined();
    await engine.close();
  }, 120_000);

  it('refuses a streamed blob whose id is stored with other content, and takes an identical one', async () => {
    const { db, engine, repo, objects } = await setup();
    const blob = new Uint8Array(randomBytes(2 * MiB));
    const oid = hashObject('blob', blob);
    const { entries } = commitEntries([oid]);
    const pack = writePackSync([encodePackEntry('blob', blob), ...entries]);
    await repo.indexPack(chunks(pack), OPTS);
    const before = (await keysUnder(db, TAG.chunk)).length;
    // The same content again: accepted, its new chunks dropped.
    await repo.indexPack(chunks(pack), OPTS);
    expect((await keysUnder(db, TAG.chunk)).length).toBe(before);
    // The stored object replaced by other bytes under the same id (a collision, simulated).
    const other = blob.slice();
    other[12345]! ^= 1;
    await objects.kv.batch([{ type: 'put', key: objectKey(objects.repoId, oidToBytes(oid)), value: encodePacked('blob', other) }]);
    const err = await repo.indexPack(chunks(pack), OPTS).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HashCollisionError);
    expect((err as HashCollisionError).code).toBe('ERR_HASH_COLLISION');
    expect((await keysUnder(db, TAG.chunk)).length).toBe(before);
    await engine.close();
  }, 120_000);

  it('sweeps chunk streams no marker names, past their grace, and leaves an ingest in progress alone', async () => {
    const { db, engine, repo, objects, marker } = await setup();
    const blob = new Uint8Array(randomBytes(2 * MiB));
    const oid = hashObject('blob', blob);
    const { entries, commit } = commitEntries([oid]);
    await repo.indexPack(chunks(writePackSync([encodePackEntry('blob', blob), ...entries])), OPTS);
    await repo.createBranch('main', commit);
    const live = decodeChunked((await marker(oid))!).stream;

    const stream = (secondsAgo: number, n: number) => {
      const s = new Uint8Array(8);
      new DataView(s.buffer).setUint32(0, Math.floor(Date.now() / 1000) - secondsAgo);
      s[7] = n;
      return s;
    };
    const put = (s: Uint8Array, seq: number, value: Uint8Array) => ({ type: 'put' as const, key: chunkKey(chunkStreamPrefix(objects.repoId, s), seq), value });
    // A crash mid-write (chunks, no owner, no marker), a losing concurrent push (owner names a
    // blob whose marker names another stream), both two hours old; and a young one (a write
    // that may still be going on outside a counted write).
    const crashed = stream(7200, 1);
    const lost = stream(7200, 2);
    const young = stream(10, 3);
    await objects.kv.batch([
      put(crashed, 0, new Uint8Array(100)),
      put(crashed, 1, new Uint8Array(100)),
      put(lost, 0, new Uint8Array(100)),
      put(lost, OWNER_SEQ, oidToBytes(oid)),
      put(young, 0, new Uint8Array(100)),
    ]);

    // An ingest in progress: its blob's chunks written, the rest of its pack not yet sent.
    const blob2 = new Uint8Array(randomBytes(2 * MiB));
    const oid2 = hashObject('blob', blob2);
    const c2 = commitEntries([oid2]);
    const entry2 = encodePackEntry('blob', blob2);
    const pack2 = writePackSync([entry2, ...c2.entries]);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const blobEnd = 12 + entry2.length + 10; // the blob's entry and a few bytes of the next
    const stalled = (async function* () {
      yield* chunks(pack2.subarray(0, blobEnd));
      await gate;
      yield pack2.subarray(blobEnd);
    })();
    const chunksBefore = (await keysUnder(db, TAG.chunk)).length;
    const ingest = repo.indexPack(stalled, { ...OPTS, worker: 'inline' });
    while ((await keysUnder(db, TAG.chunk)).length < chunksBefore + 2) await new Promise((r) => setTimeout(r, 20));

    await markSweepNeeded(objects.kv, objects.repoId);
    // The ingest holds the gate: nothing is removed.
    expect(await repo.sweep({ waitMs: 50 })).toEqual({ refs: 0, objects: 0, busy: true });
    release();
    await ingest;
    expect(equal((await repo.readObject(oid2)).body, blob2)).toBe(true);
    await repo.createBranch('two', c2.commit);

    await markSweepNeeded(objects.kv, objects.repoId);
    await repo.sweep({ waitMs: 5000 });
    const left = new Set((await keysUnder(db, TAG.chunk)).map((k) => Buffer.from(k.subarray(5, 13)).toString('hex')));
    const hex = (s: Uint8Array) => Buffer.from(s).toString('hex');
    expect(left.has(hex(crashed))).toBe(false);
    expect(left.has(hex(lost))).toBe(false);
    expect(left.has(hex(young))).toBe(true);
    expect(left.has(hex(live))).toBe(true);
    expect(left.has(hex(decodeChunked((await marker(oid2))!).stream))).toBe(true);
    expect(equal((await repo.readObject(oid)).body, blob)).toBe(true);
    expect(equal((await repo.readObject(oid2)).body, blob2)).toBe(true);
    await engine.close();
  }, 120_000);
});
